"""The ledger's hot path: reserving, releasing and posting units.

Everything here runs inside a caller's unit of work and assumes the caller has already
checked the rules. It touches holdings in ascending account order so two transfers can never
wait on each other in a cycle, and appends to the hash chain last, so the one global lock
(the chain head) is held as briefly as possible.

The statements go to the DB-API cursor of the session's own connection (same transaction),
not through the ORM or even Core: a transfer is eight short statements, and SQLAlchemy's
per-statement Python (cache keys, result wrapping, ORM bookkeeping) cost ten to thirty times
what the database spends on them (``bench/ledger.py``, ``docs/performance.md``). The SQL is
written once per dialect below; the column types it writes (naive-UTC timestamps, enum
values, JSON text) are the ones the ORM models declare, so the ORM reads these rows as its
own.
"""

from __future__ import annotations

import json
import os
import uuid as uuid_module
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from carbon_market.kernel import rawsql
from carbon_market.kernel.audit.service import audit_insert_sql
from carbon_market.kernel.errors import FieldError, InsufficientHolding
from carbon_market.kernel.text import json_text
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.posting.chain import (
    ChainedPosting,
    ChainEntry,
    chain_of,
    digest,
    stripe_of,
    transfer_digest,
    transfer_postings_text,
)


@dataclass(frozen=True)
class Leg:
    """One side of a movement, with what the engine needs to post it."""

    account_id: int
    account_number: str
    is_issuance: bool = False


class Movement(NamedTuple):
    """Units moving from one holding to another. (A named tuple: a bulk intake makes
    100,000 of them, and a frozen dataclass costs four times as much to build.)"""

    source: Leg
    destination: Leg
    unit_kind: str
    vintage: int
    quantity: int


@dataclass(frozen=True)
class Statements:
    """The engine's SQL in one dialect's parameter style."""

    reserve: str
    release: str
    debit_available: str
    debit_reserved: str
    credit: str
    chain_next: str
    chain_set: str
    insert_tx: str
    complete_tx: str
    insert_posting: str
    insert_audit: str
    find_accounts: str
    #: The bulk path (:func:`post_many`): n sequence numbers at once, rows without RETURNING.
    chain_take: str
    debit_net: str
    insert_tx_many: str
    find_tx_by_seq: str
    #: PostgreSQL only: the chain-head update folded into the transaction insert, and the
    #: postings into the audit insert, as data-modifying CTEs (two round trips fewer).
    fused_insert_tx: str | None = None
    fused_postings_audit: str | None = None

    @classmethod
    def for_dialect(cls, dialect: str) -> Statements:
        p = "%s" if dialect == "postgresql" else "?"
        holding = f"account_id = {p} AND unit_kind = {p} AND vintage = {p}"
        return cls(
            reserve=f"UPDATE holding SET reserved = reserved + {p} "
            f"WHERE {holding} AND quantity - reserved >= {p}",
            release=f"UPDATE holding SET reserved = reserved - {p} WHERE {holding}",
            debit_available=f"UPDATE holding SET quantity = quantity - {p} "
            f"WHERE {holding} AND quantity - reserved >= {p}",
            debit_reserved=f"UPDATE holding SET quantity = quantity - {p}, "
            f"reserved = reserved - {p} WHERE {holding} AND reserved >= {p}",
            credit="INSERT INTO holding (account_id, unit_kind, vintage, quantity, reserved, "
            f"is_issuance) VALUES ({p}, {p}, {p}, {p}, 0, {p}) "
            "ON CONFLICT (account_id, unit_kind, vintage) "
            "DO UPDATE SET quantity = holding.quantity + excluded.quantity",
            chain_next=f"UPDATE ledger_chain_head SET seq = seq + 1 WHERE id = {p} "
            "RETURNING seq, hash",
            chain_set=f"UPDATE ledger_chain_head SET hash = {p} WHERE id = {p}",
            insert_tx=cls._insert_tx(p),
            complete_tx=f"UPDATE ledger_transaction SET status = {p}, completed_at = {p}, "
            f"seq = {p}, prev_hash = {p}, hash = {p} WHERE id = {p}",
            insert_posting="INSERT INTO posting (transaction_id, account_id, unit_kind, "
            f"vintage, quantity) VALUES ({p}, {p}, {p}, {p}, {p})",
            insert_audit=audit_insert_sql(dialect),
            debit_net=f"UPDATE holding SET quantity = quantity - {p} "
            f"WHERE {holding} AND quantity - reserved >= {p}",
            chain_take=f"UPDATE ledger_chain_head SET seq = seq + {p} WHERE id = {p} "
            "RETURNING seq, hash",
            insert_tx_many=cls._insert_tx(p).removesuffix(" RETURNING id"),
            find_tx_by_seq=f"SELECT id, seq FROM ledger_transaction WHERE seq BETWEEN {p} AND {p}",
            find_accounts="SELECT id, number, kind, status, enterprise_id, transfer_limit "
            f"FROM account WHERE number IN ({p}, {p})",
            fused_insert_tx=None
            if dialect != "postgresql"
            else (
                f"WITH head AS (UPDATE ledger_chain_head SET hash = {p} WHERE id = {p}) "
                + cls._insert_tx(p)
            ),
            fused_postings_audit=None
            if dialect != "postgresql"
            else (
                "WITH legs AS (INSERT INTO posting (transaction_id, account_id, unit_kind, "
                f"vintage, quantity) VALUES ({p}, {p}, {p}, {p}, {p}), "
                f"({p}, {p}, {p}, {p}, {p})) " + audit_insert_sql(dialect)
            ),
        )

    @staticmethod
    def _insert_tx(p: str) -> str:
        return (
            "INSERT INTO ledger_transaction (uuid, kind, status, from_account_id, "
            "to_account_id, unit_kind, vintage, quantity, memo, initiated_by, "
            "initiator_user_id, created_at, completed_at, reverses_id, request_id, seq, "
            f"prev_hash, hash) VALUES ({', '.join([p] * 18)}) RETURNING id"
        )


