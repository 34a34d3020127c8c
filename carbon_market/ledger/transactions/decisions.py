"""Deciding on a pending transaction: approve (four eyes), reject, cancel.

An approved transfer to an account not on the source's trusted list waits ``delayed`` for
``LEDGER_UNTRUSTED_DELAY_HOURS`` (26 by default) and can be cancelled meanwhile
(``due.py`` completes it when the delay is over).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.kernel.errors import (
    AccountNotUsable,
    Conflict,
    FieldError,
    FourEyesViolation,
    NotFound,
    PermissionDenied,
)
from carbon_market.ledger.accounts.service import can_see
from carbon_market.ledger.enums import (
    GOVERNMENT_KINDS,
    OPEN_STATUSES,
    AccountKind,
    AccountStatus,
    TransactionKind,
    TransactionStatus,
)
from carbon_market.ledger.models import Account, LedgerTransaction, TrustedAccount, TrustStatus
from carbon_market.ledger.posting import engine
from carbon_market.ledger.rules import needs_delay
from carbon_market.ledger.transactions.records import (
    AnyAccount,
    audit,
    locked_transaction,
    movement,
)


def _is_trusted(session: Session, source: AnyAccount, destination: AnyAccount) -> bool:
    return (
        session.scalar(
            select(TrustedAccount.id).where(
                TrustedAccount.account_id == source.id,
                TrustedAccount.trusted_account_id == destination.id,
                TrustedAccount.status == TrustStatus.ACTIVE,
            )
        )
        is not None
    )


def load_for_decision(
    session: Session, actor: Actor, tx_id: int
) -> tuple[LedgerTransaction, Account, Account]:
    tx = locked_transaction(session, tx_id)
    # Fresh too, for the same reason: an account blocked or closed since counts.
    source = session.get_one(Account, tx.from_account_id, populate_existing=True)
    destination = session.get_one(Account, tx.to_account_id, populate_existing=True)
    if not actor.is_system and actor.role is Role.ENTERPRISE and not can_see(actor, source):
        raise NotFound(f"transaction {tx_id} does not exist")
    return tx, source, destination


def _is_reserved(source: AnyAccount) -> bool:
    return source.kind is not AccountKind.GOVERNMENT_ISSUANCE


def _is_regulators(tx: LedgerTransaction, source: AnyAccount) -> bool:
    """Issuances, reversals and moves out of government accounts are the regulators' to
    decide; everything else is the source enterprise's."""
    return (
        tx.kind in (TransactionKind.ISSUANCE, TransactionKind.REVERSAL)
        or source.kind in GOVERNMENT_KINDS
    )


def _check_role_for(actor: Actor, tx: LedgerTransaction, source: AnyAccount) -> None:
    regulators = _is_regulators(tx, source)
    if actor.role is Role.ENTERPRISE and regulators:
        raise PermissionDenied("a regulator decides on this transaction")
    if actor.role is Role.REGULATOR and not regulators:
        raise PermissionDenied("the enterprise's own users decide on its transfers")


def _check_decider(actor: Actor, tx: LedgerTransaction, source: AnyAccount) -> None:
    if tx.status is not TransactionStatus.PENDING_APPROVAL:
        raise Conflict(f"transaction {tx.id} is {tx.status}, not pending approval")
    _check_role_for(actor, tx, source)
    if actor.user_id is not None and actor.user_id == tx.initiator_user_id:
        raise FourEyesViolation("the initiator of a transaction cannot decide on it")
    if actor.role is Role.ENTERPRISE and not actor.can_approve:
        raise FourEyesViolation("you do not have the approver capability")


def source_blocked(tx: LedgerTransaction, source: AnyAccount) -> bool:
    """A blocked account moves nothing out, even for a transfer requested before the block;
    only a reversal (the regulators' correction) may still take units out of it."""
    return tx.kind is not TransactionKind.REVERSAL and source.status is not AccountStatus.OPEN


