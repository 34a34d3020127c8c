"""The synergy (协同) view: CO2 and co-pollutants per sector and district, their year-on-year
change, and the pollutant reduced per tonne of CO2 reduced (issue 5, item 7).

Pure: a DataFrame in, a table out; no database, no HTTP. The input has one row per enterprise
and year (``INPUT_COLUMNS``): the enterprise's group keys (``sector``, ``district``), the
approved CO2 in tonnes and each pollutant in kg, every figure a ``Decimal`` (object dtype).
Floats are refused: a tonne summed in binary floating point is no longer the tonne that was
approved.

For year Y, per group (and for the total):

* ``enterprises``, ``co2_t`` and ``<p>_kg``: every enterprise with a row for Y.
* Like-for-like change against Y−1, over the ``matched_enterprises`` that have a row in both
  years only: ``co2_change_t`` = Σ CO2(Y) − Σ CO2(Y−1) and ``<p>_change_kg`` likewise.
  Comparing all of Y with all of Y−1 would let an enterprise that left the scheme (or stopped
  being approved) show up as a reduction, and an entrant as an increase, although nobody
  emitted less or more. With no matched enterprise the changes are null, not zero: there is
  nothing to compare.
* ``co2_change_pct`` = ``co2_change_t`` / Σ CO2(Y−1) × 100, null when that base is zero.
* ``<p>_kg_per_t_co2_reduced`` = (−``<p>_change_kg``) / (−``co2_change_t``): kg of pollutant
  reduced per tonne of CO2 reduced. Stated only when CO2 fell (``co2_change_t`` < 0): a ratio
  over a CO2 increase or no change would not measure a reduction. Negative when the pollutant
  rose while CO2 fell (a trade-off, not a synergy).

An enterprise is grouped by its keys in the row for Y, in both years, so a change of sector or
district between the years moves its whole comparison and cannot fake a change in either group.

Rounding rule: sums and differences are exact (a context that traps ``Inexact``). Only the two
ratios are rounded, once, half up (四舍五入, ``ROUND_HALF_UP``, ties away from zero): the
percentage to ``PCT_PLACES`` = 2 places and the indicator to ``RATIO_PLACES`` = 3 places (1 g
per tonne). Both are computed as exact fractions before that single rounding, so no
intermediate rounding can move a tie.

The total is a separate object with the same figures and no group keys (see
:class:`SynergyTable`): kept out of ``rows`` so that adding up the rows never counts it twice.
Its ratios are computed from its own sums, never averaged over the groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import pandas as pd

from carbon_market.mrv.calculator.factor_sets import POLLUTANTS
from carbon_market.mrv.calculator.units import EXACT

#: The keys rows may be grouped by, in the order they appear in a row.
GROUP_KEYS = ("sector", "district")
#: The figures per enterprise and year, each a Decimal: tonnes of CO2, kg of each pollutant.
FIGURES = ("co2_t", *(f"{p}_kg" for p in POLLUTANTS))
INPUT_COLUMNS = ("enterprise_id", *GROUP_KEYS, "year", *FIGURES)
PCT_PLACES = 2
RATIO_PLACES = 3
#: The columns of every row after its group keys, and of the total, in order.
COLUMNS = (
    "enterprises",
    "matched_enterprises",
    *FIGURES,
    "co2_change_t",
    "co2_change_pct",
    *(f"{p}_change_kg" for p in POLLUTANTS),
    *(f"{p}_kg_per_t_co2_reduced" for p in POLLUTANTS),
)
ZERO = Decimal("0")
PREVIOUS = "_previous"


@dataclass(frozen=True)
class SynergyTable:
    """The view for ``year``: one row per group present in ``year``, sorted by the group keys
    (columns: the keys, then :data:`COLUMNS`; object dtype, so figures stay ``Decimal`` and
    nulls are ``None``), and ``total`` over every enterprise of the input (:data:`COLUMNS`)."""

    year: int
    group_by: tuple[str, ...]
    rows: pd.DataFrame
    total: dict[str, Any]

    @property
    def previous_year(self) -> int:
        return self.year - 1

    @property
    def records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (what a JSON or CSV writer wants)."""
        return [{str(k): v for k, v in row.items()} for row in self.rows.to_dict("records")]


