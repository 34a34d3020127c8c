"""The year-end forecast: projections from monthly data and the outlook against holdings."""

from __future__ import annotations

from decimal import Decimal

from carbon_market.compliance.rules.forecast import Position, Projection, outlook, project
from carbon_market.compliance.rules.obligations import Surrendered
from carbon_market.compliance.rules.rulebook import shipped

D = Decimal
NATIONAL, BEIJING = shipped("national"), shipped("beijing")


def test_nothing_filed_projects_nothing():
    assert project({}) is None


def test_twelve_months_are_simply_added():
    # 12 × 100.4 t = 1 204.8 t → 1 205 t (half up).
    result = project({m: D("100.4") for m in range(1, 13)})
    assert result is not None
    assert (result.method, result.co2_t, result.projected_t) == ("complete", D("1204.8"), 1205)


def test_seasonal_projection_scales_by_last_years_shape():
    # Filed Jan–Mar: 100 + 120 + 80 = 300 t. Last year: Jan–Mar 90 + 110 + 100 = 300 t of a
    # year of 300 + 9 × 133.3 = 1 499.7 t. Projection: 300 × 1 499.7 ÷ 300 = 1 499.7 → 1 500 t.
    last = {1: D(90), 2: D(110), 3: D(100), **{m: D("133.3") for m in range(4, 13)}}
    result = project({1: D(100), 2: D(120), 3: D(80)}, last_year=last)
    assert result is not None
    assert result.method == "seasonal"
    assert result.co2_t == D("1499.7")
    assert result.projected_t == 1500
    assert result.months_filed == 3


def test_without_a_full_last_year_the_run_rate_is_used():
    # Filed Jan–Feb: 100 + 50 = 150 t, mean 75 t × 12 = 900 t; last year lacks December.
    last = {m: D(10) for m in range(1, 12)}
    result = project({1: D(100), 2: D(50)}, last_year=last)
    assert result is not None
    assert (result.method, result.projected_t) == ("run_rate", 900)


def test_annual_streams_are_added_as_they_stand():
    # Run rate 2 months × 60 t → 60 × 12 = 720 t, plus 30.5 t filed for the whole year:
    # 750.5 → 751 t (half up).
    result = project({1: D(60), 2: D(60)}, annual=D("30.5"))
    assert result is not None
    assert result.projected_t == 751
    only = project({}, annual=D("42.4"))
    assert only is not None
    assert (only.method, only.projected_t) == ("annual_only", 42)


def test_the_outlook_warns_of_a_shortfall_and_prices_it():
    # Beijing, allocation 80 000 t: offsets cap floor(5 % × 80 000) = 4 000 t.
    # Projected 100 000 t. Surrendered 10 000 t allowances + 1 000 t offsets; holds 70 000 t
    # allowances and 10 000 t offsets, of which 4 000 − 1 000 = 3 000 t still count.
    # Covered: 11 000 + 70 000 + 3 000 = 84 000 t; short 16 000 t.
    # At 100.25 CNY/t: cost 16 000 × 100.25 = 1 604 000.00; penalty at 3 ×: 4 812 000.00.
    projection = Projection(D(100000), 100000, "run_rate", 11)
    position = Position(
        allowances_held_t=70_000,
        offsets_held_t=10_000,
        surrendered=Surrendered(allowances_t=10_000, offsets_t=1_000),
        allocation_t=80_000,
    )
    result = outlook(projection, position, BEIJING, year=2026, price=D("100.25"))
    assert result.covered_t == 84_000
    assert result.expected_shortfall_t == 16_000
    assert result.expected_cost == D("1604000.00")
    assert result.penalty_exposure == D("4812000.00")
    assert result.warn


def test_the_outlook_applies_the_rulebooks_obligation_caps():
    # National 2022, a gas unit allocated 900 t projecting 1 000 t owes at most 900 t; it
    # holds 900 t: no warning. Without a market price there is no cost to show.
    projection = project({m: D("1000") / 12 for m in range(1, 13)})
    assert projection is not None
    assert projection.projected_t == 1000
    position = Position(900, 0, Surrendered(), allocation_t=900, is_gas_unit=True)
    result = outlook(projection, position, NATIONAL, year=2022, price=None)
    assert result.obligation_t == 900
    assert result.expected_shortfall_t == 0
    assert not result.warn
    assert result.expected_cost is None
    assert result.penalty_exposure is None
