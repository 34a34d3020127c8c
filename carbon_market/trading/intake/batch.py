"""The bulk intake's database side: load a :class:`replay.Book` in a few set-based queries,
and write the accepted trades (and under T+0 their settlements) in multi-row statements.

What is written is what ``service.record_trade`` writes one trade at a time: the trade
rows, a ``trade:record`` audit event each, and under T+0 a completed ``trade_settlement``
ledger transaction each (postings, hash chain, ``transaction:post`` audit) posted by the
ledger's public bulk posting (``ledger.posting.post_many``) as the system actor
``system:trade-settlement``. The holdings the file may touch are locked (PostgreSQL) when
the book is loaded, so nothing sells the same units meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from carbon_market.kernel import rawsql
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record_raw
from carbon_market.kernel.db import clock_of
from carbon_market.kernel.text import json_name, json_text
from carbon_market.ledger import posting
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, Holding, LedgerTransaction, UnitKind
from carbon_market.trading.checks import LIVE, PRICE_FEN, lock_positions
from carbon_market.trading.models import ReferencePrice, Trade, TradeKind, TradeStatus
from carbon_market.trading.replay import Accepted, Book, Party, Row
from carbon_market.trading.rules.rulebook import Rulebook, Settlement

#: Values per IN list: under every SQLite's limit of bound parameters.
CHUNK = 900
SETTLEMENT_ACTOR = "system:trade-settlement"
T = TypeVar("T")


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def recorded_content(session: Session, refs: list[str]) -> dict[str, tuple[Any, ...]]:
    """The trades already recorded under ``refs``: ref → the values of
    ``service.TRADE_FIELDS`` (kind, seller, buyer, unit kind, vintage, quantity, price,
    traded_at)."""
    seller, buyer = aliased(Account), aliased(Account)
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(_recorded_refs(session, refs)):
        rows = session.execute(
            select(
                Trade.external_ref, Trade.kind, seller.number, buyer.number, Trade.unit_kind,
                Trade.vintage, Trade.quantity, Trade.price, Trade.traded_at,
            )
            .join(seller, seller.id == Trade.seller_account_id)
            .join(buyer, buyer.id == Trade.buyer_account_id)
            .where(Trade.external_ref.in_(chunk))
        )  # fmt: skip
        found.update((row[0], tuple(row[1:])) for row in rows)
    return found


def _recorded_refs(session: Session, refs: list[str]) -> list[str]:
    """Which of ``refs`` are recorded, asked on the DB-API cursor: a new file's 100,000
    references cost 0.05 s so, 0.3 s through the ORM, which then loads only the content
    of those found."""
    cursor = rawsql.cursor_for(session)
    p = cursor.placeholder
    found: list[str] = []
    for chunk in _chunks(refs):
        query = (
            f"SELECT external_ref FROM trade WHERE external_ref IN ({', '.join([p] * len(chunk))})"
        )
        found.extend(ref for (ref,) in cursor.fetch_all(query, tuple(chunk)))
    return found


def load_book(session: Session, rows: list[Row]) -> Book:
    """What the checks of ``rows`` read, as the database holds it now (the buyers' accounts
    and the holdings locked)."""
    numbers = sorted({r.seller for r in rows} | {r.buyer for r in rows})
    accounts: dict[str, Party] = {}
    for chunk in _chunks(numbers):
        query = select(
            Account.id, Account.number, Account.kind, Account.status, Account.enterprise_id,
            Account.transfer_limit,
        ).where(Account.number.in_(chunk))  # fmt: skip
        accounts.update((a.number, Party(*a)) for a in session.execute(query))
    active = set(session.scalars(select(UnitKind.code).where(UnitKind.is_active)))
    book = Book(accounts=accounts, active_unit_kinds=active)
    buyers = sorted({accounts[r.buyer].id for r in rows if r.buyer in accounts})
    for buyer_chunk in _chunks(buyers):  # before the holdings and positions are read
        lock_positions(session, buyer_chunk)
    ids = sorted(a.id for a in accounts.values())
    unit_kinds = sorted({r.unit_kind for r in rows})
    days = sorted({r.day for r in rows})
    for id_chunk in _chunks(ids):
        _load_holdings(session, book, id_chunk, unit_kinds)
        _load_trades(session, book, id_chunk, days)
        allocated = session.execute(
            select(
                LedgerTransaction.to_account_id, LedgerTransaction.unit_kind,
                LedgerTransaction.vintage, func.sum(LedgerTransaction.quantity),
            )
            .where(
                LedgerTransaction.to_account_id.in_(id_chunk),
                LedgerTransaction.kind == TransactionKind.ALLOCATION,
                LedgerTransaction.status == TransactionStatus.COMPLETED,
            )
            .group_by(
                LedgerTransaction.to_account_id, LedgerTransaction.unit_kind,
                LedgerTransaction.vintage,
            )
        )  # fmt: skip
        for account_id, unit_kind, vintage, total in allocated:
            book.allocation[(account_id, unit_kind, vintage)] = int(total)
    listed = session.execute(
        select(Trade.unit_kind, Trade.trade_date, func.sum(Trade.quantity * PRICE_FEN),
               func.sum(Trade.quantity))
        .where(Trade.unit_kind.in_(unit_kinds), Trade.kind == TradeKind.LISTED,
               Trade.status.in_(LIVE), Trade.trade_date <= days[-1])
        .group_by(Trade.unit_kind, Trade.trade_date)
    )  # fmt: skip
    for unit_kind, day, turnover, volume in listed:
        book.listed.setdefault(unit_kind, {})[day] = (int(turnover), int(volume))
    prices = session.execute(
        select(ReferencePrice.unit_kind, ReferencePrice.day, ReferencePrice.price).where(
            ReferencePrice.unit_kind.in_(unit_kinds)
        )
    )
    for unit_kind, day, price in prices:
        book.set_prices.setdefault(unit_kind, {})[day] = price
    return book


def _load_holdings(session: Session, book: Book, ids: list[int], unit_kinds: list[str]) -> None:
    holdings = session.execute(
        select(Holding.account_id, Holding.unit_kind, Holding.vintage, Holding.quantity,
               Holding.reserved)
        .where(Holding.account_id.in_(ids), Holding.unit_kind.in_(unit_kinds))
        .order_by(Holding.account_id, Holding.unit_kind, Holding.vintage)
        .with_for_update()
    )  # fmt: skip
    for account_id, unit_kind, vintage, quantity, reserved in holdings:
        book.available[(account_id, unit_kind, vintage)] = int(quantity - reserved)
        book.held[(account_id, unit_kind)] += int(quantity)


def _load_trades(session: Session, book: Book, ids: list[int], days: list[date]) -> None:
    """Unsettled sales and purchases of the accounts, and what they bought and settled on
    the file's days."""
    recorded = Trade.status == TradeStatus.RECORDED
    sales = session.execute(
        select(Trade.seller_account_id, Trade.unit_kind, Trade.vintage, func.sum(Trade.quantity))
        .where(Trade.seller_account_id.in_(ids), recorded)
        .group_by(Trade.seller_account_id, Trade.unit_kind, Trade.vintage)
    )
    for account_id, unit_kind, vintage, total in sales:
        book.pending_sales[(account_id, unit_kind, vintage)] = int(total)
    buys = session.execute(
        select(Trade.buyer_account_id, Trade.unit_kind, func.sum(Trade.quantity))
        .where(Trade.buyer_account_id.in_(ids), recorded)
        .group_by(Trade.buyer_account_id, Trade.unit_kind)
    )
    for account_id, unit_kind, total in buys:
        book.pending_buys[(account_id, unit_kind)] = int(total)
    settled = session.execute(
        select(Trade.buyer_account_id, Trade.unit_kind, Trade.vintage, Trade.trade_date,
               func.sum(Trade.quantity))
        .where(Trade.buyer_account_id.in_(ids), Trade.status == TradeStatus.SETTLED,
               Trade.trade_date.in_(days))
        .group_by(Trade.buyer_account_id, Trade.unit_kind, Trade.vintage, Trade.trade_date)
    )  # fmt: skip
    for account_id, unit_kind, vintage, day, total in settled:
        book.settled_buys[(account_id, unit_kind, vintage, day)] = int(total)


