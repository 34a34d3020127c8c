"""The corrections cascade: a corrected report approved after surrenders or penalties
recomputes the obligation, returns excess units through the ledger, re-runs the status,
supersedes or cancels the penalty and sends a notice, all traced to the correcting version.

Every example is Beijing 2025 (surrender deadline 2026-06-30; penalty 3 × the average
allowance price of 2026-01-01..2026-06-30, the rulebook's minimum multiple). The clock
starts on 2026-06-01."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from carbon_market.compliance import notices, penalties, sweep
from carbon_market.compliance import service as compliance
from carbon_market.compliance.corrections import cascade as corrections
from carbon_market.compliance.enums import PenaltyStatus
from carbon_market.compliance.models import (
    ComplianceCorrection,
    CompliancePenalty,
    ComplianceSurrender,
)
from carbon_market.entrypoints.jobs import find_job
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.enums import TransactionKind
from carbon_market.ledger.models import Holding, LedgerTransaction
from carbon_market.ledger.verify import verify_ledger
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.notifications.models import Notification
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.compliance.conftest import FILER, STREAMS, SYSTEM, Covered, World, open_beijing
from tests.factories import make_user

AFTER_DEADLINE = date(2026, 7, 1)


@pytest.fixture
def alpha(world: World) -> Covered:
    """Beijing 2025: alpha holds 80 001 allowances of 2025; v1 approved at 80 000 t."""
    open_beijing(world)
    who = world.enterprise("甲")
    world.give(who, 80_001, vintage=2025)
    world.approved_report(who, 2025, "80000")
    return who


def _surrender(world: World, who: Covered, quantity: int) -> int:
    """Surrender and approve at once (four eyes); the clock moves a minute so completions
    are ordered. Returns the ledger transaction id."""
    row = compliance.surrender(
        world.session, who.maker, 2025, unit_kind="allowance", vintage=2025, quantity=quantity
    )
    ledger.approve(world.session, who.checker, row.transaction_id)
    world.clock.advance(timedelta(minutes=1))
    return row.transaction_id


def _correct(world: World, who: Covered, verified: str) -> EmissionReport:
    """File the next version with ``verified`` t and approve it through the cascade."""
    report = reports.create_report(
        world.session, FILER, enterprise=who.enterprise.credit_code, year=2025,
        streams=STREAMS,
    )  # fmt: skip
    reports.submit_report(world.session, FILER, report.id)
    reports.assign_verifier(world.session, FILER, report.id, verifier="verifier")
    reports.verify_report(
        world.session, FILER, report.id, verified_co2_t=D(verified), opinion="符合",
        reason="更正",
    )  # fmt: skip
    return corrections.approve_and_apply(world.session, world.regulator, report.id)


def _allowances(world: World, who: Covered) -> int:
    account = who.enterprise.compliance_account
    assert account is not None
    holding = world.session.get(Holding, (account.id, "allowance", 2025))
    assert holding is not None
    return holding.quantity


def _status(world: World, who: Covered) -> tuple[str, int, int, int]:
    """The enterprise's row as stored (the cascade re-ran it; no sweep in between)."""
    (row,) = sweep.list_status(world.session, who.maker, 2025)
    return row["status"].value, row["obligation_t"], row["surrendered_t"], row["shortfall_t"]


def _priced_at_50(world: World) -> None:
    """One listed trade of 2025 allowances at 50.00 CNY/t on 2026-06-01: the window's
    volume-weighted average is 50.00."""
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2025)
    exchange = actor_for(make_user(world.session, role=Role.EXCHANGE, name="exchange"))
    trading.set_reference_price(world.session, world.regulator, unit_kind="allowance",
                                day=date(2026, 6, 1), price=D("50.00"))  # fmt: skip
    buyer = accounts.open_trading_account(world.session, SYSTEM, holder_name="某投资").number
    trading.record_trade(
        world.session, exchange, kind=TradeKind.LISTED, seller_account=seller.account,
        buyer_account=buyer, unit_kind="allowance", vintage=2025, quantity=1_000,
        price=D("50.00"), traded_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC), external_ref="P1",
    )  # fmt: skip


def _penalised_10_000_short(world: World, alpha: Covered) -> CompliancePenalty:
    """alpha surrenders 70 000 of 80 000 t before the deadline; assessed on 2026-07-01:
    10 000 t × 3 × 50.00 CNY/t = 1 500 000.00 CNY."""
    _priced_at_50(world)
    _surrender(world, alpha, 70_000)
    world.clock.advance(timedelta(days=30))  # 2026-07-01, after the deadline
    penalties.penalty_assessment(world.session, world.regulator, 2025, AFTER_DEADLINE)
    (penalty,) = penalties.list_penalties(world.session, world.regulator, 2025)
    assert (penalty.shortfall_t, penalty.amount) == (10_000, D("1500000.00"))
    return penalty