_STATEMENTS = {d: Statements.for_dialect(d) for d in ("sqlite", "postgresql")}


class Cursor(rawsql.Cursor):
    """The kernel's raw cursor with the ledger's SQL for its dialect, and the chain stripe
    its database transaction appends to."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.sql = _STATEMENTS[self.dialect]
        #: The chain this database transaction appends to once it has taken one: a unit of
        #: work posting several transactions keeps to one chain head, so two such units
        #: never wait for each other's heads in opposite orders.
        self.stripe: int | None = None


def cursor_for(session: Session) -> Cursor:
    """The ledger's cursor of the session's current transaction, made once per transaction."""
    return rawsql.cursor_for(session, Cursor)


def account_rows(session: Session, first: str, second: str) -> list[tuple[Any, ...]]:
    """(id, number, kind, status, enterprise_id, transfer_limit) of up to two accounts."""
    cursor = cursor_for(session)
    return cursor.fetch_all(cursor.sql.find_accounts, (first, second))


def _insufficient(movement: Movement) -> InsufficientHolding:
    return InsufficientHolding(
        f"account {movement.source.account_number} has fewer than {movement.quantity} "
        f"available {movement.unit_kind} units of vintage {movement.vintage}",
        errors=[FieldError("#/quantity", "more than the available (unreserved) balance")],
    )


def _holding_key(leg: Leg, movement: Movement) -> tuple[int, str, int]:
    return (leg.account_id, movement.unit_kind, movement.vintage)


def reserve(session: Session, movement: Movement) -> None:
    """Set ``quantity`` units aside at the source for a pending transfer, or refuse."""
    cursor, q = cursor_for(session), movement.quantity
    key = _holding_key(movement.source, movement)
    if cursor.execute(cursor.sql.reserve, (q, *key, q)) != 1:
        raise _insufficient(movement)


def release(session: Session, movement: Movement) -> None:
    """Give back units reserved for a transfer that will not happen."""
    cursor = cursor_for(session)
    cursor.execute(
        cursor.sql.release, (movement.quantity, *_holding_key(movement.source, movement))
    )


def _credit(cursor: Cursor, leg: Leg, movement: Movement, delta: int) -> None:
    cursor.execute(cursor.sql.credit, (*_holding_key(leg, movement), delta, leg.is_issuance))


def _debit(cursor: Cursor, movement: Movement, *, from_reserved: bool) -> None:
    q = movement.quantity
    if movement.source.is_issuance:  # the issuance account goes negative by what it issues
        _credit(cursor, movement.source, movement, -q)
        return
    key = _holding_key(movement.source, movement)
    if from_reserved:
        changed = cursor.execute(cursor.sql.debit_reserved, (q, q, *key, q))
    else:
        changed = cursor.execute(cursor.sql.debit_available, (q, *key, q))
    if changed != 1:
        raise _insufficient(movement)


def _move(cursor: Cursor, movement: Movement, *, from_reserved: bool) -> None:
    # Lock order: the lower account id first, whichever side it is on.
    if movement.source.account_id < movement.destination.account_id:
        _debit(cursor, movement, from_reserved=from_reserved)
        _credit(cursor, movement.destination, movement, movement.quantity)
    else:
        _credit(cursor, movement.destination, movement, movement.quantity)
        _debit(cursor, movement, from_reserved=from_reserved)


def _append_to_chain(
    cursor: Cursor, *, tx_uuid: str, kind: TransactionKind, movement: Movement, at: datetime
) -> tuple[int, str, str]:
    """Take the next sequence number of the transaction's chain (locking that chain's head)
    and compute the hash: returns (seq, prev_hash, hash). The caller stores the hash in the
    head (``chain_of(seq)``)."""
    cursor.stripe = cursor.stripe or stripe_of(tx_uuid)
    seq, prev_hash = cursor.fetch_one(cursor.sql.chain_next, (cursor.stripe,))
    q = movement.quantity
    entry = ChainEntry(
        seq=seq,
        uuid=tx_uuid,
        kind=kind.value,
        completed_at=at,
        postings=(
            ChainedPosting(
                movement.source.account_number, movement.unit_kind, movement.vintage, -q
            ),
            ChainedPosting(
                movement.destination.account_number, movement.unit_kind, movement.vintage, q
            ),
        ),
    )
    return seq, prev_hash, digest(entry, prev_hash)


def _insert_postings(cursor: Cursor, tx_id: int, movement: Movement) -> None:
    kind, vintage, q = movement.unit_kind, movement.vintage, movement.quantity
    cursor.execute_many(
        cursor.sql.insert_posting,
        [
            (tx_id, movement.source.account_id, kind, vintage, -q),
            (tx_id, movement.destination.account_id, kind, vintage, q),
        ],
    )


def complete(
    session: Session,
    *,
    tx_id: int,
    tx_uuid: str,
    kind: TransactionKind,
    movement: Movement,
    at: datetime,
    from_reserved: bool,
) -> None:
    """Post an existing (pending or delayed) transaction: holdings, postings, chain."""
    cursor = cursor_for(session)
    _move(cursor, movement, from_reserved=from_reserved)
    seq, prev_hash, new_hash = _append_to_chain(
        cursor, tx_uuid=tx_uuid, kind=kind, movement=movement, at=at
    )
    cursor.execute(cursor.sql.chain_set, (new_hash, chain_of(seq)))
    cursor.execute(
        cursor.sql.complete_tx,
        (TransactionStatus.COMPLETED.value, cursor.time(at), seq, prev_hash, new_hash, tx_id),
    )
    _insert_postings(cursor, tx_id, movement)


class Posted(NamedTuple):
    """What :func:`post_new` wrote, so the caller needs no read-back."""

    id: int
    uuid: str
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Initiator:
    name: str
    user_id: int | None
    role: str | None
    request_id: str | None


def post_new(
    session: Session,
    *,
    kind: TransactionKind,
    movement: Movement,
    at: datetime,
    initiator: Initiator,
    memo: str = "",
    reverses_id: int | None = None,
    audit_after: dict[str, Any] | None = None,
) -> Posted:
    """Create and post a transaction in one go (no approval step), with its audit event."""
    cursor = cursor_for(session)
    tx_uuid = str(uuid_module.uuid4())
    _move(cursor, movement, from_reserved=False)
    seq, prev_hash, new_hash = _append_to_chain(
        cursor, tx_uuid=tx_uuid, kind=kind, movement=movement, at=at
    )
    when = cursor.time(at)
    tx_row = (
        tx_uuid,
        kind.value,
        TransactionStatus.COMPLETED.value,
        movement.source.account_id,
        movement.destination.account_id,
        movement.unit_kind,
        movement.vintage,
        movement.quantity,
        memo,
        initiator.name,
        initiator.user_id,
        when,
        when,
        reverses_id,
        initiator.request_id,
        seq,
        prev_hash,
        new_hash,
    )
    if cursor.sql.fused_insert_tx:
        (tx_id,) = cursor.fetch_one(cursor.sql.fused_insert_tx, (new_hash, chain_of(seq), *tx_row))
    else:
        cursor.execute(cursor.sql.chain_set, (new_hash, chain_of(seq)))
        (tx_id,) = cursor.fetch_one(cursor.sql.insert_tx, tx_row)
    audit_row = (
        when,
        initiator.user_id,
        initiator.name,
        initiator.role,
        "transaction:post",
        "ledger_transaction",
        str(tx_id),
        json.dumps(audit_after or {}),
        initiator.request_id,
    )
    if cursor.sql.fused_postings_audit:
        kind_, vintage, q = movement.unit_kind, movement.vintage, movement.quantity
        legs = (
            tx_id,
            movement.source.account_id,
            kind_,
            vintage,
            -q,
            tx_id,
            movement.destination.account_id,
            kind_,
            vintage,
            q,
        )
        cursor.execute(cursor.sql.fused_postings_audit, (*legs, *audit_row))
    else:
        _insert_postings(cursor, tx_id, movement)
        cursor.execute(cursor.sql.insert_audit, audit_row)
    return Posted(tx_id, tx_uuid, seq, prev_hash, new_hash)


def _net_deltas(movements: list[Movement]) -> list[tuple[int, str, int, int, bool]]:
    """Each holding's net change over ``movements``, in ascending account order (the lock
    order of :func:`_move`): (account_id, unit_kind, vintage, delta, is_issuance)."""
    deltas: dict[tuple[int, str, int], int] = {}
    issuance: dict[tuple[int, str, int], bool] = {}
    for m in movements:
        for leg, sign in ((m.source, -1), (m.destination, 1)):
            key = _holding_key(leg, m)
            deltas[key] = deltas.get(key, 0) + sign * m.quantity
            issuance[key] = leg.is_issuance
    return [(*key, delta, issuance[key]) for key, delta in sorted(deltas.items()) if delta]


def _random_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, as ``str(uuid.uuid4())`` makes them, from one
    read of the system's random source: a third of the time of 100,000 ``uuid4`` calls."""
    raw = os.urandom(16 * n)
    out = []
    for start in range(0, 16 * n, 16):
        value = int.from_bytes(raw[start : start + 16]) & _UUID_CLEAR | _UUID_SET
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


