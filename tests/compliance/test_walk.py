"""A whole compliance year, walked with the injectable clock: open the year, approve the
reports, surrender (four eyes), sweep, pass the deadline, assess the penalties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from carbon_market.compliance import penalties, service, sweep
from carbon_market.compliance.models import CompliancePenalty
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.enums import TransactionStatus
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.compliance.conftest import World, open_beijing
from tests.factories import make_user


def _statuses(world: World, year: int = 2025) -> dict[str, tuple[str, int, int]]:
    rows = sweep.list_status(world.session, world.regulator, year)
    return {r["name"]: (r["status"].value, r["surrendered_t"], r["shortfall_t"]) for r in rows}


def test_a_beijing_year_from_opening_to_penalties(world: World) -> None:
    session, clock, regulator = world.session, world.clock, world.regulator
    # 2026-06-01 10:00 in Beijing; the Beijing 2025 surrender deadline is 2026-06-30.
    open_beijing(world)
    alpha = world.enterprise("甲热电")
    beta = world.enterprise("乙水泥")
    world.enterprise("丙数据中心")  # files nothing
    delta = world.enterprise("丁印刷")  # exempt; sells on the market
    world.give(alpha, 1_200, vintage=2025)
    world.give(beta, 300, vintage=2025)
    world.give(delta, 1_000, vintage=2025)
    world.approved_report(alpha, 2025, "1000")
    world.approved_report(beta, 2025, "500")
    service.grant_exemption(session, regulator, 2025, enterprise=delta.enterprise.credit_code,
                            reason="停产")  # fmt: skip

    first = service.surrender(session, alpha.maker, 2025, unit_kind="allowance", vintage=2025,
                              quantity=1_000)  # fmt: skip
    assert first.transaction.status is TransactionStatus.PENDING_APPROVAL
    today = date(2026, 6, 1)
    sweep.sweep(session, regulator, 2025, today)
    # Pending moves nothing: alpha's figure stands but nothing is surrendered yet.
    assert _statuses(world)["甲热电"] == ("verified", 0, 0)

    ledger.approve(session, alpha.checker, first.transaction_id)
    short = service.surrender(session, beta.maker, 2025, unit_kind="allowance", vintage=2025,
                              quantity=300)  # fmt: skip
    ledger.approve(session, beta.checker, short.transaction_id)
    sweep.sweep(session, regulator, 2025, today)
    assert _statuses(world) == {
        "甲热电": ("compliant", 1_000, 0),
        "乙水泥": ("in_progress", 300, 0),
        "丙数据中心": ("not_reported", 0, 0),
        "丁印刷": ("exempt", 0, 0),
    }

    # The market in the Beijing window (the six months to 2026-06-30): 100 t at 100.00 and
    # 300 t at 105.00, volume-weighted: (10 000 + 31 500) / 400 = 103.75 CNY/t.
    exchange = actor_for(make_user(session, role=Role.EXCHANGE, name="exchange"))
    trading.set_reference_price(session, regulator, unit_kind="allowance",
                                day=date(2026, 6, 1), price=D("100.00"))  # fmt: skip
    buyer = accounts.open_trading_account(session, regulator, holder_name="某投资").number
    for n, (quantity, price) in enumerate([(100, "100.00"), (300, "105.00")]):
        trading.record_trade(
            session, exchange, kind=TradeKind.LISTED, seller_account=delta.account,
            buyer_account=buyer, unit_kind="allowance", vintage=2025, quantity=quantity,
            price=D(price), traded_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC),
            external_ref=f"W{n}",
        )  # fmt: skip

    # Before the deadline nothing is assessed.
    early = penalties.penalty_assessment(session, regulator, 2025, today)
    assert early["assessed"] == 0

    clock.advance(timedelta(days=30))  # 2026-07-01: the deadline has passed
    after = date(2026, 7, 1)
    summary = penalties.penalty_assessment(session, regulator, 2025, after)
    assert summary["assessed"] == 1
    assert _statuses(world)["乙水泥"] == ("shortfall", 300, 200)
    # 200 t short × 3 (the Beijing minimum, the default multiple) × 103.75 = 62 250.00 CNY;
    # Beijing deducts nothing from next year's allocation.
    (penalty,) = penalties.list_penalties(session, regulator, 2025)
    assert penalty.enterprise_id == beta.enterprise.id
    assert (penalty.shortfall_t, penalty.multiple, penalty.average_price) == (
        200, D("3"), D("103.75"),
    )  # fmt: skip
    assert penalty.amount == D("62250.00")
    assert penalty.allocation_deduction_t == 0

    # Running it again that day, or the next, adds nothing.
    again = penalties.penalty_assessment(session, regulator, 2025, after)
    penalties.penalty_assessment(session, regulator, 2025, after + timedelta(days=1))
    assert again["assessed"] == 0
    count = session.scalar(select(func.count()).select_from(CompliancePenalty))
    assert count == 1

    # The results are public now, to any signed-in user.
    auditor = actor_for(make_user(session, role=Role.AUDITOR, name="auditor"))
    results = sweep.list_results(session, auditor, 2025)
    assert {r["name"]: r["status"].value for r in results} == {
        "甲热电": "compliant",
        "乙水泥": "shortfall",
        "丙数据中心": "not_reported",
        "丁印刷": "exempt",
    }
