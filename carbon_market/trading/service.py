"""Recording trades, settling them in the registry, and the regulators' reference prices.

A trade comes from the exchange (its service account, role ``exchange``) or a regulator.
Recording works in the platform's order: authorize, look the trade's reference up (the same
reference with the same content is the trade already recorded: nothing changes), load the
accounts, check the rules (mode and size, price band, the seller's units, the buyer's
position limit), write, audit, and, under a T+0 rulebook, settle at once in the same unit of
work: either the trade is recorded *and* its units have moved, or nothing happened.

Settlement goes through the ledger's own service (``request_transfer`` as the system actor,
kind ``trade_settlement``), so it posts at once with the ledger's locking, hash chain and
audit; the trade keeps the ledger transaction's id and the cash amount due.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, config_of, each_in_own_unit, transactional
from carbon_market.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.kernel.text import clip
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import parse_account_number
from carbon_market.ledger.enums import TransactionKind
from carbon_market.ledger.models import Account
from carbon_market.ledger.rules import check_quantity_and_vintage
from carbon_market.trading import checks, replay
from carbon_market.trading.models import ReferencePrice, Trade, TradeKind, TradeStatus
from carbon_market.trading.rules.price_limits import cash_amount, check_price, mode_for
from carbon_market.trading.rules.rulebook import Settlement

#: What makes two reports of one trade the same trade.
TRADE_FIELDS = [
    "kind",
    "seller_account",
    "buyer_account",
    "unit_kind",
    "vintage",
    "quantity",
    "price",
    "traded_at",
]
AUDITED = ["external_ref", "kind", "unit_kind", "vintage", "quantity", "price", "amount", "status"]


def _settlement_actor(actor: Actor) -> Actor:
    return Actor.system(name="system:trade-settlement", request_id=actor.request_id)


def _same_content(trade: Trade, values: dict[str, Any]) -> list[str]:
    recorded = {
        "kind": trade.kind,
        "seller_account": trade.seller.number,
        "buyer_account": trade.buyer.number,
        "unit_kind": trade.unit_kind,
        "vintage": trade.vintage,
        "quantity": trade.quantity,
        "price": trade.price,
        "traded_at": trade.traded_at,
    }
    return [name for name in TRADE_FIELDS if recorded[name] != values[name]]


def is_price(price: Decimal) -> bool:
    """A positive, finite amount of CNY with at most two places (whole fen)."""
    return price.is_finite() and price > 0 and (price * 100) == (price * 100).to_integral_value()


def recorded_differently(external_ref: str, differing: list[str]) -> Conflict:
    return Conflict(
        f"trade {external_ref} was recorded with other content",
        errors=[FieldError(f"#/{n}", "differs from the recorded trade") for n in differing],
    )


@functools.lru_cache(maxsize=4096)
def _account_number(raw: str, pointer: str) -> str:
    """``parse_account_number``, remembered: a trade file names the same accounts often."""
    return parse_account_number(raw, pointer)


def check_shape(
    quantity: object, vintage: object, price: Decimal, traded_at: datetime, seller: str,
    buyer: str,
) -> tuple[str, str]:  # fmt: skip
    """The checks of a trade that need no database (the import runs them on every row);
    returns the seller's and the buyer's account numbers, normalised."""
    check_quantity_and_vintage(quantity, vintage)
    errors = []
    if not is_price(price):
        errors.append(FieldError("#/price", "must be a positive price with at most two places"))
    if traded_at.tzinfo is None:
        errors.append(FieldError("#/traded_at", "must carry a time-zone offset"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    seller_number = _account_number(seller, "#/seller_account")
    buyer_number = _account_number(buyer, "#/buyer_account")
    if seller_number == buyer_number:
        raise ValidationFailed(
            "seller and buyer are the same account",
            errors=[FieldError("#/buyer_account", "same as seller_account")],
        )
    return seller_number, buyer_number


@transactional
def record_trade(
    session: Session,
    actor: Actor,
    *,
    kind: TradeKind,
    seller_account: str,
    buyer_account: str,
    unit_kind: str,
    vintage: int,
    quantity: int,
    price: Decimal,
    traded_at: datetime,
    external_ref: str,
) -> tuple[Trade, bool]:
    """Record a trade; returns it and whether it is new. Exchange and regulators.

    Raises ValidationFailed (shape, unknown account or unit kind), Conflict (the reference
    was recorded with other content), AccountNotUsable (blocked, closed or not a trading
    kind), RuleViolation (mode and size, price band, no reference price, position limit)
    and InsufficientHolding (the seller may not sell that many).
    """
    authorize(actor, "trading.record")
    seller_number, buyer_number = check_shape(
        quantity, vintage, price, traded_at, seller_account, buyer_account
    )
    values = {
        "kind": kind, "seller_account": seller_number, "buyer_account": buyer_number,
        "unit_kind": unit_kind, "vintage": vintage, "quantity": quantity, "price": price,
        "traded_at": traded_at,
    }  # fmt: skip
    existing = session.scalar(select(Trade).where(Trade.external_ref == external_ref))
    if existing is not None:
        differing = _same_content(existing, values)
        if differing:
            raise recorded_differently(external_ref, differing)
        return existing, False
    rulebook = checks.rulebook_of(session)
    pair = checks.parties(session, rulebook, seller_number, buyer_number)
    checks.lock_positions(session, [pair.buyer.id])
    checks.check_unit_kind(session, unit_kind)
    mode = mode_for(rulebook, kind.value, quantity)
    day = local_date(traded_at, config_of(session).deadline_tz)
    reference = checks.reference_price(session, unit_kind, day)
    if reference is None:
        raise replay.no_reference(unit_kind, day)
    check_price(price, reference, mode)
    checks.check_sellable(
        session, rulebook, pair.seller, unit_kind=unit_kind, vintage=vintage,
        quantity=quantity, day=day,
    )  # fmt: skip
    checks.check_position(
        session, rulebook, pair.buyer, unit_kind=unit_kind, vintage=vintage, quantity=quantity
    )
    now = clock_of(session).now()
    trade = Trade(
        external_ref=external_ref, kind=kind, seller_account_id=pair.seller.id,
        buyer_account_id=pair.buyer.id, unit_kind=unit_kind, vintage=vintage,
        quantity=quantity, price=price, amount=cash_amount(quantity, price),
        reference_price=reference, traded_at=traded_at, trade_date=day,
        status=TradeStatus.RECORDED, recorded_at=now, recorded_by=actor.name,
        request_id=actor.request_id,
    )  # fmt: skip
    trade.seller, trade.buyer = pair.seller, pair.buyer
    session.add(trade)
    try:
        session.flush()  # the id names the trade in the audit and the settlement memo
    except IntegrityError as exc:  # UNIQUE(external_ref) under a race with another recorder
        raise Conflict(f"trade {external_ref} was recorded concurrently; retry") from exc
    if kind is TradeKind.LISTED:
        checks.forget_references(session, unit_kind, after=day)
    record(
        session, actor, action="trade:record", entity_type="trade", entity_id=trade.id,
        after=snapshot(trade, AUDITED),
    )  # fmt: skip
    if rulebook.settlement is Settlement.T0:
        _settle(session, actor, trade)
    return trade, True


def _settle(session: Session, actor: Actor, trade: Trade) -> None:
    """Move the trade's units seller → buyer as a trade settlement (posted at once)."""
    tx = ledger.request_transfer(
        session,
        _settlement_actor(actor),
        from_account=trade.seller.number,
        to_account=trade.buyer.number,
        unit_kind=trade.unit_kind,
        vintage=trade.vintage,
        quantity=trade.quantity,
        memo=f"trade {trade.external_ref}",
        kind=TransactionKind.TRADE_SETTLEMENT,
    )
    trade.status = TradeStatus.SETTLED
    trade.settlement_tx_id = tx.id
    trade.settled_at = clock_of(session).now()