def _trade_sql(dialect: str) -> str:
    p = "%s" if dialect == "postgresql" else "?"
    columns = (
        "external_ref, kind, seller_account_id, buyer_account_id, unit_kind, vintage, "
        "quantity, price, amount, reference_price, traded_at, trade_date, status, "
        "settlement_tx_id, settled_at, recorded_at, recorded_by, request_id"
    )
    return f"INSERT INTO trade ({columns}) VALUES ({', '.join([p] * 18)})"


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _settle(session: Session, actor: Actor, accepted: list[Accepted]) -> list[posting.Posted]:
    """Post every trade's settlement in one go (T+0)."""
    kind = TransactionKind.TRADE_SETTLEMENT
    opening = '{"kind": "' + kind.value + '", "status": "completed", "from_account": '
    movements, memos, afters = [], [], []
    legs: dict[int, posting.Leg] = {}  # one per account, not two per trade
    for trade in accepted:
        row, seller, buyer = trade.row, trade.seller, trade.buyer
        source = legs.get(seller.id) or legs.setdefault(
            seller.id, posting.Leg(seller.id, seller.number)
        )
        destination = legs.get(buyer.id) or legs.setdefault(
            buyer.id, posting.Leg(buyer.id, buyer.number)
        )
        movements.append(
            posting.Movement(source, destination, row.unit_kind, row.vintage, row.quantity)
        )
        memo = f"trade {row.external_ref}"
        memos.append(memo)
        afters.append(  # the ``after`` of the single path's transfer audit, as JSON
            f'{opening}{json_name(row.seller)}, "to_account": {json_name(row.buyer)}, "unit_kind": '
            f'{json_name(row.unit_kind)}, "vintage": {row.vintage}, "quantity": '
            f'{row.quantity}, "memo": {json_text(memo)}}}'
        )
    return posting.post_many(
        session, kind=kind, movements=movements, memos=memos, audit_afters=afters,
        at=clock_of(session).now(),
        initiator=posting.Initiator(SETTLEMENT_ACTOR, None, None, actor.request_id),
    )  # fmt: skip