def test_obligation_down_after_full_surrender_returns_the_excess(
    world: World, alpha: Covered
) -> None:
    first = _surrender(world, alpha, 50_000)
    second = _surrender(world, alpha, 30_000)
    assert _allowances(world, alpha) == 1  # 80 001 − 80 000
    assert verify_ledger(world.session) == []
    sweep.sweep(world.session, world.regulator, 2025, date(2026, 6, 1))

    report = _correct(world, alpha, "70000")

    # Obligation 80 000 → 70 000: 10 000 t surrendered too many. The newest surrender
    # (30 000) is reversed whole and 30 000 − 10 000 = 20 000 re-surrendered; the older
    # 50 000 stands. Surrendered 50 000 + 20 000 = 70 000 = due, before the deadline:
    # compliant. Holdings: 1 + 30 000 − 20 000 = 10 001.
    (correction,) = corrections.list_corrections(world.session, world.regulator, 2025)
    assert (correction.previous_obligation_t, correction.obligation_t) == (80_000, 70_000)
    assert correction.returned_t == 10_000
    assert (correction.status_before, correction.status_after) == ("compliant", "compliant")
    assert _status(world, alpha) == ("compliant", 70_000, 70_000, 0)
    assert _allowances(world, alpha) == 10_001
    reversal = world.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == second)
    )
    assert reversal is not None
    assert reversal.quantity == 30_000
    assert (
        world.session.scalar(
            select(LedgerTransaction).where(LedgerTransaction.reverses_id == first)
        )
        is None
    )
    # The trail: memo, re-surrender, audit and notice all name the correcting version.
    tag = f"correction of report {report.id} v2"
    assert reversal.memo.startswith(tag)
    again = world.session.scalars(
        select(ComplianceSurrender).where(ComplianceSurrender.correction_id == correction.id)
    ).one()
    assert again.quantity == 20_000
    assert world.session.get_one(LedgerTransaction, again.transaction_id).memo.startswith(tag)
    audit = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "compliance_correction:apply")
    ).one()
    assert audit.after is not None
    assert audit.after["correction_of"] == {"report_id": report.id, "version": 2}
    assert audit.after["reversals"] == [reversal.id]
    assert audit.after["resurrender"] == again.transaction_id
    notice = world.session.scalars(select(Notification)).one()
    assert notice.kind == "correction"
    assert notice.dedupe_key.endswith(f"report-{report.id}:v2")
    assert "80000 t → 70000 t" in notice.body
    assert "10000 surrendered unit(s)" in notice.body
    assert verify_ledger(world.session) == []


def test_obligation_up_after_the_deadline_supersedes_the_penalty(
    world: World, alpha: Covered
) -> None:
    old = _penalised_10_000_short(world, alpha)

    report = _correct(world, alpha, "85000")

    # Obligation 80 000 → 85 000, 70 000 surrendered: 15 000 t short after the deadline.
    # Same multiple and price: 15 000 × 3 × 50.00 = 2 250 000.00 CNY (was 1 500 000.00).
    assert _status(world, alpha) == ("shortfall", 85_000, 70_000, 15_000)
    (new,) = penalties.list_penalties(world.session, world.regulator, 2025)
    assert (new.shortfall_t, new.multiple, new.average_price) == (15_000, D("3"), D("50.00"))
    assert new.amount == D("2250000.00")
    assert (new.price_from, new.price_to) == (old.price_from, old.price_to)
    both = penalties.list_penalties(world.session, world.regulator, 2025, include_superseded=True)
    assert [p.id for p in both] == [old.id, new.id]
    world.session.refresh(old)
    # The old figures stand untouched; only its status says it was superseded, and by what.
    assert (old.status, old.shortfall_t, old.amount) == (
        PenaltyStatus.SUPERSEDED, 10_000, D("1500000.00"),
    )  # fmt: skip
    correction = world.session.scalars(select(ComplianceCorrection)).one()
    assert correction.report_id == report.id
    assert (old.ended_by_id, new.correction_id, new.supersedes_id) == (
        correction.id, correction.id, old.id,
    )  # fmt: skip
    assert correction.returned_t == 0
    events = world.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "compliance_penalty")
    ).all()
    assert {e.action for e in events} == {
        "compliance_penalty:supersede", "compliance_penalty:recompute",
    }  # fmt: skip
    assert all(
        e.after is not None and e.after["correction_of"]["report_id"] == report.id for e in events
    )
    notice = world.session.scalars(
        select(Notification).where(Notification.kind == "correction")
    ).one()
    assert "2250000.00 CNY for 15000 t (was 1500000.00 CNY)" in notice.body
    assert verify_ledger(world.session) == []


