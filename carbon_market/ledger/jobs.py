"""The ledger's scheduled jobs: releasing and expiring transfers, verifying the ledger,
expiring units, and telling approvers what waits for them.

Each is a thin caller of services; what it sends goes through the notifications outbox
with a dedupe key, so running a job twice for the same day sends nothing twice.
"""

from __future__ import annotations

from datetime import date

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import transactional
from carbon_market.ledger.enums import GOVERNMENT_KINDS, TransactionStatus
from carbon_market.ledger.models import Account, LedgerTransaction
from carbon_market.ledger.transactions.expiry import Expired, expire_units
from carbon_market.ledger.verify import verify_ledger
from carbon_market.notifications.models import Notification
from carbon_market.notifications.service import enqueue
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.result import JobResult

#: Problems listed in the regulators' message at most (the CLI shows them all).
LISTED_PROBLEMS = 20


def _ledger_run_due(session: Session, actor: Actor, day: date) -> JobResult:
    """Acts on what is due now, whatever the day: a delay ends at an instant, not a date."""
    from carbon_market.ledger.transactions import run_due

    result = run_due(session, actor)
    return JobResult(
        f"released {result['released']} delayed and expired {result['expired']} pending",
        dict(result),
    )


def ledger_verify(session: Session, actor: Actor, day: date) -> JobResult:
    """The checks of ``carbon-market ledger verify``; on a problem the run is failed and the
    regulators get one ``ledger_verify_failed`` message for the day."""
    problems = verify_ledger(session)
    if not problems:
        return JobResult("ledger verified: no problems", {"problems": 0})
    first = next((p for p in problems if p.transaction_id is not None), problems[0])
    where = f"transaction {first.transaction_id}" if first.transaction_id else first.check
    lines = [f"[{p.check}] {p.detail}" for p in problems[:LISTED_PROBLEMS]]
    if len(problems) > LISTED_PROBLEMS:
        lines.append(f"... and {len(problems) - LISTED_PROBLEMS} more")
    enqueue(
        session,
        kind="ledger_verify_failed",
        subject=f"Ledger verification failed on {day}: {len(problems)} problem(s) at {where}",
        body="\n".join(lines),
        dedupe_key=f"ledger_verify_failed:{day.isoformat()}",
        to_regulators=True,
    )
    return JobResult(
        f"ledger verification failed at {where}: {first.detail}",
        {"problems": len(problems)},
        failed=True,
    )


@transactional
def _expire_and_tell(session: Session, actor: Actor, day: date) -> list[Expired]:
    """One unit of work: the cancellations and the messages about them land together, so a
    crash cannot leave units expired with nobody told (the next run would find nothing)."""
    moved = expire_units(session, actor, day=day)
    for item in moved:
        if item.enterprise_id is None:
            continue
        enqueue(
            session,
            kind="units_expired",
            subject=f"{item.quantity} {item.unit_kind} units of vintage {item.vintage} expired",
            body=(
                f"{item.quantity} units of {item.unit_kind}, vintage {item.vintage}, in account "
                f"{item.account_number} reached the end of their validity and were cancelled "
                f"(transaction {item.transaction_id}) on {day}."
            ),
            dedupe_key=f"units_expired:{item.transaction_id}",
            enterprise_id=item.enterprise_id,
        )
    return moved


def unit_expiry(session: Session, actor: Actor, day: date) -> JobResult:
    """Cancel the units whose validity ended by ``day``; tell each enterprise once."""
    moved = _expire_and_tell(session, actor, day)
    units = sum(item.quantity for item in moved)
    return JobResult(
        f"expired {units} unit(s) in {len(moved)} holding(s)",
        {"holdings": len(moved), "units": units},
    )


def approvals_notify(session: Session, actor: Actor, day: date) -> JobResult:
    """One ``approval_needed`` message per transaction waiting for approval: to the
    source account's enterprise, or to the regulators for a government account. Scans the
    pending transactions (few: they lapse within days) and skips those already told."""
    pending = session.execute(
        select(LedgerTransaction, Account)
        .join(Account, Account.id == LedgerTransaction.from_account_id)
        .where(LedgerTransaction.status == TransactionStatus.PENDING_APPROVAL)
        .order_by(LedgerTransaction.id)
    ).all()
    keys = {f"approval_needed:tx:{tx.id}": (tx, account) for tx, account in pending}
    told = set(
        session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys)))
    )
    sent = 0
    for key, (tx, account) in keys.items():
        if key in told:
            continue
        to_regulators = account.kind in GOVERNMENT_KINDS or account.enterprise_id is None
        message = enqueue(
            session,
            kind="approval_needed",
            subject=f"Transaction {tx.id} waits for approval",
            body=(
                f"{tx.kind} of {tx.quantity} {tx.unit_kind} (vintage {tx.vintage}) from "
                f"{account.number}, requested by {tx.initiated_by}, waits for a second "
                f"approver. It lapses at {tx.expires_at.isoformat() if tx.expires_at else '-'}."
            ),
            dedupe_key=key,
            enterprise_id=None if to_regulators else account.enterprise_id,
            to_regulators=to_regulators,
        )
        sent += message is not None
    return JobResult(f"{sent} approval notice(s) enqueued", {"enqueued": sent})


JOBS: tuple[Job, ...] = (
    Job(
        "ledger_run_due",
        "Complete delayed transfers whose delay is over; expire pending ones nobody approved",
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        _ledger_run_due,
    ),
    Job(
        "ledger_verify",
        "Verify the whole ledger nightly (as `carbon-market ledger verify`); tell the "
        "regulators when a check fails",
        lambda tz: CronTrigger(hour=2, minute=30, timezone=tz),
        ledger_verify,
    ),
    Job(
        "unit_expiry",
        "Cancel units whose validity ended (unit kinds with validity_years) into the "
        "retirement account",
        lambda tz: CronTrigger(hour=0, minute=10, timezone=tz),
        unit_expiry,
    ),
    Job(
        "approvals_notify",
        "Tell the enterprise (or the regulators) about transactions waiting for approval",
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        approvals_notify,
    ),
)
