"""Emission factor sets: loaded from data files into frozen dataclasses, found by name or year.

Pure: no database, no web: values in, values out.

A factor set has a name, a jurisdiction and the years it applies to (``first_year`` to
``last_year``, both included). It holds, per fuel, the net calorific value (NCV, GJ per the
fuel's unit), the carbon content per unit of heat (tC/GJ), the oxidation rate (a fraction) and
the co-pollutant factors (kg of SO2, NOx, PM and VOCs per the fuel's unit); the grid electricity
factor (tCO2/MWh); the purchased-heat factor (tCO2/GJ); and process factors (tCO2 per unit of
activity).

File format (CSV, UTF-8, one value a row, so that every value carries its own source)::

    set,jurisdiction,first_year,last_year,category,code,parameter,value,unit,source

========== ================== ============================== ==========================
category   code               parameter                      unit
========== ================== ============================== ==========================
fuel       fuel code          ncv                            ``GJ/<fuel unit>``
fuel       fuel code          carbon_content                 ``tC/GJ``
fuel       fuel code          oxidation_rate                 ``fraction``
pollutant  fuel code          so2, nox, pm, vocs             ``kg/<fuel unit>``
electricity ``grid``          grid                           ``tCO2/MWh``
heat       ``purchased_heat`` heat                           ``tCO2/GJ``
process    activity code      factor                         ``tCO2/<activity unit>``
========== ================== ============================== ==========================

The fuel unit is a base unit of :mod:`carbon_market.mrv.calculator.units` (``t`` or ``10^4 Nm3``);
it fixes
the fuel's physical dimension. A file may hold several sets; a set's rows must agree on its
jurisdiction and years. Every row must cite a source. Loading checks all of this and refuses
the file on the first problem (it is shipped data, not user input).

The packaged default is ``data/cn-default.csv``; later increments store sets in the database
and import or export them in this format.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from types import MappingProxyType

from carbon_market.mrv.calculator.units import BASE_UNITS, UNITS, Dimension

POLLUTANTS = ("so2", "nox", "pm", "vocs")
FUEL_PARAMETERS = ("ncv", "carbon_content", "oxidation_rate")
COLUMNS = (
    "set",
    "jurisdiction",
    "first_year",
    "last_year",
    "category",
    "code",
    "parameter",
    "value",
    "unit",
    "source",
)
DEFAULT_FILES = ("cn-default.csv",)


class FactorDataError(ValueError):
    """A factor data file that does not hold complete, well-formed factor sets."""


class UnknownFactorSet(LookupError):
    """No factor set of that name, or none that applies to the year."""


@dataclass(frozen=True)
class PollutantFactors:
    """kg of each pollutant per unit of activity."""

    so2: Decimal
    nox: Decimal
    pm: Decimal
    vocs: Decimal

    def as_dict(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in POLLUTANTS}


ZERO_POLLUTANTS = PollutantFactors(Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0"))


@dataclass(frozen=True)
class FuelFactors:
    code: str
    #: The base unit the factors refer to (``t`` or ``10^4 Nm3``); it fixes the dimension.
    unit: str
    ncv: Decimal  # GJ per ``unit``
    carbon_content: Decimal  # tC/GJ
    oxidation_rate: Decimal  # fraction
    pollutants: PollutantFactors  # kg per ``unit``

    @property
    def dimension(self) -> Dimension:
        return UNITS[self.unit].dimension


@dataclass(frozen=True)
class ProcessFactor:
    code: str
    unit: str
    factor: Decimal  # tCO2 per ``unit``

    @property
    def dimension(self) -> Dimension:
        return UNITS[self.unit].dimension


@dataclass(frozen=True)
class FactorSet:
    name: str
    jurisdiction: str
    first_year: int
    last_year: int
    fuels: Mapping[str, FuelFactors]
    grid: Decimal  # tCO2/MWh
    heat: Decimal  # tCO2/GJ
    processes: Mapping[str, ProcessFactor]
    #: The cited source of every value, keyed by (category, code, parameter).
    sources: Mapping[tuple[str, str, str], str] = field(repr=False)

    def applies_to(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


@dataclass(frozen=True)
class FactorLibrary:
    """Factor sets in priority order: the default set for a year is the first that applies."""

    sets: tuple[FactorSet, ...]

    def names(self) -> list[str]:
        return [s.name for s in self.sets]

    def by_name(self, name: str) -> FactorSet:
        for factor_set in self.sets:
            if factor_set.name == name:
                return factor_set
        raise UnknownFactorSet(f"unknown factor set {name!r} (known: {', '.join(self.names())})")

    def for_year(self, year: int) -> FactorSet:
        for factor_set in self.sets:
            if factor_set.applies_to(year):
                return factor_set
        raise UnknownFactorSet(f"no factor set applies to {year}")


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FactorDataError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise FactorDataError(f"{where}: {text!r} is not a finite, non-negative number")
    return value


def _year(text: str, where: str) -> int:
    if not text.isdigit():
        raise FactorDataError(f"{where}: {text!r} is not a year")
    return int(text)


def _per_unit(unit: str, prefix: str, where: str) -> str:
    """The base unit in ``<prefix>/<unit>``."""
    head, sep, tail = unit.partition("/")
    if head != prefix or not sep or tail not in UNITS or BASE_UNITS[UNITS[tail].dimension] != tail:
        raise FactorDataError(f"{where}: unit {unit!r} is not {prefix}/<a base unit>")
    return tail


@dataclass
class _Draft:
    name: str
    jurisdiction: str
    first_year: int
    last_year: int
    values: dict[tuple[str, str, str], tuple[Decimal, str]] = field(default_factory=dict)
    sources: dict[tuple[str, str, str], str] = field(default_factory=dict)


def _expect_unit(unit: str, expected: str, where: str) -> None:
    if unit != expected:
        raise FactorDataError(f"{where}: unit {unit!r} should be {expected!r}")


def _build(draft: _Draft, origin: str) -> FactorSet:
    values = draft.values
    where = f"{origin}: set {draft.name}"
    fuel_codes = sorted({code for cat, code, _ in values if cat == "fuel"})
    fuels: dict[str, FuelFactors] = {}
    for code in fuel_codes:
        missing = [p for p in FUEL_PARAMETERS if ("fuel", code, p) not in values]
        missing += [p for p in POLLUTANTS if ("pollutant", code, p) not in values]
        if missing:
            raise FactorDataError(f"{where}: fuel {code} lacks {', '.join(missing)}")
        ncv, ncv_unit = values[("fuel", code, "ncv")]
        unit = _per_unit(ncv_unit, "GJ", f"{where}: fuel {code} ncv")
        _expect_unit(values[("fuel", code, "carbon_content")][1], "tC/GJ", f"{where}: {code}")
        rate, rate_unit = values[("fuel", code, "oxidation_rate")]
        _expect_unit(rate_unit, "fraction", f"{where}: {code} oxidation_rate")
        if rate > 1:
            raise FactorDataError(f"{where}: {code} oxidation_rate {rate} is above 1")
        pollutants: dict[str, Decimal] = {}
        for name in POLLUTANTS:
            value, pollutant_unit = values[("pollutant", code, name)]
            _expect_unit(pollutant_unit, f"kg/{unit}", f"{where}: {code} {name}")
            pollutants[name] = value
        fuels[code] = FuelFactors(
            code=code,
            unit=unit,
            ncv=ncv,
            carbon_content=values[("fuel", code, "carbon_content")][0],
            oxidation_rate=rate,
            pollutants=PollutantFactors(**pollutants),
        )
    strays = sorted(
        f"{cat} {code} {parameter}"
        for cat, code, parameter in values
        if (cat == "pollutant" and code not in fuels)
        or (cat == "pollutant" and parameter not in POLLUTANTS)
        or (cat == "fuel" and parameter not in FUEL_PARAMETERS)
        or (cat == "electricity" and (code, parameter) != ("grid", "grid"))
        or (cat == "heat" and (code, parameter) != ("purchased_heat", "heat"))
        or (cat == "process" and parameter != "factor")
        or cat not in {"fuel", "pollutant", "electricity", "heat", "process"}
    )
    if strays:
        raise FactorDataError(f"{where}: unexpected rows: {'; '.join(strays)}")
    for key, unit in ((("electricity", "grid", "grid"), "tCO2/MWh"),
                      (("heat", "purchased_heat", "heat"), "tCO2/GJ")):  # fmt: skip
        if key not in values:
            raise FactorDataError(f"{where}: no {key[0]} factor")
        _expect_unit(values[key][1], unit, f"{where}: {key[0]}")
    processes = {
        code: ProcessFactor(code, _per_unit(unit, "tCO2", f"{where}: process {code}"), value)
        for (cat, code, _), (value, unit) in values.items()
        if cat == "process"
    }
    return FactorSet(
        name=draft.name,
        jurisdiction=draft.jurisdiction,
        first_year=draft.first_year,
        last_year=draft.last_year,
        fuels=MappingProxyType(fuels),
        grid=values[("electricity", "grid", "grid")][0],
        heat=values[("heat", "purchased_heat", "heat")][0],
        processes=MappingProxyType(processes),
        sources=MappingProxyType(dict(draft.sources)),
    )


def parse_factor_sets(text: str, origin: str = "<text>") -> tuple[FactorSet, ...]:
    """The factor sets in CSV ``text``, in order of first appearance."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise FactorDataError(f"{origin}: columns must be {', '.join(COLUMNS)}")
    drafts: dict[str, _Draft] = {}
    for row in reader:
        where = f"{origin} line {reader.line_num}"
        if None in row or any(row[c] is None for c in COLUMNS):
            raise FactorDataError(f"{where}: expected {len(COLUMNS)} columns")
        name = row["set"].strip()
        first, last = _year(row["first_year"], where), _year(row["last_year"], where)
        if not name or first > last:
            raise FactorDataError(f"{where}: a set needs a name and first_year <= last_year")
        draft = drafts.setdefault(name, _Draft(name, row["jurisdiction"], first, last))
        if (draft.jurisdiction, draft.first_year, draft.last_year) != (
            row["jurisdiction"],
            first,
            last,
        ):
            raise FactorDataError(f"{where}: set {name} changes jurisdiction or years")
        key = (row["category"], row["code"], row["parameter"])
        if key in draft.values:
            raise FactorDataError(f"{where}: {' '.join(key)} given twice")
        if not row["source"].strip():
            raise FactorDataError(f"{where}: {' '.join(key)} cites no source")
        draft.values[key] = (_decimal(row["value"], where), row["unit"])
        draft.sources[key] = row["source"]
    if not drafts:
        raise FactorDataError(f"{origin}: no factor sets")
    return tuple(_build(draft, origin) for draft in drafts.values())


def load_packaged(files: Iterable[str] = DEFAULT_FILES) -> FactorLibrary:
    """The factor sets shipped in ``carbon_market/mrv/data``, in the order of ``files``."""
    sets: list[FactorSet] = []
    for name in files:
        text = resources.files("carbon_market.mrv").joinpath("data", name).read_text("utf-8")
        sets.extend(parse_factor_sets(text, origin=name))
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise FactorDataError(f"factor set names repeat across files: {names}")
    return FactorLibrary(tuple(sets))


@functools.cache
def default_library() -> FactorLibrary:
    """The packaged factor sets, loaded once."""
    return load_packaged()
