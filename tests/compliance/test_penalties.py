"""Penalty assessment: the published national case, no market price, idempotence, jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pandas as pd
from sqlalchemy import func, select

from carbon_market.compliance import penalties, service
from carbon_market.compliance.models import CompliancePenalty
from carbon_market.entrypoints.jobs import find_job
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger.accounts import service as accounts
from carbon_market.scheduler.result import JobResult
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.compliance.conftest import SYSTEM, World
from tests.factories import make_user


def _national_2023(world: World) -> None:
    """National 2023 with its surrender deadline moved to 2026-06-30, so that the price
    window (the month before the deadline) is 2026-06-01 to 2026-06-30."""
    service.open_year(world.session, world.regulator, year=2023, rulebook="national",
                      surrender_deadline=date(2026, 6, 30))  # fmt: skip


def _trade_at(world: World, seller: str, price: str) -> None:
    exchange = actor_for(make_user(world.session, role=Role.EXCHANGE, name="exchange"))
    trading.set_reference_price(world.session, world.regulator, unit_kind="allowance",
                                day=date(2026, 6, 1), price=D(price))  # fmt: skip
    buyer = accounts.open_trading_account(world.session, SYSTEM, holder_name="某投资").number
    trading.record_trade(
        world.session, exchange, kind=TradeKind.LISTED, seller_account=seller,
        buyer_account=buyer, unit_kind="allowance", vintage=2023, quantity=1_000,
        price=D(price), traded_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC), external_ref="P1",
    )  # fmt: skip


def _penalty_count(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(CompliancePenalty)) or 0


def test_the_published_national_case_and_the_allocation_deduction(world: World) -> None:
    _national_2023(world)
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "865300")  # nothing surrendered: 865 300 t short
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2023)
    _trade_at(world, seller.account, "98.00")
    world.clock.advance(timedelta(days=30))

    summary = penalties.penalty_assessment(world.session, world.regulator, 2023, date(2026, 7, 1))

    assert summary["assessed"] == 1
    (penalty,) = penalties.list_penalties(world.session, world.regulator, 2023)
    # 865 300 t × 5 (the national minimum) × 98.00 CNY/t = 423 997 000.00 CNY; under the
    # national rulebook the 865 300 t also come off next year's allocation if uncorrected.
    assert penalty.amount == D("423997000.00")
    assert (penalty.shortfall_t, penalty.multiple, penalty.average_price) == (
        865_300, D("5"), D("98.00"),
    )  # fmt: skip
    assert penalty.allocation_deduction_t == 865_300
    assert (penalty.price_from, penalty.price_to) == (date(2026, 6, 1), date(2026, 6, 30))


def test_the_regulators_multiple_is_used(world: World) -> None:
    _national_2023(world)
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "100")
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2023)
    _trade_at(world, seller.account, "98.00")
    service.set_penalty_multiple(world.session, world.regulator, 2023, multiple=D("7.5"))
    world.clock.advance(timedelta(days=30))
    penalties.penalty_assessment(world.session, world.regulator, 2023, date(2026, 7, 1))
    (penalty,) = penalties.list_penalties(world.session, world.regulator, 2023)
    assert penalty.amount == D("73500.00")  # 100 t × 7.5 × 98.00


def test_no_market_price_in_the_window_makes_no_penalty_and_says_so(world: World) -> None:
    _national_2023(world)
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "1000")
    world.clock.advance(timedelta(days=30))

    summary = penalties.penalty_assessment(world.session, world.regulator, 2023, date(2026, 7, 1))

    assert summary["assessed"] == 0
    assert summary["shortfalls"] == 1
    assert "no allowance trades from 2026-06-01 to 2026-06-30" in summary["outcome"]
    assert _penalty_count(world) == 0


def test_the_jobs_run_twice_for_a_day_change_nothing_the_second_time(
    world: World, app: object
) -> None:
    _national_2023(world)
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "100")
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2023)
    _trade_at(world, seller.account, "98.00")
    world.clock.advance(timedelta(days=30))
    session, day = world.session, date(2026, 7, 1)
    job, sweep_job = find_job("penalty_assessment"), find_job("compliance_sweep")

    assert sweep_job.run(session, SYSTEM, day) == "swept 1 year(s): 2023 (2 enterprises)"
    first = job.run(session, SYSTEM, day)
    second = job.run(session, SYSTEM, day)

    # The penalised enterprise is told once: the second run finds the notice sent.
    assert first == JobResult(
        "2023: assessed 1 penalty(ies) at 98.00 CNY/t × 5.00; 1 notice(s)",
        {"assessed": 1, "notices": 1},
    )
    assert second == JobResult(
        "2023: nothing new to assess; 0 notice(s)", {"assessed": 0, "notices": 0}
    )
    assert _penalty_count(world) == 1


def test_the_deduction_from_next_years_allocation_counts_only_what_stays_uncorrected(
    world: World,
) -> None:
    import numpy as np

    from allocation.rules.engine import compute
    from allocation.rules.plan import parse_plan
    from allocation.service import with_deductions
    from carbon_market.ledger import transactions as ledger

    _national_2023(world)
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "1000")  # nothing surrendered: 1 000 t short
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2023)
    _trade_at(world, seller.account, "98.00")
    world.clock.advance(timedelta(days=30))
    after = date(2026, 7, 1)
    penalties.penalty_assessment(world.session, world.regulator, 2023, after)
    eid = short.enterprise.id
    assert penalties.uncorrected_deductions(world.session, 2023) == {eid: 1_000}

    # Corrected in part: under an extension it surrenders 400 t late; after the sweep 600 t
    # stay short, and only those are deducted.
    service.grant_extension(world.session, world.regulator, 2023,
                            enterprise=short.enterprise.credit_code,
                            until=date(2026, 7, 31), reason="补缴")  # fmt: skip
    world.give(short, 400, vintage=2023)
    late = service.surrender(world.session, short.maker, 2023, unit_kind="allowance",
                             vintage=2023, quantity=400)  # fmt: skip
    ledger.approve(world.session, short.checker, late.transaction_id)
    from carbon_market.compliance import sweep

    sweep.sweep(world.session, world.regulator, 2023, after)
    assert penalties.uncorrected_deductions(world.session, 2023) == {eid: 600}
    assert penalties.uncorrected_deductions(world.session, 2022) == {}

    # The 2024 allocation: one facility of the short enterprise, historical emissions of
    # 2 000 t × 1 (no scaling under a 100 000 t cap) = 2 000 allowances, less 600 = 1 400.
    plan = parse_plan(
        {"year": 2024, "cap": 100_000, "reserve_share": "0", "auction_share": "0",
         "base_years": [2023], "sectors": {"power": {"method": "historical_emissions",
                                                     "control_factor": "1"}}}
    )  # fmt: skip
    frame = pd.DataFrame(
        {"facility_id": [1], "enterprise": [short.enterprise.credit_code], "sector": ["power"],
         "category": [None], "emissions_2023": [D(2000)]}
    )  # fmt: skip
    outcome = with_deductions(
        world.session, 2024, compute(plan, frame), np.array([eid], dtype=np.int64)
    )
    assert int(outcome.results["allocation"][0]) == 1_400
    assert outcome.total_allocated == 1_400
    assert "less 600 deducted for the uncorrected 2023 shortfall" in outcome.results["note"][0]


def test_a_penalty_too_large_to_record_does_not_stop_the_others(world: World) -> None:
    # 999 999 999 999 t short (reports take up to 10^12 t) × 5 × 999 999.99 CNY/t (prices
    # up to 10^6) is about 5 × 10^18 CNY, beyond the 2^63 − 1 fen an amount holds: it used
    # to overflow the year's one INSERT, so nobody was penalised and the job failed daily.
    _national_2023(world)
    huge = world.enterprise("巨")
    world.approved_report(huge, 2023, "999999999999")
    small = world.enterprise("小")
    world.approved_report(small, 2023, "100")
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2023)
    _trade_at(world, seller.account, "999999.99")
    world.clock.advance(timedelta(days=30))

    summary = penalties.penalty_assessment(world.session, world.regulator, 2023, date(2026, 7, 1))

    assert (summary["shortfalls"], summary["assessed"]) == (2, 1)
    assert summary["too_large"] == [huge.enterprise.id]
    assert "1 too large to record" in summary["outcome"]
    (penalty,) = penalties.list_penalties(world.session, world.regulator, 2023)
    assert penalty.enterprise_id == small.enterprise.id
    assert penalty.amount == D("499999995.00")  # 100 t × 5 × 999 999.99