def test_a_recomputed_penalty_too_large_to_record_leaves_the_penalty_and_says_so(
    world: World, alpha: Covered
) -> None:
    # Priced at 999 999.99 CNY/t: 10 000 t short × 3 × 999 999.99 = 29 999 999 700.00 CNY.
    # Corrected to 40 000 000 000 t: 39 999 930 000 t short × 3 × 999 999.99 ≈ 1.2 × 10^17
    # CNY, beyond the 2^63 − 1 fen (≈ 9.2 × 10^16 CNY) an amount holds. The approval used to
    # fail on the overflow; now it stands, the penalty on record stands, and the notice says.
    seller = world.enterprise("卖方")
    world.give(seller, 5_000, vintage=2025)
    exchange = actor_for(make_user(world.session, role=Role.EXCHANGE, name="exchange"))
    trading.set_reference_price(world.session, world.regulator, unit_kind="allowance",
                                day=date(2026, 6, 1), price=D("999999.99"))  # fmt: skip
    buyer = accounts.open_trading_account(world.session, SYSTEM, holder_name="某投资").number
    trading.record_trade(
        world.session, exchange, kind=TradeKind.LISTED, seller_account=seller.account,
        buyer_account=buyer, unit_kind="allowance", vintage=2025, quantity=1_000,
        price=D("999999.99"), traded_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC),
        external_ref="P1",
    )  # fmt: skip
    _surrender(world, alpha, 70_000)
    world.clock.advance(timedelta(days=30))
    penalties.penalty_assessment(world.session, world.regulator, 2025, AFTER_DEADLINE)
    (old,) = penalties.list_penalties(world.session, world.regulator, 2025)
    assert old.amount == D("29999999700.00")

    report = _correct(world, alpha, "40000000000")

    assert report.status.value == "approved"
    (current,) = penalties.list_penalties(world.session, world.regulator, 2025)
    assert (current.id, current.amount, current.status) == (
        old.id, D("29999999700.00"), PenaltyStatus.CURRENT,
    )  # fmt: skip
    assert _status(world, alpha) == ("shortfall", 40_000_000_000, 70_000, 39_999_930_000)
    notice = world.session.scalars(
        select(Notification).where(Notification.kind == "correction")
    ).one()
    assert f"Penalty {old.id} stands" in notice.body
    assert "39999930000 t is beyond what an amount holds" in notice.body


def test_a_shortfall_gone_to_zero_cancels_the_penalty(world: World, alpha: Covered) -> None:
    old = _penalised_10_000_short(world, alpha)

    _correct(world, alpha, "70000")

    # Obligation 80 000 → 70 000 = what was surrendered, all before the deadline:
    # compliant, no shortfall, so the 1 500 000.00 CNY penalty is cancelled, not replaced.
    assert _status(world, alpha) == ("compliant", 70_000, 70_000, 0)
    assert penalties.list_penalties(world.session, world.regulator, 2025) == []
    (kept,) = penalties.list_penalties(
        world.session, world.regulator, 2025, include_superseded=True
    )
    assert (kept.id, kept.status, kept.amount) == (old.id, PenaltyStatus.CANCELLED, D("1500000.00"))
    assert verify_ledger(world.session) == []
    # The penalty job's notices, if they run only now, tell nobody of the cancelled penalty.
    assert notices.penalty_notices(world.session, world.regulator, 2025) == 0


def _counts(world: World) -> tuple[int, ...]:
    s = world.session
    return tuple(
        s.scalar(select(func.count()).select_from(model)) or 0
        for model in (
            LedgerTransaction, CompliancePenalty, ComplianceCorrection, ComplianceSurrender,
            Notification, AuditEvent,
        )
    )  # fmt: skip


def test_applying_the_same_correction_twice_changes_nothing(world: World, alpha: Covered) -> None:
    _surrender(world, alpha, 80_000)
    report = _correct(world, alpha, "70000")
    before, holding = _counts(world), _allowances(world, alpha)

    again = corrections.apply_correction(world.session, world.regulator, report.id)

    assert again is not None
    assert again.report_id == report.id
    assert _counts(world) == before
    assert _allowances(world, alpha) == holding == 10_001  # 1 + 80 000 − 70 000
    reversals = world.session.scalar(
        select(func.count()).where(LedgerTransaction.kind == TransactionKind.REVERSAL)
    )
    assert reversals == 1
    assert verify_ledger(world.session) == []


def test_a_first_approval_is_not_a_correction(world: World) -> None:
    open_beijing(world)
    who = world.enterprise("乙")
    report = reports.create_report(
        world.session, FILER, enterprise=who.enterprise.credit_code, year=2025,
        streams=STREAMS,
    )  # fmt: skip
    reports.submit_report(world.session, FILER, report.id)
    reports.assign_verifier(world.session, FILER, report.id, verifier="verifier")
    reports.verify_report(world.session, FILER, report.id, verified_co2_t=D("100"),
                          opinion="符合", reason="核查")  # fmt: skip

    corrections.approve_and_apply(world.session, world.regulator, report.id)

    assert world.session.scalar(select(func.count()).select_from(ComplianceCorrection)) == 0


