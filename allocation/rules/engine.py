"""The allocation engine: a plan and a frame of facilities in, one result row per facility
out (pure: no database; the services and the CLI call it with the same frames).

Input columns: ``facility_id``, ``enterprise``, ``sector``, ``category``,
``emissions_<year>``…, ``output_<year>``…, ``cooling``, ``heat_supply_ratio``,
``load_rate``, ``heat_supplied_gj`` (decimals as ``Decimal`` or None), and optionally
``note``: a reason, found while loading, why the facility cannot be allocated.

Output columns: the identifying ones, ``method``, ``free_allocation`` (6 places, before
scaling), ``scale_factor``, ``allocation`` (whole units, empty when not allocable),
``note`` and the breakdown columns of :data:`BREAKDOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from allocation.rules.methods import benchmark, historical_emissions, historical_intensity
from allocation.rules.methods.arrays import ONE, ZERO, column_of, present
from allocation.rules.plan import BENCHMARK, HISTORICAL_EMISSIONS, Plan, SectorRule
from allocation.rules.rounding import scale_and_round
from allocation.rules.rulebook import PowerCorrections, default_corrections

IDENTITY = ["facility_id", "enterprise", "sector", "category"]
BREAKDOWN = [
    "base_years_used",
    "base_mean_emissions",
    "mean_intensity",
    "output",
    "benchmark",
    "cooling_factor",
    "heat_supply_factor",
    "load_rate_factor",
    "heat_supplied_gj",
    "heat_benchmark",
    "control_factor",
]
RESULT_COLUMNS = [
    *IDENTITY,
    "method",
    "free_allocation",
    "scale_factor",
    "allocation",
    "note",
    *BREAKDOWN,
]


@dataclass(frozen=True)
class Outcome:
    """Per-facility results and the plan-wide figures."""

    results: pd.DataFrame
    free_budget: Decimal
    total_free: Decimal
    scale_factor: Decimal
    total_allocated: int
    allocated: int
    not_allocated: int

    def summary(self) -> dict[str, Any]:
        return {
            "facilities": self.allocated + self.not_allocated,
            "allocated": self.allocated,
            "not_allocated": self.not_allocated,
            "free_budget": self.free_budget,
            "total_free_allocation": self.total_free,
            "scale_factor": self.scale_factor,
            "total_allocation": self.total_allocated,
        }


def _run_method(
    plan: Plan, rule: SectorRule, part: pd.DataFrame, corrections: PowerCorrections
) -> pd.DataFrame:
    # parse_plan requires a control factor of the historical methods.
    factor = rule.control_factor if rule.control_factor is not None else ONE
    if rule.method == HISTORICAL_EMISSIONS:
        return historical_emissions(part, base_years=plan.base_years, control_factor=factor)
    if rule.method == BENCHMARK:
        return benchmark(
            part,
            year=plan.year,
            benchmarks=rule.benchmarks,
            corrections=rule.corrections or corrections,
            heat_benchmark=rule.heat_benchmark,
            control_factor=rule.control_factor,
        )
    return historical_intensity(
        part, year=plan.year, base_years=plan.base_years, control_factor=factor
    )


def sort_keys(ids: pd.Series[Any]) -> npt.NDArray[np.generic]:
    """Facility ids as numpy sorts them: numbers when every id is a whole number."""
    if pd.api.types.is_integer_dtype(ids):
        return ids.to_numpy(dtype=np.int64)
    return ids.astype(str).to_numpy(dtype=str)


def compute(
    plan: Plan, facilities: pd.DataFrame, *, corrections: PowerCorrections | None = None
) -> Outcome:
    """Allocate ``plan`` over ``facilities`` (see the module docstring)."""
    corrections = corrections or default_corrections()
    frame = facilities.reset_index(drop=True)
    sector = column_of(frame, "sector").fillna("").astype(str)
    parts = []
    for code, rule in plan.sectors.items():
        part = frame[(sector == code).to_numpy()]
        if len(part):
            parts.append(_run_method(plan, rule, part, corrections).assign(method=rule.method))
    computed = pd.concat(parts) if parts else pd.DataFrame(index=pd.RangeIndex(0))
    computed = computed.reindex(frame.index)
    for name in ["free_allocation", "method", *BREAKDOWN]:
        if name not in computed.columns:
            computed[name] = None
    computed = computed.astype({name: object for name in ["free_allocation", *BREAKDOWN]})
    for name in ["free_allocation", *BREAKDOWN]:
        # A column one sector's method has and another's lacks comes out of the concat as
        # float NaN in the other's rows: make every missing factor None, as in one sector.
        column = computed[name]
        computed[name] = column.where(column.notna(), None)
    unplanned = ("sector '" + sector + "' has no method in the plan").to_numpy(dtype=object)
    note = computed["note"].to_numpy(dtype=object) if "note" in computed else unplanned
    note = np.where(present(computed["method"]), note, unplanned)
    loading_note = column_of(frame, "note").fillna("").astype(str).to_numpy(dtype=object)
    note = np.where(loading_note != "", loading_note, note)
    valid = present(computed["free_allocation"]) & (loading_note == "")
    free = computed["free_allocation"].to_numpy(dtype=object, copy=True)
    free[~valid] = None
    rounded = scale_and_round(free[valid], sort_keys(frame["facility_id"][valid]), plan.free_budget)
    allocation = pd.array([pd.NA] * len(frame), dtype="Int64")
    allocation[valid] = rounded.allocation
    results = pd.DataFrame(
        {
            **{name: column_of(frame, name) for name in IDENTITY},
            "method": computed["method"],
            "free_allocation": free,
            "scale_factor": rounded.scale_factor,
            "allocation": allocation,
            "note": note,
            **{name: computed[name] for name in BREAKDOWN},
        }
    )
    results["base_years_used"] = pd.to_numeric(results["base_years_used"]).astype("Int64")
    return Outcome(
        results=results,
        free_budget=plan.free_budget,
        total_free=sum(free[valid], ZERO),
        scale_factor=rounded.scale_factor,
        total_allocated=rounded.target,
        allocated=int(valid.sum()),
        not_allocated=int((~valid).sum()),
    )
