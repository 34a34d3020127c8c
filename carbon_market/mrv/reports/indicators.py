"""Indicators derived from a report's figures: intensities and the monthly CO2 series.

Pure functions over the stored figures, so the API, the compliance forecast and the
analytics read the same numbers.

Rounding: an intensity is a quotient, so it cannot always be exact; it is stated to
``INTENSITY_PLACES`` (6) decimal places, half up (四舍五入), computed at 100 significant
digits first. A monthly figure is an exact sum of the stated stream figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any

from carbon_market.mrv.calculator.emissions import ROUNDING
from carbon_market.mrv.calculator.units import EXACT
from carbon_market.mrv.reports.output import Output

INTENSITY_PLACES = 6


def per(co2_t: Decimal, denominator: Decimal | None) -> Decimal | None:
    """``co2_t ÷ denominator`` stated to six places, half up; None without a denominator."""
    if denominator is None:
        return None
    if denominator <= 0:
        raise ValueError("an intensity denominator must be positive")
    with localcontext(ROUNDING):
        quotient = co2_t / denominator
    return quotient.quantize(Decimal(1).scaleb(-INTENSITY_PLACES), context=ROUNDING)


def intensity(co2_t: Decimal, output: Output, *, basis: str) -> dict[str, Any] | None:
    """The intensity document of a report (decimals as strings), None without any output.

    ``basis`` says which CO2 figure ``co2_t`` is (``reported`` or ``verified``).
    """
    if output.quantity is None and output.value_10k_cny is None:
        return None
    by_output = per(co2_t, output.quantity)
    by_value = per(co2_t, output.value_10k_cny)
    return {
        "basis": basis,
        "co2_t_per_output_unit": None if by_output is None else str(by_output),
        "output_unit": output.unit,
        "co2_t_per_10k_cny": None if by_value is None else str(by_value),
    }


def monthly_co2(
    months: Sequence[int | None], breakdown_streams: Sequence[Mapping[str, Any]]
) -> tuple[dict[int, Decimal], Decimal]:
    """CO2 by month (only months that have streams) and the CO2 of streams filed for the year
    as a whole. ``months[i]`` is the month of the i-th stream of ``breakdown_streams``."""
    if len(months) != len(breakdown_streams):
        raise ValueError("one month (or None) per stream")
    by_month: dict[int, Decimal] = {}
    annual = Decimal(0)
    with localcontext(EXACT):
        for month, stream in zip(months, breakdown_streams, strict=True):
            co2 = Decimal(str(stream["co2_t"]))
            if month is None:
                annual += co2
            else:
                by_month[month] = by_month.get(month, Decimal(0)) + co2
    return dict(sorted(by_month.items())), annual


def monthly_document(
    months: Sequence[int | None], breakdown_streams: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``monthly`` member of a report response: decimals as strings."""
    by_month, annual = monthly_co2(months, breakdown_streams)
    return {
        "months": [{"month": m, "co2_t": str(v)} for m, v in by_month.items()],
        "annual_co2_t": str(annual),
    }
