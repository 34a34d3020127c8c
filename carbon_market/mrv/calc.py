"""Emission calculation: CO2 and co-pollutants of source streams, in exact ``Decimal``.

Formulas (GB/T 32150-2015 and the national sector accounting guides), per stream, with the
quantity first converted to the base unit of its dimension (:mod:`carbon_market.mrv.units`):

* fuel combustion: ``CO2 [t] = consumption × NCV [GJ/unit] × carbon content [tC/GJ]
  × oxidation rate × 44/12``;
* purchased electricity: ``CO2 [t] = (MWh − green power claimed [MWh]) × grid [tCO2/MWh]``,
  where the claim (zero until the finance issue supplies claims) is taken from the electricity
  streams in input order and never takes a stream below zero MWh;
* purchased heat: ``CO2 [t] = GJ × heat factor [tCO2/GJ]``;
* process: ``CO2 [t] = activity × factor [tCO2/unit]``;
* co-pollutants, any stream: ``kg = quantity × kg per unit`` for SO2, NOx, PM and VOCs (fuels
  default to their set's factors; other streams to zero unless the stream gives factors).

A stream's ``factors`` override the set's values for that stream only, in the set's units: NCV
in GJ per the fuel's base unit (t, or 10^4 Nm3 for gases), carbon content in tC/GJ, oxidation
rate as a fraction, grid in tCO2/MWh, heat in tCO2/GJ, a process factor in tCO2 per the
activity's base unit; ``pollutants`` in kg per the same base unit.

Rounding rule. Every multiplication runs in a context that traps ``Inexact``, so it is exact
or it fails. The one inexact step is the division by 12 in 44/12: each stream's CO2 is
therefore stated to ``CO2_PLACES`` = 6 decimal places (1 g), rounded half up (四舍五入), and,
for uniformity, so is every other stream's CO2 (those are exact products and are only
rounded when they carry more than 6 places). Pollutants are stated in kg to ``KG_PLACES`` = 3
places (1 g), half up. The totals are exact sums of the stated stream values, so the breakdown
always adds up to the total. ``co2_t`` is that total at full (6-place) precision; the
compliance obligation ``obligation_t`` is ``co2_t`` rounded **once**, half up, to whole tonnes
— never stream by stream.

Input validation collects every error, each naming its place (``streams[1].unit``), rather
than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from carbon_market.errors import FieldError, ValidationFailed
from carbon_market.mrv.factors import (
    POLLUTANTS,
    ZERO_POLLUTANTS,
    FactorLibrary,
    FactorSet,
    PollutantFactors,
    UnknownFactorSet,
    default_library,
)
from carbon_market.mrv.units import (
    BASE_UNITS,
    EXACT,
    Dimension,
    UnitError,
    get_unit,
    require_dimension,
    to_base,
)

#: Decimal places of a stated tonne of CO2 (1 g) and of a stated kg of pollutant (1 g).
CO2_PLACES = 6
KG_PLACES = 3
#: Largest accepted quantity or factor (exclusive) and most significant digits, so that every
#: product stays exact within the ``EXACT`` context.
MAX_VALUE = Decimal("1E15")
MAX_DIGITS = 30

ZERO = Decimal("0")
CO2_PER_C = (Decimal("44"), Decimal("12"))  # molar masses of CO2 and C


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


@dataclass(frozen=True)
class StreamResult:
    kind: StreamKind
    co2_t: Decimal
    pollutants_kg: PollutantFactors
    #: The factors applied, by override name, plus ``factor_set``, ``unit`` (the base unit the
    #: quantity and factors are in), ``quantity`` and ``overridden`` (names taken from the input).
    factors_used: Mapping[str, Any]


@dataclass(frozen=True)
class Result:
    year: int
    factor_set: str
    co2_t: Decimal
    obligation_t: int
    pollutants_kg: PollutantFactors
    streams: tuple[StreamResult, ...]


# --- rounding rules ------------------------------------------------------------------------


#: The context of the named rounding steps: wide enough for any accepted input, half up.
ROUNDING = Context(
    prec=EXACT.prec, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def state_co2(value: Decimal) -> Decimal:
    """A stream's CO2 as stated: ``CO2_PLACES`` places, half up."""
    return value.quantize(Decimal("1").scaleb(-CO2_PLACES), context=ROUNDING)


def state_kg(value: Decimal) -> Decimal:
    """A stream's pollutant mass as stated: ``KG_PLACES`` places, half up."""
    return value.quantize(Decimal("1").scaleb(-KG_PLACES), context=ROUNDING)


def obligation(co2_t: Decimal) -> int:
    """The compliance obligation: total CO2 rounded once, half up (四舍五入), to whole tonnes."""
    return int(co2_t.quantize(Decimal("1"), context=ROUNDING))


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
    if number >= MAX_VALUE or len(number.as_tuple().digits) > MAX_DIGITS:
        errors.append(InputError(path, f"{value} is out of range (below 1E15, at most 30 digits)"))
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


# --- calculation ---------------------------------------------------------------------------