class _Memo(dict[Any, Any]):
    """A value computed once per distinct key (a file's times, days and prices recur)."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key)
        return value


#: SQLite's page cache while a file is written (KiB): the default 2 MiB cannot hold the
#: index pages 600,000 inserted rows keep touching.
SQLITE_CACHE_KIB = 65536


@contextlib.contextmanager
def _large_cache(cursor: rawsql.Cursor) -> Iterator[None]:
    if cursor.dialect != "sqlite":
        yield
        return
    (before,) = cursor.fetch_one("PRAGMA cache_size", ())
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}", ())
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}", ())


def write(session: Session, actor: Actor, rulebook: Rulebook, accepted: list[Accepted]) -> None:
    """Record the accepted trades in their order (and under T+0 settle them)."""
    if not accepted:
        return
    cursor = rawsql.cursor_for(session)
    with _large_cache(cursor):
        _write(session, cursor, actor, rulebook, accepted)


def _write(
    session: Session, cursor: rawsql.Cursor, actor: Actor, rulebook: Rulebook,
    accepted: list[Accepted],
) -> None:  # fmt: skip
    now = clock_of(session).now()
    when = cursor.time(now)
    settles = rulebook.settlement is Settlement.T0
    posted = _settle(session, actor, accepted) if settles else [None] * len(accepted)
    status = (TradeStatus.SETTLED if settles else TradeStatus.RECORDED).value
    kinds = {kind: kind.value for kind in TradeKind}  # an enum's .value is a descriptor call
    sqlite = cursor.dialect == "sqlite"
    times, fen = _Memo(cursor.time), _Memo(_fen)
    days = _Memo(lambda day: day.isoformat() if sqlite else day)
    rows: list[tuple[Any, ...]] = []
    amounts: list[int] = []
    for trade, tx in zip(accepted, posted, strict=True):
        row = trade.row
        price = fen[row.price]
        amounts.append(row.quantity * price)  # whole fen: a price has at most two places
        rows.append((
            row.external_ref, kinds[row.kind], trade.seller.id, trade.buyer.id, row.unit_kind,
            row.vintage, row.quantity, price, amounts[-1],
            fen[trade.reference_price], times[row.traded_at], days[row.day],
            status, tx.id if tx else None, when if tx else None, when, actor.name,
            actor.request_id,
        ))  # fmt: skip
    (before,) = cursor.fetch_one("SELECT COALESCE(MAX(id), 0) FROM trade", ())
    appended = rawsql.appended_ids(cursor, "trade", len(rows))
    cursor.execute_many(_trade_sql(cursor.dialect), rows)
    in_order = appended()
    if in_order is not None:  # SQLite: no read-back of 100,000 rows just written
        ids = dict(zip((t.row.external_ref for t in accepted), in_order, strict=True))
    else:
        mine = {row.external_ref for row in (t.row for t in accepted)}
        p = cursor.placeholder
        ids = {
            ref: trade_id
            for trade_id, ref in cursor.fetch_all(
                f"SELECT id, external_ref FROM trade WHERE id > {p}", (before,)
            )
            if ref in mine
        }
    role = actor.role.value if actor.role else None
    audits = []
    for trade, amount_fen in zip(accepted, amounts, strict=True):
        row = trade.row
        after = (  # as audit.service.snapshot(trade, service.AUDITED) words it
            f'{{"external_ref": {json_text(row.external_ref)}, "kind": "{kinds[row.kind]}", '
            f'"unit_kind": {json_name(row.unit_kind)}, "vintage": {row.vintage}, '
            f'"quantity": {row.quantity}, "price": "{row.price:f}", '
            f'"amount": "{_amount_text(amount_fen)}", "status": "recorded"}}'
        )
        audits.append((
            when, actor.user_id, actor.name, role, "trade:record", "trade",
            str(ids[row.external_ref]), after, actor.request_id,
        ))  # fmt: skip
    record_raw(cursor, audits)


def _amount_text(fen: int) -> str:
    """``f"{price_limits.cash_amount(quantity, price):f}"`` from the amount in fen (exact:
    a price has at most two places, so quantity × price is whole fen, shown with two)."""
    return f"{fen // 100}.{fen % 100:02d}"
