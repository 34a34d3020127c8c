"""A new entrant's (or a capacity change's) allocation from the reserve (pure).

The benchmark method of the facility's sector, on one row: the annual output (for a capacity
change: the added annual output) × the category's benchmark × the power corrections the
inputs allow, plus heat × the heat benchmark, × the control factor — the very function the
engine runs (:func:`allocation.rules.methods.benchmark`). Then pro rata to the months of the plan
year the facility operates, counted from the month it starts, that month included (the
usual Chinese practice of 按月折算: a unit starting on 15 September operates 4 months,
September to December): free × months ÷ 12, rounded half up to 6 places like every free
allocation; whole allowances are its floor, so the reserve never gives more than the rule.
No cap scaling: the reserve's budget is checked instead, by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from allocation.rules.methods import benchmark
from allocation.rules.plan import BENCHMARK, SectorRule
from allocation.rules.rulebook import default_corrections

#: Free allocations are kept to 1 g, like the engine's.
FREE_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class EntrantAllocation:
    #: Whole allowances; None when the benchmark method cannot allocate (``note`` says why).
    units: int | None
    annual: Decimal | None
    months: int
    prorated: Decimal | None
    note: str
    breakdown: dict[str, Any]


def months_operating(start: date, year: int) -> int:
    """Months of ``year`` from ``start``'s month to December, both included."""
    if start.year != year:
        raise ValueError(f"{start} is not in {year}")
    return 13 - start.month


def allocate_entrant(
    rule: SectorRule,
    *,
    year: int,
    category: str,
    output: Decimal,
    start: date,
    heat_supplied_gj: Decimal | None = None,
    cooling: str | None = None,
    heat_supply_ratio: Decimal | None = None,
    load_rate: Decimal | None = None,
) -> EntrantAllocation:
    """The allocation of one new entrant under the sector ``rule`` (a benchmark rule)."""
    if rule.method != BENCHMARK:
        raise ValueError("new entrants are allocated by benchmark only")
    frame = pd.DataFrame(
        {
            "facility_id": [0],
            "category": [category],
            f"output_{year}": [output],
            "heat_supplied_gj": [heat_supplied_gj],
            "cooling": [cooling],
            "heat_supply_ratio": [heat_supply_ratio],
            "load_rate": [load_rate],
        },
        dtype=object,
    )
    row = benchmark(
        frame,
        year=year,
        benchmarks=rule.benchmarks,
        corrections=rule.corrections or default_corrections(),
        heat_benchmark=rule.heat_benchmark,
        control_factor=rule.control_factor,
    ).iloc[0]
    months = months_operating(start, year)
    breakdown: dict[str, Any] = {
        str(name): (str(value) if isinstance(value, Decimal) else value)
        for name, value in row.items()
        if name not in ("free_allocation", "note") and value is not None and not pd.isna(value)
    }
    breakdown["months"] = months
    annual = row["free_allocation"]
    if annual is None or pd.isna(annual):
        return EntrantAllocation(None, None, months, None, str(row["note"]), breakdown)
    prorated = (Decimal(annual) * months / 12).quantize(FREE_QUANTUM, rounding=ROUND_HALF_UP)
    units = int(prorated.to_integral_value(rounding=ROUND_FLOOR))
    breakdown |= {"annual_allocation": str(annual), "prorated_allocation": str(prorated)}
    return EntrantAllocation(units, Decimal(annual), months, prorated, "", breakdown)
