"""The checks of a trade that read the database: accounts, reference price, the seller's
sellable units and the buyer's position. Each raises a DomainError with a pointer into the
trade (``#/seller_account``, ``#/price``, ``#/quantity``...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, func, select, type_coerce
from sqlalchemy.orm import Session

from carbon_market.kernel.db import config_of
from carbon_market.ledger.enums import AccountKind, TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, Holding, LedgerTransaction, UnitKind
from carbon_market.trading import replay
from carbon_market.trading.models import ReferencePrice, Trade, TradeKind, TradeStatus
from carbon_market.trading.rules.price_limits import vwap_fen
from carbon_market.trading.rules.rulebook import Rulebook, load_rulebook

LIVE = (TradeStatus.RECORDED, TradeStatus.SETTLED)
PRICE_FEN = type_coerce(Trade.price, BigInteger)


def rulebook_of(session: Session) -> Rulebook:
    """The rulebook the configuration selects (``TRADING_RULEBOOK``)."""
    return load_rulebook(config_of(session).trading_rulebook)


@dataclass(frozen=True)
class Parties:
    seller: Account
    buyer: Account


def unit_cache(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction (one unit of work):
    an import looks the same accounts and reference prices up for every row, and the next
    unit of work must see accounts blocked or prices set meanwhile."""
    transaction = session.get_transaction()
    cached = session.info.get(name)
    if cached is not None and cached[0] is transaction:
        found: dict[Any, Any] = cached[1]
        return found
    fresh: dict[Any, Any] = {}
    session.info[name] = (transaction, fresh)
    return fresh


def _accounts(session: Session, numbers: tuple[str, str]) -> dict[str, Account]:
    cache: dict[str, Account] = unit_cache(session, "trading.accounts")
    missing = [n for n in numbers if n not in cache]
    if missing:
        for account in session.scalars(select(Account).where(Account.number.in_(missing))):
            cache[account.number] = account
    return cache


def parties(session: Session, rulebook: Rulebook, seller: str, buyer: str) -> Parties:
    """Both accounts, which must exist, be open and be of a kind that may trade."""
    found = _accounts(session, (seller, buyer))
    missing = [
        pointer
        for number, pointer in ((seller, "#/seller_account"), (buyer, "#/buyer_account"))
        if number not in found
    ]
    if missing:
        raise replay.unknown_accounts(missing)
    pair = Parties(found[seller], found[buyer])
    refused = replay.party_errors(rulebook, pair.seller, pair.buyer)
    if refused:
        raise refused
    return pair


def check_unit_kind(session: Session, unit_kind: str) -> None:
    active = session.scalar(select(UnitKind.is_active).where(UnitKind.code == unit_kind))
    if not active:
        raise replay.unknown_unit_kind(unit_kind)


def close_of(session: Session, unit_kind: str, day: date) -> Decimal | None:
    """The closing price of ``day``: the volume-weighted average of its listed trades (to
    the fen, half up); None when it had none."""
    turnover, volume = session.execute(
        select(func.sum(Trade.quantity * PRICE_FEN), func.sum(Trade.quantity)).where(
            Trade.unit_kind == unit_kind,
            Trade.trade_date == day,
            Trade.kind == TradeKind.LISTED,
            Trade.status.in_(LIVE),
        )
    ).one()
    if not volume:
        return None
    return Decimal(vwap_fen(int(turnover), int(volume))).scaleb(-2)


def reference_price(session: Session, unit_kind: str, day: date) -> Decimal | None:
    """The reference price of ``day``: the close of the last day before it with listed
    trades (a day without trades carries the previous close), unless a regulator set a
    price later than that day; None when there is neither."""
    cache: dict[tuple[str, date], Decimal | None] = unit_cache(session, "trading.refs")
    if (unit_kind, day) in cache:
        return cache[(unit_kind, day)]
    last_day = session.scalar(
        select(func.max(Trade.trade_date)).where(
            Trade.unit_kind == unit_kind,
            Trade.trade_date < day,
            Trade.kind == TradeKind.LISTED,
            Trade.status.in_(LIVE),
        )
    )
    set_row = session.execute(
        select(ReferencePrice.day, ReferencePrice.price)
        .where(ReferencePrice.unit_kind == unit_kind, ReferencePrice.day <= day)
        .order_by(ReferencePrice.day.desc())
        .limit(1)
    ).first()
    found: Decimal | None
    if set_row is not None and (last_day is None or set_row.day > last_day):
        found = set_row.price
    else:
        found = close_of(session, unit_kind, last_day) if last_day else None
    cache[(unit_kind, day)] = found
    return found


