"""Calculator input: the source streams of a calculation, parsed and checked (pure: no database).

A document in the calculator's format (``carbon-market mrv calc``, report streams) becomes a
:class:`Request` of validated :class:`Stream` s with their quantities in base units, or every
problem in it at once, each naming its place (``streams[1].unit``). The calculation itself is
:mod:`carbon_market.mrv.calculator.emissions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.mrv.calculator.factor_sets import (
    POLLUTANTS,
    FactorLibrary,
    FactorSet,
    UnknownFactorSet,
    default_library,
)
from carbon_market.mrv.calculator.units import (
    BASE_UNITS,
    Dimension,
    UnitError,
    get_unit,
    require_dimension,
    to_base,
)

#: Largest accepted quantity or factor (exclusive) and most significant digits (and decimal
#: places), so that every product stays exact within the ``EXACT`` context.
MAX_VALUE = Decimal("1E15")
MAX_DIGITS = 30
ZERO = Decimal("0")


class StreamKind(StrEnum):
    FUEL = "fuel"
    ELECTRICITY = "electricity"
    HEAT = "heat"
    PROCESS = "process"


#: The override names each kind accepts in ``factors``.
OVERRIDES: dict[StreamKind, tuple[str, ...]] = {
    StreamKind.FUEL: ("ncv", "carbon_content", "oxidation_rate"),
    StreamKind.ELECTRICITY: ("grid",),
    StreamKind.HEAT: ("heat",),
    StreamKind.PROCESS: ("factor",),
}
#: The key naming what a stream burns or processes, per kind.
CODE_KEY: dict[StreamKind, str | None] = {
    StreamKind.FUEL: "fuel",
    StreamKind.ELECTRICITY: None,
    StreamKind.HEAT: None,
    StreamKind.PROCESS: "activity",
}
#: Keys a report stream may carry that the calculation ignores (issue 5, item 5).
IGNORED_KEYS = frozenset({"facility", "month", "evidence"})
COMMON_KEYS = frozenset({"kind", "quantity", "unit", "factors", "pollutants"})


@dataclass(frozen=True)
class InputError:
    """One problem with the input: where (``streams[1].unit``, ``year``) and why."""

    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"

    def as_field_error(self) -> FieldError:
        pointer = "#/" + self.path.replace("[", "/").replace("]", "").replace(".", "/")
        return FieldError(pointer=pointer, detail=self.detail)


class CalculationInputError(ValidationFailed):
    """Bad calculation input; ``detail`` lists every error on one line."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__(
            "; ".join(str(e) for e in errors), errors=[e.as_field_error() for e in errors]
        )
        self.input_errors = list(errors)


@dataclass(frozen=True)
class Stream:
    """A validated source stream. ``quantity`` is in the base unit of its dimension."""

    kind: StreamKind
    quantity: Decimal
    unit: str
    code: str | None
    factors: Mapping[str, Decimal]
    pollutants: Mapping[str, Decimal]


@dataclass(frozen=True)
class Request:
    year: int
    factor_set: FactorSet
    streams: tuple[Stream, ...]


# --- validation ----------------------------------------------------------------------------


def _number(value: object, path: str, errors: list[InputError]) -> Decimal | None:
    """A non-negative decimal from a JSON string, integer or ``Decimal``; floats are refused."""
    if isinstance(value, bool | float):
        errors.append(InputError(path, f'{value!r} must be a decimal string such as "12.5"'))
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            errors.append(InputError(path, f"{value!r} is not a number"))
            return None
    elif isinstance(value, Decimal):
        number = value
    else:
        errors.append(InputError(path, f"{value!r} is not a number"))
        return None
    if not number.is_finite():
        errors.append(InputError(path, f"{value!r} is not a finite number"))
        return None
    if number < 0:
        errors.append(InputError(path, f"{value} is negative"))
        return None
    shape = number.as_tuple()
    places = -shape.exponent if isinstance(shape.exponent, int) else 0
    if number >= MAX_VALUE or len(shape.digits) > MAX_DIGITS or places > MAX_DIGITS:
        detail = "below 1E15, at most 30 significant digits and 30 decimal places"
        errors.append(InputError(path, f"{value} is out of range ({detail})"))
        return None
    return number + ZERO if number == 0 else number  # -0 → 0


def _resolve_set(
    document: Mapping[str, Any], library: FactorLibrary, errors: list[InputError]
) -> tuple[int | None, FactorSet | None]:
    year = document.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        errors.append(InputError("year", f"{year!r} is not a year (an integer such as 2025)"))
        year = None
    name = document.get("factor_set")
    if name is not None and not isinstance(name, str):
        errors.append(InputError("factor_set", f"{name!r} is not a factor set name"))
        return year, None
    factor_set: FactorSet | None = None
    try:
        if name is not None:
            factor_set = library.by_name(name)
        elif year is not None:
            factor_set = library.for_year(year)
    except UnknownFactorSet as exc:
        errors.append(InputError("factor_set" if name is not None else "year", str(exc)))
        return year, None
    if factor_set is not None and year is not None and not factor_set.applies_to(year):
        errors.append(
            InputError(
                "year",
                f"factor set {factor_set.name} applies to "
                f"{factor_set.first_year}-{factor_set.last_year}, not {year}",
            )
        )
    return year, factor_set