@transactional
def _settle_one(session: Session, actor: Actor, trade_id: int) -> TradeStatus | None:
    trade = session.scalar(select(Trade).where(Trade.id == trade_id).with_for_update())
    if trade is None or trade.status is not TradeStatus.RECORDED:
        return None  # settled or rejected by another run meanwhile
    before = snapshot(trade, ["status"])
    savepoint = session.begin_nested()
    try:
        _settle(session, actor, trade)
    except DomainError as exc:
        savepoint.rollback()
        trade.status = TradeStatus.REJECTED
        trade.rejection_reason = clip(exc.detail)
    else:
        savepoint.commit()
    record(
        session, actor, action=f"trade:{trade.status}", entity_type="trade", entity_id=trade.id,
        before=before, after=snapshot(trade, ["status", "settlement_tx_id", "rejection_reason"]),
    )  # fmt: skip
    return trade.status


def settle_due(session: Session, actor: Actor, *, through: date | None = None) -> dict[str, int]:
    """The end-of-day run (T+1 rulebooks): settle every recorded trade of trading days up
    to ``through`` (today in the deadline time zone by default), each in its own unit of
    work; a trade whose units cannot move (the seller's account blocked meanwhile, ...) is
    rejected with the reason. Regulators and the system actor (the scheduler)."""
    if not actor.is_system:
        authorize(actor, "market.reference_price")  # regulators only
    through = through or local_date(clock_of(session).now(), config_of(session).deadline_tz)
    due = list(
        session.scalars(
            select(Trade.id)
            .where(Trade.status == TradeStatus.RECORDED, Trade.trade_date <= through)
            .order_by(Trade.traded_at, Trade.id)
        )
    )
    outcomes = each_in_own_unit(
        session, due, lambda trade_id: _settle_one(session, actor, trade_id)
    )
    return {
        "settled": outcomes.count(TradeStatus.SETTLED),
        "rejected": outcomes.count(TradeStatus.REJECTED),
    }