def _check_not_lapsed(tx: LedgerTransaction, now: datetime) -> None:
    """A pending transaction lapses at ``expires_at``, whenever run-due next marks it
    expired: an approval after that moment is refused."""
    if tx.expires_at is not None and tx.expires_at <= now:
        raise Conflict(
            f"transaction {tx.id} lapsed at {tx.expires_at.isoformat()} unapproved; "
            "request it again"
        )


@transactional
def approve(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """Approve a pending transaction: a second person, never its initiator. It completes,
    or waits out the untrusted-destination delay.

    Raises NotFound, Conflict (not pending: approving twice), FourEyesViolation."""
    authorize(actor, "ledger.decide")
    tx, source, destination = load_for_decision(session, actor, tx_id)
    _check_decider(actor, tx, source)
    now = clock_of(session).now()
    _check_not_lapsed(tx, now)
    if source_blocked(tx, source):
        raise AccountNotUsable(
            f"account {source.number} is {source.status}: nothing moves out",
            errors=[FieldError("#/from_account", str(source.status))],
        )
    tx.decided_by, tx.decider_user_id, tx.decided_at = actor.name, actor.user_id, now
    delay = config_of(session).ledger_untrusted_delay_hours
    # The delay guards holders against a stolen login; the regulators' own transactions
    # (issuance, government transfers, reversals) already had a second regulator's eyes.
    if not _is_regulators(tx, source) and needs_delay(
        source.kind,
        destination.kind,
        delay_hours=delay,
        is_trusted=_is_trusted(session, source, destination),
    ):
        tx.status = TransactionStatus.DELAYED
        tx.execute_after = now + timedelta(hours=delay)
        audit(session, actor, tx, "delay")
        return tx
    complete(session, tx, source, destination)
    audit(session, actor, tx, "approve")
    return tx


def complete(
    session: Session, tx: LedgerTransaction, source: AnyAccount, destination: AnyAccount
) -> None:
    if destination.status is AccountStatus.CLOSED:
        raise AccountNotUsable(f"account {destination.number} was closed meanwhile")
    session.flush()  # the engine's Core statements must see the decision fields written
    engine.complete(
        session,
        tx_id=tx.id,
        tx_uuid=tx.uuid,
        kind=tx.kind,
        movement=movement(tx, source, destination),
        at=clock_of(session).now(),
        from_reserved=_is_reserved(source),
    )
    session.refresh(tx)  # the engine updated the row behind the ORM's back


def close(
    session: Session,
    actor: Actor,
    tx: LedgerTransaction,
    source: AnyAccount,
    destination: AnyAccount,
    status: TransactionStatus,
    action: str,
) -> LedgerTransaction:
    if _is_reserved(source):
        engine.release(session, movement(tx, source, destination))
    tx.status = status
    tx.decided_by, tx.decider_user_id = actor.name, actor.user_id
    tx.decided_at = clock_of(session).now()
    audit(session, actor, tx, action)
    return tx


@transactional
def reject(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """Refuse a pending transaction; its reserved units are released. Same deciders as
    :func:`approve`."""
    authorize(actor, "ledger.decide")
    tx, source, destination = load_for_decision(session, actor, tx_id)
    _check_decider(actor, tx, source)
    return close(session, actor, tx, source, destination, TransactionStatus.REJECTED, "reject")


@transactional
def cancel(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """Withdraw a pending or delayed transaction (the source's own users, or a regulator
    for government accounts); its reserved units are released."""
    authorize(actor, "ledger.transfer")
    tx, source, destination = load_for_decision(session, actor, tx_id)
    if tx.status not in OPEN_STATUSES:
        raise Conflict(
            f"transaction {tx.id} is {tx.status}; only pending or delayed ones can be cancelled"
        )
    _check_role_for(actor, tx, source)
    return close(session, actor, tx, source, destination, TransactionStatus.CANCELLED, "cancel")