def _decimals(
    value: object, allowed: tuple[str, ...], path: str, errors: list[InputError]
) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(InputError(path, "must be an object of name: decimal string"))
        return {}
    out: dict[str, Decimal] = {}
    for key, raw in value.items():
        if key not in allowed:
            errors.append(InputError(f"{path}.{key}", f"unknown; expected {', '.join(allowed)}"))
            continue
        number = _number(raw, f"{path}.{key}", errors)
        if number is not None:
            out[key] = number
    return out


def _stream(
    raw: object, index: int, factor_set: FactorSet | None, errors: list[InputError]
) -> Stream | None:
    at = f"streams[{index}]"
    if not isinstance(raw, Mapping):
        errors.append(InputError(at, "must be an object"))
        return None
    before = len(errors)
    try:
        kind = StreamKind(str(raw.get("kind")))
    except ValueError:
        kinds = ", ".join(k.value for k in StreamKind)
        errors.append(InputError(f"{at}.kind", f"{raw.get('kind')!r} is not one of {kinds}"))
        return None
    code_key = CODE_KEY[kind]
    allowed_keys = COMMON_KEYS | IGNORED_KEYS | ({code_key} if code_key else set())
    for key in raw:
        if key not in allowed_keys:
            errors.append(InputError(f"{at}.{key}", f"not a field of a {kind.value} stream"))

    quantity = None
    if "quantity" not in raw:
        errors.append(InputError(f"{at}.quantity", "required"))
    else:
        quantity = _number(raw["quantity"], f"{at}.quantity", errors)

    code: str | None = None
    dimension: Dimension | None = None
    what = f"a {kind.value} stream"
    if code_key is not None:
        code_value = raw.get(code_key)
        if not isinstance(code_value, str) or not code_value:
            errors.append(InputError(f"{at}.{code_key}", f"required: the {code_key} code"))
        else:
            code = code_value
            if factor_set is not None:
                table = factor_set.fuels if kind is StreamKind.FUEL else factor_set.processes
                known = table.get(code)
                if known is None:
                    errors.append(
                        InputError(
                            f"{at}.{code_key}",
                            f"unknown {code_key} {code!r} in factor set {factor_set.name} "
                            f"(known: {', '.join(sorted(table))})",
                        )
                    )
                else:
                    dimension = known.dimension
                    what = f"{code_key} {code}"
    elif kind is StreamKind.ELECTRICITY:
        dimension, what = Dimension.ELECTRICITY, "an electricity stream"
    else:
        dimension, what = Dimension.HEAT, "a heat stream"

    unit = raw.get("unit")
    if not isinstance(unit, str):
        errors.append(InputError(f"{at}.unit", 'required: a unit such as "t" or "MWh"'))
    else:
        try:
            if dimension is None:
                get_unit(unit)
            else:
                require_dimension(unit, dimension, what)
        except UnitError as exc:
            errors.append(InputError(f"{at}.unit", str(exc)))

    factors = _decimals(raw.get("factors"), OVERRIDES[kind], f"{at}.factors", errors)
    rate = factors.get("oxidation_rate")
    if rate is not None and rate > 1:
        errors.append(InputError(f"{at}.factors.oxidation_rate", f"{rate} is above 1"))
    pollutants = _decimals(raw.get("pollutants"), POLLUTANTS, f"{at}.pollutants", errors)

    if len(errors) > before or quantity is None or not isinstance(unit, str):
        return None
    base = to_base(quantity, unit)
    return Stream(
        kind=kind,
        quantity=base,
        unit=BASE_UNITS[get_unit(unit).dimension],
        code=code,
        factors=MappingProxyType(factors),
        pollutants=MappingProxyType(pollutants),
    )


def validate(document: object, library: FactorLibrary | None = None) -> list[InputError]:
    """Every error in a calculation input document (empty when it is good)."""
    try:
        parse_request(document, library)
    except CalculationInputError as exc:
        return exc.input_errors
    return []


def parse_request(document: object, library: FactorLibrary | None = None) -> Request:
    """A validated :class:`Request`, or :class:`CalculationInputError` with every error."""
    library = library or default_library()
    errors: list[InputError] = []
    if not isinstance(document, Mapping):
        raise CalculationInputError([InputError("$", "the input must be a JSON object")])
    for key in document:
        if key not in {"year", "factor_set", "streams"}:
            errors.append(InputError(str(key), "unknown; expected year, factor_set, streams"))
    year, factor_set = _resolve_set(document, library, errors)
    raw_streams = document.get("streams")
    streams: list[Stream | None] = []
    if not isinstance(raw_streams, list) or not raw_streams:
        errors.append(InputError("streams", "required: a non-empty list of streams"))
    else:
        streams = [_stream(raw, i, factor_set, errors) for i, raw in enumerate(raw_streams)]
    if errors or year is None or factor_set is None:  # no errors implies a year and a set
        raise CalculationInputError(errors)
    return Request(year, factor_set, tuple(s for s in streams if s is not None))