def list_trades(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    unit_kind: str | None = None,
    kind: TradeKind | None = None,
    status: TradeStatus | None = None,
    account: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Page[Trade]:
    """Trades, oldest first. An enterprise user sees the trades of its own accounts."""
    authorize(actor, "trading.read")
    query = select(Trade)
    scope = tenant_scope(actor)
    if scope is not None:
        own = select(Account.id).where(Account.enterprise_id == scope)
        query = query.where(or_(Trade.seller_account_id.in_(own), Trade.buyer_account_id.in_(own)))
    if account:
        ids = select(Account.id).where(Account.number == account)
        query = query.where(or_(Trade.seller_account_id.in_(ids), Trade.buyer_account_id.in_(ids)))
    for column, value in ((Trade.unit_kind, unit_kind), (Trade.kind, kind), (Trade.status, status)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Trade.trade_date >= since)
    if until is not None:
        query = query.where(Trade.trade_date <= until)
    return paginate(session, query.order_by(Trade.id), page)


def get_trade(session: Session, actor: Actor, trade_id: int) -> Trade:
    authorize(actor, "trading.read")
    trade = session.get(Trade, trade_id)
    scope = tenant_scope(actor)
    if trade is None or (
        scope is not None and scope not in (trade.seller.enterprise_id, trade.buyer.enterprise_id)
    ):
        raise NotFound(f"trade {trade_id} does not exist")
    return trade


@transactional
def set_reference_price(
    session: Session, actor: Actor, *, unit_kind: str, day: date, price: Decimal
) -> tuple[ReferencePrice, bool]:
    """Set the reference price of ``unit_kind`` from ``day`` on (the first trading day's,
    or a reset); setting a day again replaces its price. Returns it and whether it is new.
    Regulators only."""
    authorize(actor, "market.reference_price")
    if not is_price(price):
        raise ValidationFailed(
            "invalid price", errors=[FieldError("#/price", "a positive price, two places")]
        )
    checks.check_unit_kind(session, unit_kind)
    found = session.scalar(
        select(ReferencePrice).where(
            ReferencePrice.unit_kind == unit_kind, ReferencePrice.day == day
        )
    )
    now = clock_of(session).now()
    before = snapshot(found, ["unit_kind", "day", "price"]) if found else None
    if found is None:
        found = ReferencePrice(unit_kind=unit_kind, day=day, price=price, set_at=now)
        session.add(found)
    found.price, found.set_at, found.set_by = price, now, actor.name
    session.flush()  # the audit event names the price by its id
    checks.forget_references(session, unit_kind)
    record(
        session, actor, action="reference_price:set", entity_type="market_reference_price",
        entity_id=found.id, before=before, after=snapshot(found, ["unit_kind", "day", "price"]),
    )  # fmt: skip
    return found, before is None
