"""What falls due with time: delayed transfers to complete, pending ones that lapsed.

``run_due`` is the ``ledger_run_due`` job and ``carbon-market ledger run-due``; each
transaction is a unit of work of its own, so one failure stops nothing else.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, each_in_own_unit, transactional
from carbon_market.ledger.enums import AccountStatus, TransactionStatus
from carbon_market.ledger.models import LedgerTransaction
from carbon_market.ledger.transactions.decisions import (
    close,
    complete,
    load_for_decision,
    source_blocked,
)
from carbon_market.ledger.transactions.records import audit


@transactional
def _release_one(session: Session, actor: Actor, tx_id: int) -> bool:
    tx, source, destination = load_for_decision(session, actor, tx_id)
    now = clock_of(session).now()
    if (
        tx.status is not TransactionStatus.DELAYED
        or tx.execute_after is None
        or (tx.execute_after > now)
    ):
        return False  # cancelled or already released by another worker meanwhile
    if destination.status is AccountStatus.CLOSED:
        close(session, actor, tx, source, destination, TransactionStatus.CANCELLED, "cancel")
        return False
    if source_blocked(tx, source):
        return False  # blocked during the delay: waits until unblocked, or is cancelled
    complete(session, tx, source, destination)
    audit(session, actor, tx, "release")
    return True


@transactional
def _expire_one(session: Session, actor: Actor, tx_id: int) -> bool:
    tx, source, destination = load_for_decision(session, actor, tx_id)
    if (
        tx.status is not TransactionStatus.PENDING_APPROVAL
        or tx.expires_at is None
        or (tx.expires_at > clock_of(session).now())
    ):
        return False
    close(session, actor, tx, source, destination, TransactionStatus.EXPIRED, "expire")
    return True


def run_due(session: Session, actor: Actor) -> dict[str, int]:
    """Complete delayed transfers whose delay is over and expire pending ones nobody
    approved in time. One unit of work per transaction, so one failure stops nothing else.
    The system actor (the scheduler) and regulators run it."""
    if not actor.is_system:
        authorize(actor, "ledger.reverse")  # regulators only: the same trust as reversals
    now = clock_of(session).now()
    due = list(
        session.scalars(
            select(LedgerTransaction.id)
            .where(
                LedgerTransaction.status == TransactionStatus.DELAYED,
                LedgerTransaction.execute_after <= now,
            )
            .order_by(LedgerTransaction.id)
        )
    )
    lapsed = list(
        session.scalars(
            select(LedgerTransaction.id)
            .where(
                LedgerTransaction.status == TransactionStatus.PENDING_APPROVAL,
                LedgerTransaction.expires_at <= now,
            )
            .order_by(LedgerTransaction.id)
        )
    )
    released = sum(
        each_in_own_unit(session, due, lambda tx_id: _release_one(session, actor, tx_id))
    )
    expired = sum(
        each_in_own_unit(session, lapsed, lambda tx_id: _expire_one(session, actor, tx_id))
    )
    return {"released": released, "expired": expired}
