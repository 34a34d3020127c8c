"""Asking for a transaction: a transfer, an issuance, or the reversal of a completed one.

The units of a transfer or reversal are reserved at the source at once, so they cannot be
spent twice, and the transaction waits in ``pending_approval`` for a second person
(``decisions.py``); the system actor's posts at once. The engine writes the rows
(``ledger/posting``); this module decides.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class

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
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger.accounts.service import (
    REGULATOR_SOURCES,
    AccountRef,
    government_account,
    parse_account_number,
)
from carbon_market.ledger.enums import (
    OPEN_STATUSES,
    AccountKind,
    AccountStatus,
    TransactionKind,
    TransactionStatus,
)
from carbon_market.ledger.models import Account, LedgerTransaction, UnitKind
from carbon_market.ledger.posting import engine
from carbon_market.ledger.rules import check_quantity_and_vintage, transfer_kind
from carbon_market.ledger.transactions.records import (
    AnyAccount,
    audit,
    leg,
    locked_transaction,
    movement,
)


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
    engine.reserve(session, movement(tx, source, destination))
    audit(session, actor, tx, "request")
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
    movement = engine.Movement(leg(source), leg(destination), unit_kind, vintage, quantity)
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
    audit(session, actor, tx, "request")
    return tx


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
    original = locked_transaction(session, tx_id)
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
    engine.reserve(session, movement(tx, source, destination))
    audit(session, actor, tx, "request")
    return tx