def test_the_daily_sweep_applies_a_correction_approved_elsewhere_once(
    world: World, alpha: Covered
) -> None:
    _surrender(world, alpha, 80_000)
    world.approved_report(alpha, 2025, "79000")  # v2 approved by the service alone
    job = find_job("compliance_sweep")

    first = job.run(world.session, SYSTEM, date(2026, 6, 2))
    counts = _counts(world)
    second = job.run(world.session, SYSTEM, date(2026, 6, 2))

    # 80 000 − 79 000 = 1 000 back: the one surrender reversed, 79 000 re-surrendered.
    assert first == "swept 1 year(s): 2025 (1 enterprises); applied 1 correction(s)"
    assert second == "swept 1 year(s): 2025 (1 enterprises)"
    assert _counts(world)[:5] == counts[:5]  # only the sweep's own audit event is new
    assert _allowances(world, alpha) == 1_001  # 1 + 1 000
    assert _status(world, alpha) == ("compliant", 79_000, 79_000, 0)
    assert verify_ledger(world.session) == []


def test_offsets_over_the_smaller_cap_come_back_after_a_downward_correction(
    world: World,
) -> None:
    # National 2025 (offset cap 5 % of the obligation; surrender deadline 2026-12-31).
    compliance.open_year(world.session, world.regulator, year=2025, rulebook="national",
                         reporting_deadline=date(2026, 6, 30),
                         verification_deadline=date(2026, 6, 30),
                         surrender_deadline=date(2026, 12, 31))  # fmt: skip
    who = world.enterprise("庚电厂")
    world.give(who, 9_500, vintage=2025)
    world.give(who, 500, vintage=2025, kind="ccer")
    world.approved_report(who, 2025, "10000")
    # 10 000 t due, cap floor(5 % × 10 000) = 500 t: the 500 CCER first, then 9 500
    # allowances (the newest).
    for kind, quantity in (("ccer", 500), ("allowance", 9_500)):
        row = compliance.surrender(world.session, who.maker, 2025, unit_kind=kind,
                                   vintage=2025, quantity=quantity)  # fmt: skip
        ledger.approve(world.session, who.checker, row.transaction_id)
        world.clock.advance(timedelta(minutes=1))

    _correct(world, who, "6000")

    # Corrected to 6 000 t: cap floor(5 % × 6 000) = 300 t. The 4 000 t excess would come
    # off the newest surrender, the allowances, leaving 500 CCER over a 300 t cap; so 200
    # CCER go back too and 200 more allowances stay: kept 5 700 allowances + 300 CCER =
    # 6 000 = due, compliant. Back: 3 800 allowances and 200 CCER = 4 000 t. Both
    # surrenders reversed whole, newest first, and re-surrendered in the part kept.
    correction = world.session.scalars(select(ComplianceCorrection)).one()
    assert (correction.previous_obligation_t, correction.obligation_t) == (10_000, 6_000)
    assert correction.returned_t == 4_000
    row = sweep.list_status(world.session, who.maker, 2025)[0]
    assert (row["status"].value, row["surrendered_t"], row["offsets_surrendered_t"]) == (
        "compliant", 6_000, 300,
    )  # fmt: skip
    account = who.enterprise.compliance_account
    assert account is not None
    held = {
        kind: world.session.get_one(Holding, (account.id, kind, 2025)).quantity
        for kind in ("allowance", "ccer")
    }
    assert held == {"allowance": 3_800, "ccer": 200}
    again = world.session.scalars(
        select(ComplianceSurrender)
        .where(ComplianceSurrender.correction_id == correction.id)
        .order_by(ComplianceSurrender.id)
    ).all()
    assert [(s.unit_kind, s.quantity, s.counts_as) for s in again] == [
        ("allowance", 5_700, "allowance"), ("ccer", 300, "offset"),
    ]  # fmt: skip
    reversals = world.session.scalars(
        select(LedgerTransaction)
        .where(LedgerTransaction.kind == TransactionKind.REVERSAL)
        .order_by(LedgerTransaction.id)
    ).all()
    assert [(r.unit_kind, r.quantity) for r in reversals] == [("allowance", 9_500), ("ccer", 500)]
    audit = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "compliance_correction:apply")
    ).one()
    assert audit.after is not None
    assert (audit.after["offsets_returned_t"], audit.after["offset_cap_t"]) == (200, 300)
    notice = world.session.scalars(select(Notification)).one()
    assert "4000 surrendered unit(s)" in notice.body
    assert "200 offset(s): at most 300 t" in notice.body
    assert verify_ledger(world.session) == []
