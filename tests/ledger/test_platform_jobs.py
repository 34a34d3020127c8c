"""The ledger's scheduled jobs: ``unit_expiry``, ``ledger_verify`` and ``approvals_notify``.

Worked example of expiry (CCERs valid 3 years, a configurable default set by the test):
vintage V is valid while V + 3 > the year, so on 2026-01-01 vintage 2023 (2023 + 3 = 2026)
has expired and 2024 (2027 > 2026) has not. alpha holds 100 CCER 2023, 30 of them reserved
by a pending transfer, and 50 CCER 2024: the job moves 100 − 30 = 70 of 2023 to the
retirement account and leaves the rest; once the transfer lapses, the next run moves the 30.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from carbon_market.entrypoints.jobs import find_job
from carbon_market.ledger.enums import TransactionKind
from carbon_market.ledger.models import LedgerTransaction, UnitKind
from carbon_market.ledger.transactions.expiry import last_valid_vintage
from carbon_market.notifications.models import Notification
from carbon_market.scheduler.jobs import run_job
from carbon_market.scheduler.models import RunOutcome
from tests.ledger.conftest import RETIREMENT


@pytest.fixture
def sessions(app):
    return app.extensions["carbon_market.session_factory"]


def _validity(session, code: str, years: int | None) -> None:
    session.execute(update(UnitKind).where(UnitKind.code == code).values(validity_years=years))
    session.commit()


def _notes(session, kind: str) -> list[Notification]:
    session.rollback()  # end the test session's read snapshot: the jobs committed elsewhere
    return list(
        session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def test_last_valid_vintage_matches_the_worked_example():
    assert last_valid_vintage(3, date(2026, 1, 1)) == 2024
    assert last_valid_vintage(3, date(2025, 12, 31)) == 2023
    assert last_valid_vintage(1, date(2026, 6, 1)) == 2026


@pytest.fixture
def ccer_world(world):
    world.fund(world.alpha, 100, unit_kind="ccer", vintage=2023)
    world.fund(world.alpha, 50, unit_kind="ccer", vintage=2024)
    pending = world.transfer(world.alpha, world.beta.account, 30, unit_kind="ccer", vintage=2023)
    _validity(world.session, "ccer", 3)
    return world, pending


def test_units_expire_on_the_first_day_after_their_validity(
    ccer_world, sessions, assert_ledger_sound
):
    world, _ = ccer_world
    eve = run_job(find_job("unit_expiry"), sessions, date(2025, 12, 31))
    assert eve.counts == {"holdings": 0, "units": 0}

    record = run_job(find_job("unit_expiry"), sessions, date(2026, 1, 1))

    assert record.outcome is RunOutcome.OK
    assert record.counts == {"holdings": 1, "units": 70}
    assert record.summary == "expired 70 unit(s) in 1 holding(s)"
    assert world.holding(world.alpha.account, "ccer", 2023) == (30, 30)
    assert world.holding(world.alpha.account, "ccer", 2024) == (50, 0)
    assert world.holding(RETIREMENT, "ccer", 2023) == (70, 0)
    cancellation = world.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.CANCELLATION)
    )
    assert cancellation.quantity == 70
    assert cancellation.initiated_by == "scheduler"
    assert cancellation.memo == "expired: ccer vintage 2023 (unit_expiry 2026-01-01)"
    [note] = _notes(world.session, "units_expired")
    assert note.enterprise_id == world.alpha.enterprise.id
    assert note.subject == "70 ccer units of vintage 2023 expired"
    assert_ledger_sound()


def test_running_expiry_twice_for_the_same_day_changes_nothing(
    ccer_world, sessions, assert_ledger_sound
):
    world, _ = ccer_world
    run_job(find_job("unit_expiry"), sessions, date(2026, 1, 1))
    again = run_job(find_job("unit_expiry"), sessions, date(2026, 1, 1))
    assert again.counts == {"holdings": 0, "units": 0}
    assert world.holding(RETIREMENT, "ccer", 2023) == (70, 0)
    assert len(_notes(world.session, "units_expired")) == 1
    assert_ledger_sound()


def test_reserved_units_expire_once_their_transfer_is_gone(
    ccer_world, sessions, assert_ledger_sound
):
    from carbon_market.ledger import transactions as ledger

    world, pending = ccer_world
    run_job(find_job("unit_expiry"), sessions, date(2026, 1, 1))
    ledger.cancel(world.session, world.alpha.initiator, pending.id)
    record = run_job(find_job("unit_expiry"), sessions, date(2026, 1, 2))
    assert record.counts == {"holdings": 1, "units": 30}
    assert world.holding(world.alpha.account, "ccer", 2023) == (0, 0)
    assert world.holding(RETIREMENT, "ccer", 2023) == (100, 0)
    assert_ledger_sound()


def test_kinds_without_validity_never_expire(world, sessions):
    world.fund(world.alpha, 10, vintage=2001)
    record = run_job(find_job("unit_expiry"), sessions, date(2099, 1, 1))
    assert record.counts == {"holdings": 0, "units": 0}
    assert world.holding(world.alpha.account, "allowance", 2001) == (10, 0)


def test_ledger_verify_job_is_ok_on_a_sound_ledger(world, sessions):
    world.fund(world.alpha, 100)
    record = run_job(find_job("ledger_verify"), sessions, date(2026, 6, 1))
    assert record.outcome is RunOutcome.OK
    assert record.counts == {"problems": 0}
    assert _notes(world.session, "ledger_verify_failed") == []


def test_ledger_verify_job_fails_and_tells_the_regulators_once_a_day(world, sessions):
    world.fund(world.alpha, 100)
    # A holding changed behind the platform's back: 100 held, postings say 100, now 105.
    world.session.execute(
        text(
            "UPDATE holding SET quantity = quantity + 5 WHERE account_id = "
            "(SELECT id FROM account WHERE number = :n)"
        ),
        {"n": world.alpha.account},
    )
    world.session.commit()

    record = run_job(find_job("ledger_verify"), sessions, date(2026, 6, 1))

    assert record.outcome is RunOutcome.FAILED
    assert record.counts["problems"] >= 1
    assert record.summary.startswith("ledger verification failed at ")
    [note] = _notes(world.session, "ledger_verify_failed")
    assert note.to_regulators
    assert note.enterprise_id is None
    assert "holding 105 but postings sum to 100" in note.body
    run_job(find_job("ledger_verify"), sessions, date(2026, 6, 1))
    assert len(_notes(world.session, "ledger_verify_failed")) == 1  # same day: no second one
    third = run_job(find_job("ledger_verify"), sessions, date(2026, 6, 2))
    assert third.error is None, third.error
    assert len(_notes(world.session, "ledger_verify_failed")) == 2


def test_approvals_notify_tells_the_enterprise_once_per_pending_transaction(world, sessions):
    world.fund(world.alpha, 100)
    pending = world.transfer(world.alpha, world.beta.account, 10)
    first = run_job(find_job("approvals_notify"), sessions, date(2026, 6, 1))
    second = run_job(find_job("approvals_notify"), sessions, date(2026, 6, 1))
    assert (first.counts, second.counts) == ({"enqueued": 1}, {"enqueued": 0})
    [note] = _notes(world.session, "approval_needed")
    assert note.enterprise_id == world.alpha.enterprise.id
    assert not note.to_regulators
    assert note.dedupe_key == f"approval_needed:tx:{pending.id}"
    assert note.subject == f"Transaction {pending.id} waits for approval"


def test_approvals_notify_tells_the_regulators_about_a_pending_issuance(world, sessions):
    from carbon_market.ledger import transactions as ledger

    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=5
    )
    run_job(find_job("approvals_notify"), sessions, date(2026, 6, 1))
    [note] = _notes(world.session, "approval_needed")
    assert note.to_regulators
    assert note.enterprise_id is None
    assert note.dedupe_key == f"approval_needed:tx:{tx.id}"
    count = world.session.scalar(select(func.count()).select_from(Notification))
    assert count == 1
