"""A new entrant's benchmark allocation, pro rata to its months of operation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from allocation.rules.entrant_allocation import allocate_entrant, months_operating
from allocation.rules.plan import SectorRule

POWER = SectorRule(
    method="benchmark",
    benchmarks={"coal_300mw_plus": D("0.7950"), "gas": D("0.3305")},
    heat_benchmark=D("0.1260"),
)


def test_a_unit_starting_mid_september_gets_four_twelfths_of_its_annual_benchmark():
    # The docs' example: air-cooled, pure-condensing, 1,000 MWh at F = 82%, 100 GJ of heat:
    # 1000 × 0.7950 × 1.05 × 1 × 1.0042 + 100 × 0.1260 = 838.25595 + 12.6 = 850.855950 t.
    # September to December: 4 months → 850.855950 × 4 / 12 = 283.618650 → 283 allowances.
    got = allocate_entrant(
        POWER, year=2025, category="coal_300mw_plus", output=D("1000"),
        start=date(2025, 9, 15), heat_supplied_gj=D("100"), cooling="air",
        heat_supply_ratio=D("0"), load_rate=D("0.82"),
    )  # fmt: skip
    assert (got.annual, got.months, got.prorated, got.units) == (
        D("850.855950"), 4, D("283.618650"), 283,
    )  # fmt: skip
    assert got.breakdown["load_rate_factor"] == "1.004200"


def test_a_whole_year_is_the_annual_figure_and_a_missing_benchmark_is_a_note():
    # Gas, 10,000 MWh × 0.3305 = 3,305 t; from January: 12 months → 3,305.
    gas = allocate_entrant(
        POWER, year=2025, category="gas", output=D("10000"), start=date(2025, 1, 1)
    )
    assert (gas.units, gas.months) == (3305, 12)
    none = allocate_entrant(POWER, year=2025, category="coal_unconventional", output=D("1"),
                            start=date(2025, 12, 31))  # fmt: skip
    assert none.units is None
    assert none.note == "no benchmark for category 'coal_unconventional'"
    assert none.months == 1


def test_months_are_counted_within_the_plan_year_only():
    assert months_operating(date(2025, 12, 1), 2025) == 1
    with pytest.raises(ValueError, match="not in 2025"):
        months_operating(date(2024, 12, 1), 2025)
