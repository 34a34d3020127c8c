"""Units of activity data and exact conversions between units of one physical dimension.

Pure: no database, no web: values in, values out.

Every quantity is converted to the *base unit* of its dimension before a factor is applied:
tonnes (``t``) for mass, ``10^4 Nm3`` for gas volume (the unit of GB/T 32150's gas NCVs),
``MWh`` for electricity and ``GJ`` for heat. Conversion factors are powers of ten, so a
conversion is an exact ``Decimal`` multiplication. A unit of another dimension than the fuel or
stream needs (``Nm3`` of raw coal, ``GJ`` of electricity) is an error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum

#: A context in which any operation that would round raises ``Inexact`` instead: conversions
#: and the products of the formulas are exact or they fail loudly, never silently rounded.
#: Its precision holds the widest product the calculator forms from accepted input: a fuel's
#: quantity × NCV × carbon content × oxidation rate × 44, each value of at most 30
#: significant digits (``streams.MAX_DIGITS``), is at most 4 × 30 + 2 = 122 digits.
EXACT = Context(prec=130, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])


class Dimension(StrEnum):
    MASS = "mass"
    GAS_VOLUME = "gas_volume"
    ELECTRICITY = "electricity"
    HEAT = "heat"


@dataclass(frozen=True)
class Unit:
    """A unit: its name as written in input files, its dimension, and how many base units one
    of it is."""

    name: str
    dimension: Dimension
    in_base: Decimal


#: The base unit of each dimension: factor sets state their factors per these units.
BASE_UNITS: dict[Dimension, str] = {
    Dimension.MASS: "t",
    Dimension.GAS_VOLUME: "10^4 Nm3",
    Dimension.ELECTRICITY: "MWh",
    Dimension.HEAT: "GJ",
}

UNITS: dict[str, Unit] = {
    u.name: u
    for u in (
        Unit("t", Dimension.MASS, Decimal("1")),
        Unit("kt", Dimension.MASS, Decimal("1000")),
        Unit("Nm3", Dimension.GAS_VOLUME, Decimal("0.0001")),
        Unit("10^4 Nm3", Dimension.GAS_VOLUME, Decimal("1")),
        Unit("kWh", Dimension.ELECTRICITY, Decimal("0.001")),
        Unit("MWh", Dimension.ELECTRICITY, Decimal("1")),
        Unit("GWh", Dimension.ELECTRICITY, Decimal("1000")),
        Unit("GJ", Dimension.HEAT, Decimal("1")),
        Unit("TJ", Dimension.HEAT, Decimal("1000")),
    )
}


class UnitError(ValueError):
    """An unknown unit, or a unit of the wrong dimension."""


def get_unit(name: str) -> Unit:
    try:
        return UNITS[name]
    except KeyError:
        known = ", ".join(UNITS)
        raise UnitError(f"unknown unit {name!r} (known: {known})") from None


def units_of(dimension: Dimension) -> list[str]:
    return [u.name for u in UNITS.values() if u.dimension is dimension]


def require_dimension(name: str, dimension: Dimension, what: str) -> Unit:
    """The unit ``name``, which must measure ``dimension``; ``what`` names the fuel or stream
    kind for the message (``"fuel raw_coal"``, ``"an electricity stream"``)."""
    unit = get_unit(name)
    if unit.dimension is not dimension:
        fits = ", ".join(units_of(dimension))
        raise UnitError(f"{name!r} does not fit {what} (a {dimension.value}: {fits})")
    return unit


def to_base(quantity: Decimal, unit_name: str) -> Decimal:
    """``quantity`` of ``unit_name`` in the base unit of its dimension, exactly."""
    in_base = get_unit(unit_name).in_base
    with localcontext(EXACT):
        return quantity * in_base


def convert(quantity: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``quantity`` of ``from_unit`` expressed in ``to_unit`` (same dimension), exactly."""
    source = get_unit(from_unit)
    target = get_unit(to_unit)
    if source.dimension is not target.dimension:
        raise UnitError(
            f"cannot convert {from_unit!r} ({source.dimension.value}) "
            f"to {to_unit!r} ({target.dimension.value})"
        )
    # Both factors are powers of ten, so the division is exact.
    with localcontext(EXACT):
        return quantity * source.in_base / target.in_base