#: The version (4) and variant (RFC 4122) bits of a random UUID, as ``uuid.UUID`` sets them.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (4 << 76) | (0x8000 << 48)


def post_many(
    session: Session,
    *,
    kind: TransactionKind,
    movements: list[Movement],
    memos: list[str],
    audit_afters: list[str],
    at: datetime,
    initiator: Initiator,
) -> list[Posted]:
    """Create and post many transactions at once (no approval step), each with its postings
    and audit event (``audit_afters``: each one's ``after``, JSON text), as
    :func:`post_new` would one by one: one chain-head update for all of
    them (consecutive sequence numbers of one chain, hashed in order), one net update per
    holding, and multi-row inserts. For bulk intakes (the trade file).

    The caller must have checked, in the movements' order, that no source ever goes below
    its available (unreserved) units: only the net change of each holding is written, so
    an intermediate shortfall would not be noticed (the ``covered`` CHECK still refuses a
    negative end result)."""
    if not movements:
        return []
    cursor = cursor_for(session)
    # Random UUIDs handed out in ascending order: the unique index on them is appended to
    # rather than written all over (a third of the insert's time for 100,000 transfers).
    uuids = sorted(_random_uuids(len(movements)))
    for account_id, unit_kind, vintage, delta, is_issuance in _net_deltas(movements):
        key = (account_id, unit_kind, vintage)
        if delta > 0 or is_issuance:
            cursor.execute(cursor.sql.credit, (*key, delta, is_issuance))
        elif cursor.execute(cursor.sql.debit_net, (-delta, *key, -delta)) != 1:
            raise InsufficientHolding(
                f"account id {account_id} has fewer than {-delta} available {unit_kind} units "
                f"of vintage {vintage}",
                errors=[FieldError("#/quantity", "more than the available balance")],
            )
    cursor.stripe = cursor.stripe or stripe_of(uuids[0])
    last, prev_hash = cursor.fetch_one(cursor.sql.chain_take, (len(movements), cursor.stripe))
    first = last - len(movements) + 1
    when = cursor.time(at)
    chained: list[tuple[str, int, str, str]] = []
    tx_rows = []
    at_text = json_text(at.isoformat(timespec="microseconds"))
    status, kind_text = TransactionStatus.COMPLETED.value, kind.value  # read once, not per row
    for seq, movement, tx_uuid, memo in zip(
        range(first, last + 1), movements, uuids, memos, strict=True
    ):
        source, destination, q = movement.source, movement.destination, movement.quantity
        postings = transfer_postings_text(
            source.account_number, destination.account_number, movement.unit_kind,
            movement.vintage, q,
        )  # fmt: skip
        new_hash = transfer_digest(seq, tx_uuid, kind_text, at_text, postings, prev_hash)
        chained.append((tx_uuid, seq, prev_hash, new_hash))
        tx_rows.append(
            (
                tx_uuid, kind_text, status, source.account_id, destination.account_id,
                movement.unit_kind, movement.vintage, q, memo, initiator.name,
                initiator.user_id, when, when, None, initiator.request_id, seq, prev_hash,
                new_hash,
            )
        )  # fmt: skip
        prev_hash = new_hash
    cursor.execute(cursor.sql.chain_set, (prev_hash, chain_of(last)))
    appended = rawsql.appended_ids(cursor, "ledger_transaction", len(tx_rows))
    cursor.execute_many(cursor.sql.insert_tx_many, tx_rows)
    in_order = appended()
    if in_order is not None:
        ids = dict(zip(range(first, last + 1), in_order, strict=True))
    else:
        found = cursor.fetch_all(cursor.sql.find_tx_by_seq, (first, last))
        ids = {seq: tx_id for tx_id, seq in found}
    posted = [Posted(ids[seq], tx_uuid, seq, prev, new) for tx_uuid, seq, prev, new in chained]
    legs: list[tuple[Any, ...]] = []
    audits: list[tuple[Any, ...]] = []
    head = (when, initiator.user_id, initiator.name, initiator.role, "transaction:post",
            "ledger_transaction")  # fmt: skip
    request_id = initiator.request_id
    for p, (source, destination, uk, vintage, q), after in zip(
        posted, movements, audit_afters, strict=True
    ):
        legs.append((p.id, source.account_id, uk, vintage, -q))
        legs.append((p.id, destination.account_id, uk, vintage, q))
        audits.append((*head, str(p.id), after, request_id))
    cursor.execute_many(cursor.sql.insert_posting, legs)
    cursor.execute_many(cursor.sql.insert_audit, audits)
    return posted