def _pollutants(
    stream: Stream, defaults: PollutantFactors
) -> tuple[PollutantFactors, PollutantFactors]:
    """(factors used, kg) for a stream."""
    used = {name: stream.pollutants.get(name, getattr(defaults, name)) for name in POLLUTANTS}
    with localcontext(EXACT):
        products = {name: stream.quantity * used[name] for name in POLLUTANTS}
    kg = {name: state_kg(products[name]) for name in POLLUTANTS}
    return PollutantFactors(**used), PollutantFactors(**kg)


def _code(stream: Stream) -> str:
    if stream.code is None:  # parse_request never builds such a stream
        raise ValueError(f"a {stream.kind.value} stream needs a code")
    return stream.code


def _fuel(stream: Stream, factor_set: FactorSet) -> tuple[Decimal, dict[str, Any]]:
    fuel = factor_set.fuels[_code(stream)]
    ncv = stream.factors.get("ncv", fuel.ncv)
    carbon = stream.factors.get("carbon_content", fuel.carbon_content)
    rate = stream.factors.get("oxidation_rate", fuel.oxidation_rate)
    with localcontext(EXACT):
        carbon_t = stream.quantity * ncv * carbon * rate
    numerator, denominator = CO2_PER_C
    # The one inexact step, ÷12, at 100 significant digits, then stated by the named rule.
    co2 = state_co2(ROUNDING.divide(ROUNDING.multiply(carbon_t, numerator), denominator))
    return co2, {"ncv": ncv, "carbon_content": carbon, "oxidation_rate": rate}


def _product(quantity: Decimal, factor: Decimal) -> Decimal:
    with localcontext(EXACT):
        product = quantity * factor
    return state_co2(product)


def calculate(request: Request, green_power_mwh: Decimal = ZERO) -> Result:
    """CO2 and pollutants of every stream, in input order, and their totals.

    ``green_power_mwh`` is the green power the enterprise has claimed for the year: it is
    deducted from the electricity streams in input order, none going below zero.
    """
    if green_power_mwh < 0:
        raise ValueError("green power claimed cannot be negative")
    factor_set = request.factor_set
    green_left = green_power_mwh
    results: list[StreamResult] = []
    for stream in request.streams:
        used: dict[str, Any] = {"factor_set": factor_set.name}
        defaults = ZERO_POLLUTANTS
        if stream.kind is StreamKind.FUEL:
            co2, factors = _fuel(stream, factor_set)
            used["fuel"] = _code(stream)
            defaults = factor_set.fuels[_code(stream)].pollutants
        elif stream.kind is StreamKind.ELECTRICITY:
            grid = stream.factors.get("grid", factor_set.grid)
            deducted = min(green_left, stream.quantity)
            green_left -= deducted
            with localcontext(EXACT):
                net = stream.quantity - deducted
            co2, factors = _product(net, grid), {"grid": grid}
            factors["green_power_mwh"] = deducted
        elif stream.kind is StreamKind.HEAT:
            heat = stream.factors.get("heat", factor_set.heat)
            co2, factors = _product(stream.quantity, heat), {"heat": heat}
        else:
            default = factor_set.processes[_code(stream)].factor
            factor = stream.factors.get("factor", default)
            co2, factors = _product(stream.quantity, factor), {"factor": factor}
            used["activity"] = _code(stream)
        pollutant_factors, kg = _pollutants(stream, defaults)
        used.update(factors)
        used["pollutants"] = pollutant_factors.as_dict()
        used["unit"] = stream.unit
        used["quantity"] = stream.quantity
        used["overridden"] = sorted([*stream.factors, *stream.pollutants])
        results.append(StreamResult(stream.kind, co2, kg, MappingProxyType(used)))
    with localcontext(EXACT):
        total = sum((r.co2_t for r in results), ZERO)
        totals = {
            name: sum((getattr(r.pollutants_kg, name) for r in results), ZERO)
            for name in POLLUTANTS
        }
    return Result(
        year=request.year,
        factor_set=factor_set.name,
        co2_t=total,
        obligation_t=obligation(total),
        pollutants_kg=PollutantFactors(**totals),
        streams=tuple(results),
    )


def calculate_document(
    document: object,
    library: FactorLibrary | None = None,
    green_power_mwh: Decimal = ZERO,
) -> Result:
    """Validate ``document`` (the calculator's input format) and calculate it."""
    return calculate(parse_request(document, library), green_power_mwh)


# --- output --------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def result_as_json(result: Result) -> dict[str, Any]:
    """The calculator's output document: decimals as strings, ``obligation_t`` an integer."""
    return {
        "co2_t": str(result.co2_t),
        "obligation_t": result.obligation_t,
        "pollutants_kg": _jsonable(result.pollutants_kg.as_dict()),
        "streams": [
            {
                "kind": s.kind.value,
                "co2_t": str(s.co2_t),
                "pollutants_kg": _jsonable(s.pollutants_kg.as_dict()),
                "factors_used": _jsonable(s.factors_used),
            }
            for s in result.streams
        ],
    }