def group_keys(group_by: Iterable[str]) -> tuple[str, ...]:
    """The group keys in their canonical order; ValueError for none, an unknown or a repeated
    key (``district,sector`` is the same grouping as ``sector,district``)."""
    keys = list(group_by)
    if not keys or len(set(keys)) != len(keys) or not set(keys) <= set(GROUP_KEYS):
        raise ValueError(f"group by one or both of {', '.join(GROUP_KEYS)}, not {keys!r}")
    return tuple(key for key in GROUP_KEYS if key in keys)


def synergy_table(reports: pd.DataFrame, *, year: int, group_by: Iterable[str]) -> SynergyTable:
    """The synergy view for ``year`` over ``reports`` (rows of other years than ``year`` and
    ``year - 1`` are ignored; extra columns too).

    Raises ValueError for a bad ``group_by``, a missing column or two rows for one enterprise
    and year; TypeError for a figure that is not a finite ``Decimal``.
    """
    keys = list(group_keys(group_by))
    current, previous = _split(reports, year)
    # Like-for-like: only enterprises in both years, grouped by their keys in ``year``.
    matched = current.merge(
        previous[["enterprise_id", *FIGURES]],
        on="enterprise_id",
        suffixes=("", PREVIOUS),
        validate="one_to_one",
    )
    matched_by_group = dict(iter(matched.groupby(keys, sort=False)))
    records = [
        {**dict(zip(keys, group, strict=True)), **_figures(rows, matched_by_group.get(group))}
        for group, rows in current.groupby(keys, sort=True)
    ]
    frame = pd.DataFrame(records, columns=[*keys, *COLUMNS], dtype=object)
    return SynergyTable(
        year=year, group_by=tuple(keys), rows=frame, total=_figures(current, matched)
    )


def _split(reports: pd.DataFrame, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``year`` and of ``year - 1``, checked."""
    missing = [c for c in INPUT_COLUMNS if c not in reports.columns]
    if missing:
        raise ValueError(f"the reports lack the column(s) {', '.join(missing)}")
    years = reports.loc[reports["year"].isin([year, year - 1]), list(INPUT_COLUMNS)]
    if years.duplicated(["enterprise_id", "year"]).any():
        raise ValueError("one row per enterprise and year: take the latest approved version")
    for column in FIGURES:
        bad = [v for v in years[column] if not (isinstance(v, Decimal) and v.is_finite())]
        if bad:
            raise TypeError(f"{column} must hold finite Decimals, not {bad[0]!r}")
    current = years.loc[years["year"] == year]
    previous = years.loc[years["year"] == year - 1]
    return current, previous


def _total(values: Iterable[Decimal]) -> Decimal:
    with localcontext(EXACT):  # exact or it fails: never a silently rounded tonne
        return sum(values, ZERO)


def _figures(rows: pd.DataFrame, matched: pd.DataFrame | None) -> dict[str, Any]:
    """The :data:`COLUMNS` of one group: ``rows`` of year Y, ``matched`` (its like-for-like
    enterprises with their Y−1 figures as ``<figure>_previous``) or None when there are none."""
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    out |= {figure: _total(rows[figure]) for figure in FIGURES}
    out["enterprises"] = len(rows)
    out["matched_enterprises"] = 0 if matched is None else len(matched)
    if matched is None or matched.empty:
        return out
    with localcontext(EXACT):  # negations and × 100 too: exact, whatever the magnitude
        change = {f: _total(matched[f]) - _total(matched[f + PREVIOUS]) for f in FIGURES}
        co2_change, co2_before = change["co2_t"], _total(matched["co2_t" + PREVIOUS])
        out["co2_change_t"] = co2_change
        if co2_before != 0:
            out["co2_change_pct"] = round_half_up(co2_change * 100, co2_before, PCT_PLACES)
        for p in POLLUTANTS:
            out[f"{p}_change_kg"] = change[f"{p}_kg"]
            if co2_change < 0:
                out[f"{p}_kg_per_t_co2_reduced"] = round_half_up(
                    -change[f"{p}_kg"], -co2_change, RATIO_PLACES
                )
    return out


def round_half_up(numerator: Decimal, denominator: Decimal, places: int) -> Decimal:
    """``numerator / denominator`` rounded once, half up (ties away from zero), to ``places``.

    The quotient is an exact fraction until this one rounding: a quotient first rounded to
    the context's precision could land on a tie that the exact value is not on.
    """
    scaled = Fraction(numerator) / Fraction(denominator) * 10**places
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    return Decimal(magnitude if scaled >= 0 else -magnitude).scaleb(-places, context=EXACT)
