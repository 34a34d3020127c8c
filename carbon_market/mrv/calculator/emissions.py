"""Emission calculation: CO2 and co-pollutants of source streams, in exact ``Decimal``.

Pure: no database, no web: values in, values out.

Formulas (GB/T 32150-2015 and the national sector accounting guides), per stream, with the
quantity first converted to the base unit of its dimension
(:mod:`carbon_market.mrv.calculator.units`):

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

Input validation (:mod:`carbon_market.mrv.calculator.streams`) collects every error, each naming its
place (``streams[1].unit``), rather than stopping at the first; its names are part of this
module's interface too, so callers need only ``calc``.
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
from types import MappingProxyType
from typing import Any

from carbon_market.mrv.calculator.factor_sets import (
    POLLUTANTS,
    ZERO_POLLUTANTS,
    FactorLibrary,
    FactorSet,
    PollutantFactors,
)
from carbon_market.mrv.calculator.streams import (
    CODE_KEY,
    COMMON_KEYS,
    IGNORED_KEYS,
    MAX_DIGITS,
    MAX_VALUE,
    OVERRIDES,
    CalculationInputError,
    InputError,
    Request,
    Stream,
    StreamKind,
    parse_request,
    validate,
)
from carbon_market.mrv.calculator.units import EXACT

__all__ = [
    "CODE_KEY",
    "COMMON_KEYS",
    "IGNORED_KEYS",
    "MAX_DIGITS",
    "MAX_VALUE",
    "OVERRIDES",
    "CalculationInputError",
    "InputError",
    "Request",
    "Result",
    "Stream",
    "StreamKind",
    "StreamResult",
    "calculate",
    "calculate_document",
    "obligation",
    "parse_request",
    "result_as_json",
    "state_co2",
    "state_kg",
    "validate",
]

#: Decimal places of a stated tonne of CO2 (1 g) and of a stated kg of pollutant (1 g).
CO2_PLACES = 6
KG_PLACES = 3

ZERO = Decimal("0")
CO2_PER_C = (Decimal("44"), Decimal("12"))  # molar masses of CO2 and C


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