def forget_references(session: Session, unit_kind: str, after: date | None = None) -> None:
    """Drop cached reference prices a new listed trade (or price) may have changed: those
    of days after ``after`` (all days when None)."""
    cache: dict[tuple[str, date], Decimal | None] = unit_cache(session, "trading.refs")
    for key in [k for k in cache if k[0] == unit_kind and (after is None or k[1] > after)]:
        del cache[key]


def _holding(session: Session, account_id: int, unit_kind: str, vintage: int) -> int:
    """Available (unreserved) units, the holding row locked until the unit of work ends so
    two trades cannot both sell the same units before either settles."""
    row = session.execute(
        select(Holding.quantity, Holding.reserved)
        .where(
            Holding.account_id == account_id,
            Holding.unit_kind == unit_kind,
            Holding.vintage == vintage,
        )
        .with_for_update()
    ).first()
    return 0 if row is None else int(row.quantity - row.reserved)


def _traded(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Units of the trades matching ``conditions``."""
    total = session.scalar(select(func.coalesce(func.sum(Trade.quantity), 0)).where(*conditions))
    return int(total or 0)


def check_sellable(
    session: Session, rulebook: Rulebook, seller: Account, *, unit_kind: str, vintage: int,
    quantity: int, day: date,
) -> None:  # fmt: skip
    """The seller must hold ``quantity`` units not promised to trades awaiting settlement,
    and, where the rulebook forbids selling again the same day, not bought that day."""
    same_units = (Trade.unit_kind == unit_kind, Trade.vintage == vintage)
    available = _holding(session, seller.id, unit_kind, vintage)
    available -= _traded(
        session, Trade.seller_account_id == seller.id, Trade.status == TradeStatus.RECORDED,
        *same_units,
    )  # fmt: skip
    if rulebook.no_same_day_resale:
        available -= _traded(
            session, Trade.buyer_account_id == seller.id, Trade.status == TradeStatus.SETTLED,
            Trade.trade_date == day, *same_units,
        )  # fmt: skip
    if quantity > available:
        raise replay.insufficient(seller.number, available, unit_kind, vintage, quantity)


def allocation_of(session: Session, account_id: int, unit_kind: str, vintage: int) -> int:
    """Units allocated (completed allocation transactions) into an account for a vintage:
    the annual allocation of the position limit."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerTransaction.quantity), 0)).where(
                LedgerTransaction.to_account_id == account_id,
                LedgerTransaction.kind == TransactionKind.ALLOCATION,
                LedgerTransaction.status == TransactionStatus.COMPLETED,
                LedgerTransaction.unit_kind == unit_kind,
                LedgerTransaction.vintage == vintage,
            )
        )
        or 0
    )


def position_of(session: Session, account_id: int, unit_kind: str) -> int:
    """Units of ``unit_kind`` (every vintage) the account holds or has bought unsettled."""
    held = session.scalar(
        select(func.coalesce(func.sum(Holding.quantity), 0)).where(
            Holding.account_id == account_id, Holding.unit_kind == unit_kind
        )
    )
    pending = _traded(
        session, Trade.buyer_account_id == account_id, Trade.unit_kind == unit_kind,
        Trade.status == TradeStatus.RECORDED,
    )  # fmt: skip
    return int(held or 0) + pending


def position_limit(
    session: Session, rulebook: Rulebook, account: Account, unit_kind: str, vintage: int
) -> int | None:
    """The most the account may hold of ``unit_kind``; None when the rulebook sets none."""
    limits = rulebook.position_limits
    if unit_kind not in limits.unit_kinds:
        return None
    if account.kind is AccountKind.ENTERPRISE_COMPLIANCE:
        return allocation_of(session, account.id, unit_kind, vintage) + limits.covered_extra
    return limits.other_limit


def lock_positions(session: Session, account_ids: list[int]) -> None:
    """Lock the buyers' account rows until the unit of work ends, so that two purchases
    from different sellers (whose holding locks do not meet) cannot both pass the position
    check and together go over the limit. ``FOR NO KEY UPDATE`` (PostgreSQL): rows that
    merely reference the account (trades, postings) are not held up by it. Both paths take
    it before any holding lock (one order: accounts, then holdings), and before the
    position is read."""
    if account_ids:
        session.execute(
            select(Account.id)
            .where(Account.id.in_(account_ids))
            .order_by(Account.id)
            .with_for_update(key_share=True)
        ).all()


def check_position(
    session: Session, rulebook: Rulebook, buyer: Account, *, unit_kind: str, vintage: int,
    quantity: int,
) -> None:  # fmt: skip
    limit = position_limit(session, rulebook, buyer, unit_kind, vintage)
    if limit is None:
        return
    after = position_of(session, buyer.id, unit_kind) + quantity
    if after > limit:
        raise replay.over_limit(buyer.number, after, unit_kind, limit)
