"""The forecast (以月保年), deadline reminders, overdue flags and shortfall and penalty
notices: computed from the registry, sent once however often the jobs run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from carbon_market.compliance import notices, penalties, projections, service, sweep
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger.accounts import service as accounts
from carbon_market.mrv.reports import workflow as reports
from carbon_market.notifications.models import Notification
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.compliance.conftest import FILER, Covered, World, open_beijing
from tests.factories import make_user

JOBS = Actor.system(name="scheduler")


def _months(quantity: str, months: range) -> list[dict[str, object]]:
    return [
        {"kind": "electricity", "quantity": quantity, "unit": "MWh", "month": m} for m in months
    ]


def _sell(world: World, seller: Covered, day: date, trades: list[tuple[int, str]]) -> None:
    """Listed trades of allowances of 2025 from ``seller`` to a trading account on ``day``."""
    session, regulator = world.session, world.regulator
    exchange = actor_for(make_user(session, role=Role.EXCHANGE, name=f"exchange-{day}"))
    trading.set_reference_price(
        session, regulator, unit_kind="allowance", day=day, price=D(trades[0][1])
    )
    buyer = accounts.open_trading_account(session, regulator, holder_name="某投资").number
    for n, (quantity, price) in enumerate(trades):
        trading.record_trade(
            session, exchange, kind=TradeKind.LISTED, seller_account=seller.account,
            buyer_account=buyer, unit_kind="allowance", vintage=2025, quantity=quantity,
            price=D(price), traded_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
            external_ref=f"N{day}-{n}",
        )  # fmt: skip


def _messages(world: World, kind: str) -> list[Notification]:
    query = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    return list(world.session.scalars(query))


def test_tiers() -> None:
    assert [notices.tier(d) for d in (31, 30, 25, 8, 7, 6, 2, 1, 0, -1)] == [
        None, 30, 30, 30, 7, 7, 7, 1, 1, None,
    ]  # fmt: skip


def test_the_forecast_projects_the_year_and_warns_once_a_month(world: World) -> None:
    session, regulator = world.session, world.regulator
    # The test clock stands at 2026-06-01 10:00 in Beijing; 2026 is the year in progress.
    open_beijing(world, 2026)
    alpha = world.enterprise("甲热电")
    beta = world.enterprise("乙水泥")
    seller = world.enterprise("丁印刷")  # no 2026 data: not in the forecast
    world.give(alpha, 2_000, vintage=2026)
    world.give(beta, 700, vintage=2026)
    world.give(seller, 1_000, vintage=2025)
    # Alpha: Jan–Mar, 500 MWh a month × 0.5366 = 268.3 t; no 2025 months, so the run rate:
    # 268.3 × 12 = 3 219.6 → 3 220 t. Holds 2 000 t (Beijing banks: vintages ≤ 2026 count):
    # 1 220 t short.
    reports.create_report(session, FILER, enterprise=alpha.enterprise.credit_code, year=2026,
                          streams=_months("500", range(1, 4)))  # fmt: skip
    # Beta: all twelve months of 100 MWh: 12 × 53.66 = 643.92 → 644 t; holds 700 t.
    reports.create_report(session, FILER, enterprise=beta.enterprise.credit_code, year=2026,
                          streams=_months("100", range(1, 13)))  # fmt: skip
    # The month to 2026-06-01: 100 t at 100.00 and 300 t at 105.00 → 103.75 CNY/t.
    _sell(world, seller, date(2026, 6, 1), [(100, "100.00"), (300, "105.00")])

    rows = {r.name: r for r in projections.list_forecast(session, regulator, 2026)}
    assert set(rows) == {"甲热电", "乙水泥"}
    a, b = rows["甲热电"], rows["乙水泥"]
    assert (a.projection.method, a.projection.projected_t, a.outlook.covered_t) == (
        "run_rate", 3_220, 2_000,
    )  # fmt: skip
    assert a.outlook.expected_shortfall_t == 1_220
    # 1 220 × 103.75 = 126 575.00 to buy; at the Beijing minimum of 3 ×: 379 725.00.
    assert a.price == D("103.75")
    assert a.outlook.expected_cost == D("126575.00")
    assert a.outlook.penalty_exposure == D("379725.00")
    assert (b.projection.method, b.projection.projected_t, b.outlook.warn) == (
        "complete", 644, False,
    )  # fmt: skip
    warned = projections.list_forecast(session, regulator, 2026, warnings_only=True)
    assert [r.name for r in warned] == ["甲热电"]
    # An enterprise user sees its own row only.
    assert [r.name for r in projections.list_forecast(session, beta.maker, 2026)] == ["乙水泥"]

    first = notices.forecast_warnings(session, JOBS, date(2026, 6, 1))
    assert first == {"projected": 2, "warnings": 1}
    again = notices.forecast_warnings(session, JOBS, date(2026, 6, 2))
    assert again["warnings"] == 0
    sent = _messages(world, "forecast_warning")
    assert [(m.enterprise_id, m.to_regulators) for m in sent] == [
        (alpha.enterprise.id, False),
        (None, True),
    ]
    assert "1220" in sent[0].subject
    assert "126575.00" in sent[0].body
    # Next month, still short: warned again.
    assert notices.forecast_warnings(session, JOBS, date(2026, 7, 1))["warnings"] == 1


def test_reminders_and_overdue_flags_go_out_once_per_tier(world: World) -> None:
    session = world.session
    # Beijing 2025: reporting 2026-04-30, verification 2026-05-31, surrender 2026-06-30.
    open_beijing(world)
    alpha = world.enterprise("甲热电")
    gamma = world.enterprise("丙数据中心")  # files nothing
    world.give(alpha, 1_000, vintage=2025)
    world.approved_report(alpha, 2025, "1000")

    # 2026-06-01: 29 days to the surrender deadline, the 30-days tier; the other two
    # deadlines have passed. Nobody has surrendered: both are reminded.
    assert notices.deadline_reminders(session, JOBS, date(2026, 6, 1)) == {"reminders": 2}
    assert notices.deadline_reminders(session, JOBS, date(2026, 6, 2)) == {"reminders": 0}
    # 2026-06-24: 6 days left, the 7-days tier (the scheduler missed the 23rd).
    assert notices.deadline_reminders(session, JOBS, date(2026, 6, 24)) == {"reminders": 2}
    keys = [m.dedupe_key for m in _messages(world, "deadline_reminder")]
    assert keys == [
        f"deadline_reminder:2025:surrender:30:{alpha.enterprise.id}",
        f"deadline_reminder:2025:surrender:30:{gamma.enterprise.id}",
        f"deadline_reminder:2025:surrender:7:{alpha.enterprise.id}",
        f"deadline_reminder:2025:surrender:7:{gamma.enterprise.id}",
    ]

    # Overdue: gamma filed nothing by 2026-04-30 and has nothing verified by 2026-05-31;
    # alpha's approved report met both. Each flag once, plus one list per deadline for the
    # regulators.
    assert notices.overdue_flags(session, JOBS, date(2026, 6, 1)) == {
        "overdue": 2,
        "shortfalls": 0,
    }
    assert notices.overdue_flags(session, JOBS, date(2026, 6, 1))["overdue"] == 0
    overdue = _messages(world, "overdue")
    assert [(m.enterprise_id, m.to_regulators) for m in overdue] == [
        (gamma.enterprise.id, False),
        (None, True),
        (gamma.enterprise.id, False),
        (None, True),
    ]
    assert gamma.enterprise.credit_code in overdue[1].body

    # Alpha surrenders 600 of its 1 000 t; after the deadline the sweep finds it 400 t short.
    done = service.surrender(session, alpha.maker, 2025, unit_kind="allowance", vintage=2025,
                             quantity=600)  # fmt: skip
    from carbon_market.ledger import transactions as ledger

    ledger.approve(session, alpha.checker, done.transaction_id)
    world.clock.advance(timedelta(days=30))
    after = date(2026, 7, 1)
    sweep.sweep(session, world.regulator, 2025, after)
    assert notices.overdue_flags(session, JOBS, after)["shortfalls"] == 1
    assert notices.overdue_flags(session, JOBS, after)["shortfalls"] == 0
    (short,) = _messages(world, "shortfall")
    assert short.enterprise_id == alpha.enterprise.id
    assert "400 t" in short.subject

    # The penalty: 400 t × 3 × 103.75 (the window's average) = 124 500.00 CNY, told once.
    seller = world.enterprise("丁印刷")
    world.give(seller, 1_000, vintage=2025)
    _sell(world, seller, date(2026, 6, 30), [(100, "100.00"), (300, "105.00")])
    assert penalties.penalty_assessment(session, world.regulator, 2025, after)["assessed"] == 1
    assert notices.penalty_notices(session, JOBS, 2025) == 1
    assert notices.penalty_notices(session, JOBS, 2025) == 0
    (told,) = _messages(world, "penalty")
    assert told.enterprise_id == alpha.enterprise.id
    assert "124500.00" in told.subject


@pytest.mark.parametrize("name", ["deadline_reminders", "overdue_flags", "forecast"])
def test_the_jobs_are_registered_by_the_names_the_issue_gives(name: str) -> None:
    from carbon_market.entrypoints.jobs import find_job

    assert find_job(name).name == name
