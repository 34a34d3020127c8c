"""Flags that point the verifier and the regulator at values worth a second look (issue 5).

A flag never refuses a report: an unusual value may be right (a new kiln, a coal of an
unusual rank). It is stored with the report, shown in its response and filterable, so that
review time goes where the risk is. Two kinds:

* ``fuel_range``: a factor the enterprise supplied for a fuel (NCV, carbon content,
  oxidation rate) outside that fuel's expected range. The ranges are data with their sources
  (``data/fuel-ranges.csv``); the factor set's own defaults are not checked, they are the
  regulator's.
* ``monthly_jump``: a month's activity for one series (facility, kind and fuel or activity)
  compared with its *reference*: the same month of the previous year when the enterprise's
  history has it (heating seasons make month-to-month comparison misleading), otherwise the
  mean of the three months before it. The month is flagged when it is more than ``ratio``
  times the reference or less than the reference divided by ``ratio``. Comparisons are
  cross-multiplied, so no division rounds: ``q × n > ratio × S`` or ``q × n × ratio < S``
  for ``n`` reference months summing to ``S``.

This module is pure: the service gathers the points and stores the flags.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from carbon_market.mrv.calculator.emissions import ROUNDING, StreamKind
from carbon_market.mrv.calculator.units import EXACT

FUEL_RANGE = "fuel_range"
MONTHLY_JUMP = "monthly_jump"
#: The factors of a fuel stream that have an expected range.
RANGED_FACTORS = ("ncv", "carbon_content", "oxidation_rate")
#: How many preceding months make the reference when last year's month is not known.
PRECEDING_MONTHS = 3


@dataclass(frozen=True)
class Flag:
    """One value worth a look: which stream, which field, the value and why."""

    code: str
    stream: int
    field: str
    value: Decimal
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "stream": self.stream,
            "pointer": f"#/streams/{self.stream}/{self.field}",
            "value": str(self.value),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FuelRange:
    fuel: str
    parameter: str
    low: Decimal
    high: Decimal
    unit: str
    source: str


def load_fuel_ranges(path: Path | None = None) -> dict[tuple[str, str], FuelRange]:
    """The expected ranges by ``(fuel, parameter)``, from ``path`` or the packaged file."""
    if path is None:
        text = (
            resources.files("carbon_market.mrv")
            .joinpath("data/fuel-ranges.csv")
            .read_text(encoding="utf-8")
        )
    else:
        text = path.read_text(encoding="utf-8")
    ranges: dict[tuple[str, str], FuelRange] = {}
    for row in csv.DictReader(text.splitlines()):
        found = FuelRange(
            fuel=row["fuel"],
            parameter=row["parameter"],
            low=Decimal(row["min"]),
            high=Decimal(row["max"]),
            unit=row["unit"],
            source=row["source"],
        )
        if found.low > found.high:
            raise ValueError(f"fuel range {found.fuel}/{found.parameter}: min above max")
        ranges[(found.fuel, found.parameter)] = found
    return ranges


@cache
def default_fuel_ranges() -> Mapping[tuple[str, str], FuelRange]:
    return load_fuel_ranges()


def range_flags(
    breakdown_streams: Sequence[Mapping[str, Any]],
    ranges: Mapping[tuple[str, str], FuelRange] | None = None,
) -> list[Flag]:
    """Flags for supplied fuel factors outside their fuel's expected range.

    ``breakdown_streams`` are the calculator's output streams (``result_as_json``), whose
    ``factors_used`` name the fuel, the factors applied and which were ``overridden``.
    """
    ranges = default_fuel_ranges() if ranges is None else ranges
    flags: list[Flag] = []
    for index, stream in enumerate(breakdown_streams):
        used = stream.get("factors_used", {})
        if stream.get("kind") != StreamKind.FUEL:
            continue
        for name in RANGED_FACTORS:
            expected = ranges.get((used.get("fuel", ""), name))
            if name not in used.get("overridden", ()) or expected is None:
                continue
            value = Decimal(str(used[name]))
            if not expected.low <= value <= expected.high:
                detail = (
                    f"{name} {value} {expected.unit} is outside the expected range "
                    f"{expected.low}–{expected.high} for {expected.fuel}"
                )
                flags.append(Flag(FUEL_RANGE, index, f"factors/{name}", value, detail))
    return flags


class Series(NamedTuple):
    """What a monthly quantity is of: one facility's one fuel, activity or purchase."""

    facility: int | None
    kind: str
    code: str | None


@dataclass(frozen=True)
class MonthlyPoint:
    """A monthly quantity in the base unit of its dimension; ``stream`` is its index in the
    report under review, None for history."""

    series: Series
    year: int
    month: int
    quantity: Decimal
    stream: int | None = None


def _month_before(year: int, month: int, back: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - back
    return index // 12, index % 12 + 1


def _totals(points: Iterable[MonthlyPoint]) -> dict[tuple[Series, int, int], Decimal]:
    totals: dict[tuple[Series, int, int], Decimal] = {}
    with localcontext(EXACT):
        for p in points:
            key = (p.series, p.year, p.month)
            totals[key] = totals.get(key, Decimal(0)) + p.quantity
    return totals


def _reference(
    totals: Mapping[tuple[Series, int, int], Decimal], series: Series, year: int, month: int
) -> tuple[Decimal, int, str] | None:
    """The reference ``(sum, months, description)`` of one month, or None without history."""
    last_year = totals.get((series, year - 1, month))
    if last_year is not None:
        return last_year, 1, f"{year - 1}-{month:02d}"
    before = [_month_before(year, month, back) for back in range(1, PRECEDING_MONTHS + 1)]
    values = [totals.get((series, y, m)) for y, m in before]
    if any(v is None for v in values):
        return None
    with localcontext(EXACT):
        total = sum((v for v in values if v is not None), Decimal(0))
    first, last = before[-1], before[0]
    return total, PRECEDING_MONTHS, f"mean of {first[0]}-{first[1]:02d}..{last[0]}-{last[1]:02d}"


def jump_flags(
    current: Sequence[MonthlyPoint], history: Sequence[MonthlyPoint], ratio: Decimal
) -> list[Flag]:
    """Flags for the months of ``current`` that jump against their reference by more than
    ``ratio`` (above 1). Every stream of a flagged month gets the flag."""
    if ratio <= 1:
        raise ValueError("the jump ratio must be above 1")
    totals = _totals([*history, *current])
    flags: list[Flag] = []
    for point in current:
        if point.stream is None:
            continue
        found = _reference(totals, point.series, point.year, point.month)
        if found is None:
            continue
        reference_sum, months, described = found
        quantity = totals[(point.series, point.year, point.month)]
        with localcontext(EXACT):
            above = quantity * months > ratio * reference_sum
            below = quantity * months * ratio < reference_sum
        if above or below:
            mean = (reference_sum / months).quantize(Decimal("0.000001"), context=ROUNDING)
            detail = (
                f"{point.year}-{point.month:02d}: {quantity} against {mean} ({described}) "
                f"is {'above' if above else 'below'} the jump ratio {ratio}"
            )
            flags.append(Flag(MONTHLY_JUMP, point.stream, "quantity", quantity, detail))
    return flags
