"""Ledger transactions: request, approve, reject, cancel, delay, expire, reverse, issue.

The workflow (four eyes, after the registry rules in docs/ledger.md):

* an enterprise user with the initiator capability requests a transfer out of their
  enterprise's account; the units are reserved at once so they cannot be spent twice, and the
  transfer waits in ``pending_approval`` until another user of the same enterprise with the
  approver capability approves it (never the initiator), or it lapses;
* a regulator's issuance, and a regulator's transfer out of a government account, likewise
  wait for a second regulator;
* an approved transfer to an account not on the source's trusted list waits ``delayed`` for
  ``LEDGER_UNTRUSTED_DELAY_HOURS`` (26 by default) and can be cancelled meanwhile;
* the system actor (settlement, scheduled jobs) posts at once.

Posting itself is ``engine.py``; this module decides.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, config_of, each_in_own_unit, transactional
from carbon_market.kernel.errors import (
    AccountNotUsable,
    Conflict,
    FieldError,
    FourEyesViolation,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger.accounts.service import (
    REGULATOR_SOURCES,
    AccountRef,
    can_see,
    government_account,
    parse_account_number,
)
from carbon_market.ledger.enums import (
    GOVERNMENT_KINDS,
    OPEN_STATUSES,
    AccountKind,
    AccountStatus,
    TransactionKind,
    TransactionStatus,
)
from carbon_market.ledger.models import (
    Account,
    LedgerTransaction,
    TrustedAccount,
    TrustStatus,
    UnitKind,
)
from carbon_market.ledger.posting import engine
from carbon_market.ledger.rules import check_quantity_and_vintage, needs_delay, transfer_kind

#: The transfer path reads accounts as plain rows; the decision paths load ORM objects.
AnyAccount = Account | AccountRef

TX_FIELDS = [
    "kind",
    "status",
    "from_account_id",
    "to_account_id",
    "unit_kind",
    "vintage",
    "quantity",
    "memo",
]


def _leg(account: AnyAccount) -> engine.Leg:
    return engine.Leg(
        account.id, account.number, is_issuance=account.kind is AccountKind.GOVERNMENT_ISSUANCE
    )


def _movement(
    tx: LedgerTransaction, source: AnyAccount, destination: AnyAccount
) -> engine.Movement:
    return engine.Movement(_leg(source), _leg(destination), tx.unit_kind, tx.vintage, tx.quantity)


def _active_unit_kinds(session: Session, *, refresh: bool = False) -> frozenset[str]:
    # Cached for the session (one request or job): the catalogue changes rarely, and a miss
    # reloads it once, so a unit kind added meanwhile is still found.
    cached: frozenset[str] | None = session.info.get("ledger.unit_kinds")
    if cached is None or refresh:
        cached = frozenset(session.scalars(select(UnitKind.code).where(UnitKind.is_active)))
        session.info["ledger.unit_kinds"] = cached
    return cached


def _find_pair(session: Session, source: str, destination: str) -> tuple[AccountRef, AccountRef]:
    """Both accounts of a transfer in one query; NotFound names the missing side."""
    found = {
        number: AccountRef(id_, number, AccountKind(kind), AccountStatus(status), owner, limit)
        for id_, number, kind, status, owner, limit in engine.account_rows(
            session, source, destination
        )
    }
    for number, pointer in ((source, "#/from_account"), (destination, "#/to_account")):
        if number not in found:
            raise NotFound(f"no account {number}", errors=[FieldError(pointer, "no such account")])
    return found[source], found[destination]


def _check_unit_kind(session: Session, unit_kind: str) -> None:
    if unit_kind in _active_unit_kinds(session):
        return
    if unit_kind not in _active_unit_kinds(session, refresh=True):
        raise ValidationFailed(
            f"unknown unit kind {unit_kind!r}",
            errors=[FieldError("#/unit_kind", "not in the unit catalogue")],
        )


def _check_usable(source: AnyAccount, destination: AnyAccount) -> None:
    if source.status is not AccountStatus.OPEN:
        raise AccountNotUsable(
            f"account {source.number} is {source.status}: nothing moves out",
            errors=[FieldError("#/from_account", str(source.status))],
        )
    if destination.status is AccountStatus.CLOSED:
        raise AccountNotUsable(
            f"account {destination.number} is closed", errors=[FieldError("#/to_account", "closed")]
        )


def _check_initiator(actor: Actor, source: AnyAccount) -> None:
    """Who may move units out of ``source``."""
    if actor.is_system:
        return
    if actor.role is Role.ENTERPRISE:
        if source.enterprise_id != actor.enterprise_id:
            raise NotFound(
                f"no account {source.number}",
                errors=[FieldError("#/from_account", "no such account")],
            )
        if not actor.can_initiate:
            raise FourEyesViolation("you do not have the initiator capability")
        return
    if source.kind not in REGULATOR_SOURCES:
        raise PermissionDenied(
            "regulators move units only out of the reserve or auction "
            "account; correct other accounts with a reversal"
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


def _new_pending(
    session: Session,
    actor: Actor,
    *,
    kind: TransactionKind,
    source: AnyAccount,
    destination: AnyAccount,
    unit_kind: str,
    vintage: int,
    quantity: int,
    memo: str,
    reverses_id: int | None = None,
) -> LedgerTransaction:
    now = clock_of(session).now()
    tx = LedgerTransaction(
        uuid=str(uuid_module.uuid4()),
        kind=kind,
        status=TransactionStatus.PENDING_APPROVAL,
        from_account_id=source.id,
        to_account_id=destination.id,
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        memo=memo,
        initiated_by=actor.name,
        initiator_user_id=actor.user_id,
        created_at=now,
        reverses_id=reverses_id,
        expires_at=now + timedelta(hours=config_of(session).ledger_pending_ttl_hours),
        request_id=actor.request_id,
    )
    session.add(tx)
    session.flush()  # the id names the transaction in the audit record and the response
    return tx


def _audit(
    session: Session,
    actor: Actor,
    tx: LedgerTransaction,
    action: str,
    before: dict[str, object] | None = None,
) -> None:
    record(
        session,
        actor,
        action=f"transaction:{action}",
        entity_type="ledger_transaction",
        entity_id=tx.id,
        before=before,
        after={**{f: getattr(tx, f) for f in TX_FIELDS}, "status": tx.status},
    )


@transactional
def request_transfer(
    session: Session,
    actor: Actor,
    *,
    from_account: str,
    to_account: str,
    unit_kind: str,
    vintage: int,
    quantity: int,
    memo: str = "",
    kind: TransactionKind | None = None,
) -> LedgerTransaction:
    """Ask to move units. Enterprise users (initiators) from their own accounts; regulators
    from the reserve or auction account; the system actor from anywhere (posted at once).

    Raises ValidationFailed (quantity, vintage, unit kind, account numbers, same account),
    NotFound (unknown account, or another enterprise's), AccountNotUsable (blocked or
    closed), RuleViolation (per-transfer limit) and InsufficientHolding.
    """
    authorize(actor, "ledger.transfer")
    check_quantity_and_vintage(quantity, vintage)
    from_number = parse_account_number(from_account, "#/from_account")
    to_number = parse_account_number(to_account, "#/to_account")
    if from_number == to_number:
        raise ValidationFailed(
            "source and destination are the same account",
            errors=[FieldError("#/to_account", "same as from_account")],
        )
    source, destination = _find_pair(session, from_number, to_number)
    _check_initiator(actor, source)
    if source.kind is AccountKind.GOVERNMENT_ISSUANCE:
        raise RuleViolation("units leave the issuance account only by an issuance")
    _check_usable(source, destination)
    _check_unit_kind(session, unit_kind)
    if source.transfer_limit is not None and quantity > source.transfer_limit:
        raise RuleViolation(
            f"account {source.number} limits one transfer to {source.transfer_limit} units",
            errors=[FieldError("#/quantity", "over the per-transfer limit")],
        )
    kind = kind or transfer_kind(source.kind, destination.kind)
    if actor.is_system:
        return _post_at_once(
            session, actor, kind, source, destination, unit_kind, vintage, quantity, memo
        )
    tx = _new_pending(
        session,
        actor,
        kind=kind,
        source=source,
        destination=destination,
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        memo=memo,
    )
    engine.reserve(session, _movement(tx, source, destination))
    _audit(session, actor, tx, "request")
    return tx


def _post_at_once(
    session: Session,
    actor: Actor,
    kind: TransactionKind,
    source: AnyAccount,
    destination: AnyAccount,
    unit_kind: str,
    vintage: int,
    quantity: int,
    memo: str,
    reverses_id: int | None = None,
) -> LedgerTransaction:
    """Post without an approval step (the system actor): the engine writes the rows and the
    audit event; the returned object is built from what was written, not read back."""
    movement = engine.Movement(_leg(source), _leg(destination), unit_kind, vintage, quantity)
    at = clock_of(session).now()
    initiator = engine.Initiator(
        actor.name, actor.user_id, actor.role.value if actor.role else None, actor.request_id
    )
    after = {
        "kind": kind.value,
        "status": TransactionStatus.COMPLETED.value,
        "from_account": source.number,
        "to_account": destination.number,
        "unit_kind": unit_kind,
        "vintage": vintage,
        "quantity": quantity,
        "memo": memo,
    }
    if reverses_id is not None:
        after["reverses_id"] = reverses_id
    posted = engine.post_new(
        session,
        kind=kind,
        movement=movement,
        at=at,
        initiator=initiator,
        memo=memo,
        reverses_id=reverses_id,
        audit_after=after,
    )
    tx = detached_transaction(
        id=posted.id,
        uuid=posted.uuid,
        kind=kind,
        status=TransactionStatus.COMPLETED,
        from_account_id=source.id,
        to_account_id=destination.id,
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        memo=memo,
        initiated_by=actor.name,
        initiator_user_id=actor.user_id,
        created_at=at,
        completed_at=at,
        request_id=actor.request_id,
        seq=posted.seq,
        prev_hash=posted.prev_hash,
        hash=posted.hash,
        decided_by=None,
        decider_user_id=None,
        decided_at=None,
        expires_at=None,
        execute_after=None,
        reverses_id=reverses_id,
    )
    session.add(tx)
    return tx


def detached_transaction(**values: Any) -> LedgerTransaction:
    """A LedgerTransaction for a row just written, as the ORM builds one it loaded: the
    values go straight into the instance's dict, skipping the attribute events a
    constructor fires for each of its 24 columns (a fifth of a transfer's Python time), and
    the object is marked as already in the database, so adding it to the session inserts
    nothing."""
    tx: LedgerTransaction = manager_of_class(LedgerTransaction).new_instance()
    tx.__dict__.update(values)
    make_transient_to_detached(tx)
    return tx


@transactional
def issue(
    session: Session, actor: Actor, *, unit_kind: str, vintage: int, quantity: int, memo: str = ""
) -> LedgerTransaction:
    """Ask to create units: the issuance account goes negative by ``quantity`` and the
    government reserve receives them, once a second regulator approves. Regulators only."""
    authorize(actor, "ledger.issue")
    check_quantity_and_vintage(quantity, vintage)
    _check_unit_kind(session, unit_kind)
    source = government_account(session, AccountKind.GOVERNMENT_ISSUANCE)
    destination = government_account(session, AccountKind.GOVERNMENT_RESERVE)
    if actor.is_system:
        return _post_at_once(
            session,
            actor,
            TransactionKind.ISSUANCE,
            source,
            destination,
            unit_kind,
            vintage,
            quantity,
            memo,
        )
    tx = _new_pending(
        session,
        actor,
        kind=TransactionKind.ISSUANCE,
        source=source,
        destination=destination,
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        memo=memo,
    )
    _audit(session, actor, tx, "request")
    return tx


def _locked_transaction(session: Session, tx_id: int) -> LedgerTransaction:
    """The transaction, locked until the unit of work ends and read fresh: decisions and
    reversals of one transaction queue on it, and each sees what the one before did.

    populate_existing: sessions keep their objects across commits, so without it a
    transaction this session loaded earlier keeps the status it had then, and a transfer
    another session rejected or expired meanwhile could still be posted."""
    tx = session.scalar(
        select(LedgerTransaction)
        .where(LedgerTransaction.id == tx_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if tx is None:
        raise NotFound(f"transaction {tx_id} does not exist")
    return tx


def _load_for_decision(
    session: Session, actor: Actor, tx_id: int
) -> tuple[LedgerTransaction, Account, Account]:
    tx = _locked_transaction(session, tx_id)
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


def _source_blocked(tx: LedgerTransaction, source: AnyAccount) -> bool:
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
    tx, source, destination = _load_for_decision(session, actor, tx_id)
    _check_decider(actor, tx, source)
    now = clock_of(session).now()
    _check_not_lapsed(tx, now)
    if _source_blocked(tx, source):
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
        _audit(session, actor, tx, "delay")
        return tx
    _complete(session, tx, source, destination)
    _audit(session, actor, tx, "approve")
    return tx


def _complete(
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
        movement=_movement(tx, source, destination),
        at=clock_of(session).now(),
        from_reserved=_is_reserved(source),
    )
    session.refresh(tx)  # the engine updated the row behind the ORM's back


def _close(
    session: Session,
    actor: Actor,
    tx: LedgerTransaction,
    source: AnyAccount,
    destination: AnyAccount,
    status: TransactionStatus,
    action: str,
) -> LedgerTransaction:
    if _is_reserved(source):
        engine.release(session, _movement(tx, source, destination))
    tx.status = status
    tx.decided_by, tx.decider_user_id = actor.name, actor.user_id
    tx.decided_at = clock_of(session).now()
    _audit(session, actor, tx, action)
    return tx


@transactional
def reject(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """Refuse a pending transaction; its reserved units are released. Same deciders as
    :func:`approve`."""
    authorize(actor, "ledger.decide")
    tx, source, destination = _load_for_decision(session, actor, tx_id)
    _check_decider(actor, tx, source)
    return _close(session, actor, tx, source, destination, TransactionStatus.REJECTED, "reject")


@transactional
def cancel(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """Withdraw a pending or delayed transaction (the source's own users, or a regulator
    for government accounts); its reserved units are released."""
    authorize(actor, "ledger.transfer")
    tx, source, destination = _load_for_decision(session, actor, tx_id)
    if tx.status not in OPEN_STATUSES:
        raise Conflict(
            f"transaction {tx.id} is {tx.status}; only pending or delayed ones can be cancelled"
        )
    _check_role_for(actor, tx, source)
    return _close(session, actor, tx, source, destination, TransactionStatus.CANCELLED, "cancel")


def _reversal_accounts(session: Session, original: LedgerTransaction) -> tuple[Account, Account]:
    """(source, destination) of the reversal of ``original``, read fresh. A closed account
    receives nothing, so units cannot go back to an original source closed since."""
    source = session.get_one(Account, original.to_account_id, populate_existing=True)
    destination = session.get_one(Account, original.from_account_id, populate_existing=True)
    if destination.status is AccountStatus.CLOSED:
        raise AccountNotUsable(
            f"account {destination.number} is closed: the units cannot go back to it",
            errors=[FieldError("#/to_account", "closed")],
        )
    return source, destination


@transactional
def reverse(session: Session, actor: Actor, tx_id: int, *, memo: str = "") -> LedgerTransaction:
    """Ask to undo a completed transaction with a new one in the opposite direction (nothing
    is ever edited or deleted). The units are reserved at the original destination; a second
    regulator approves. Regulators only; a transaction is reversed at most once. The system
    actor's reversal posts at once (the compliance corrections cascade: the regulator's
    approval of the corrected report is the decision, see docs/compliance.md)."""
    authorize(actor, "ledger.reverse")
    # Locked, so two reversals of one transaction queue here and the second sees the first
    # (a 409) instead of running into the unique index (a 500 on PostgreSQL).
    original = _locked_transaction(session, tx_id)
    if original.status is not TransactionStatus.COMPLETED:
        raise Conflict(f"transaction {tx_id} is {original.status}; only completed ones reverse")
    live = select(LedgerTransaction.id).where(
        LedgerTransaction.reverses_id == tx_id,
        LedgerTransaction.status.in_([*OPEN_STATUSES, TransactionStatus.COMPLETED]),
    )
    if session.scalar(live) is not None:
        raise Conflict(f"transaction {tx_id} has already been reversed, or its reversal is open")
    source, destination = _reversal_accounts(session, original)
    if actor.is_system:
        return _post_at_once(
            session,
            actor,
            TransactionKind.REVERSAL,
            source,
            destination,
            original.unit_kind,
            original.vintage,
            original.quantity,
            memo or f"reversal of transaction {tx_id}",
            reverses_id=tx_id,
        )
    tx = _new_pending(
        session,
        actor,
        kind=TransactionKind.REVERSAL,
        source=source,
        destination=destination,
        unit_kind=original.unit_kind,
        vintage=original.vintage,
        quantity=original.quantity,
        memo=memo or f"reversal of transaction {tx_id}",
        reverses_id=tx_id,
    )
    engine.reserve(session, _movement(tx, source, destination))
    _audit(session, actor, tx, "request")
    return tx


# --- scheduled work -----------------------------------------------------------------------


@transactional
def _release_one(session: Session, actor: Actor, tx_id: int) -> bool:
    tx, source, destination = _load_for_decision(session, actor, tx_id)
    now = clock_of(session).now()
    if (
        tx.status is not TransactionStatus.DELAYED
        or tx.execute_after is None
        or (tx.execute_after > now)
    ):
        return False  # cancelled or already released by another worker meanwhile
    if destination.status is AccountStatus.CLOSED:
        _close(session, actor, tx, source, destination, TransactionStatus.CANCELLED, "cancel")
        return False
    if _source_blocked(tx, source):
        return False  # blocked during the delay: waits until unblocked, or is cancelled
    _complete(session, tx, source, destination)
    _audit(session, actor, tx, "release")
    return True


@transactional
def _expire_one(session: Session, actor: Actor, tx_id: int) -> bool:
    tx, source, destination = _load_for_decision(session, actor, tx_id)
    if (
        tx.status is not TransactionStatus.PENDING_APPROVAL
        or tx.expires_at is None
        or (tx.expires_at > clock_of(session).now())
    ):
        return False
    _close(session, actor, tx, source, destination, TransactionStatus.EXPIRED, "expire")
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
