"""Trades as the exchange reports them, and the reference prices regulators set.

Prices and cash amounts are ``Money`` (integer fen); quantities whole units. ``trade_date``
is the trading day in the deadline time zone (Asia/Shanghai), kept beside the UTC
``traded_at`` so that days are indexed and never recomputed with a time-zone mistake.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, Money
from carbon_market.ledger.models import Account


class TradeKind(enum.StrEnum):
    #: 挂牌协议 (national) / 公开交易 (Beijing): small orders, the narrow band.
    LISTED = "listed"
    #: 大宗协议 (national) / 协议转让 (Beijing): large orders, the wide band.
    BLOCK = "block"
    #: 单向竞价 (national): the result of a one-way auction the exchange organised for one
    #: seller (or buyer); recorded as the exchange reports it (docs/trading.md).
    ONE_WAY_BIDDING = "one_way_bidding"


class TradeStatus(enum.StrEnum):
    RECORDED = "recorded"
    SETTLED = "settled"
    #: The end-of-day settlement could not move the units (T+1 rulebooks only).
    REJECTED = "rejected"


class Trade(Base):
    __tablename__ = "trade"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("amount = quantity * price", name="amount_is_quantity_times_price"),
        CheckConstraint("seller_account_id != buyer_account_id", name="two_parties"),
        CheckConstraint("vintage BETWEEN 2000 AND 2100", name="vintage_range"),
        CheckConstraint(
            "(status = 'settled') = (settlement_tx_id IS NOT NULL)", name="settled_by_transaction"
        ),
        Index("ix_trade_unit_kind_trade_date", "unit_kind", "trade_date"),
        Index("ix_trade_status_trade_date", "status", "trade_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The exchange's reference: a trade reported twice is recorded once.
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TradeKind] = mapped_column(enum_column_type(TradeKind))
    seller_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT"), index=True
    )
    buyer_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT"), index=True
    )
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code", ondelete="RESTRICT"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: CNY per tonne (fen in the database).
    price: Mapped[Decimal] = mapped_column(Money())
    #: Cash due from buyer to seller, quantity × price; settled outside the platform.
    amount: Mapped[Decimal] = mapped_column(Money())
    #: The reference price the band was checked against.
    reference_price: Mapped[Decimal] = mapped_column(Money())
    traded_at: Mapped[datetime]
    trade_date: Mapped[date]
    status: Mapped[TradeStatus] = mapped_column(enum_column_type(TradeStatus))
    settlement_tx_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), unique=True
    )
    settled_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    seller: Mapped[Account] = relationship(
        foreign_keys=[seller_account_id], viewonly=True, lazy="selectin"
    )
    buyer: Mapped[Account] = relationship(
        foreign_keys=[buyer_account_id], viewonly=True, lazy="selectin"
    )


class ReferencePrice(Base):
    """A reference price a regulator set for a unit kind from a day on (the first trading
    day's, or a reset); later closes take over once the market trades."""

    __tablename__ = "market_reference_price"
    __table_args__ = (
        UniqueConstraint("unit_kind", "day"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code", ondelete="RESTRICT"))
    #: The first trading day the price is the reference for.
    day: Mapped[date]
    price: Mapped[Decimal] = mapped_column(Money())
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(64))


class EnterpriseGroup(Base):
    """A group of enterprises under one control (集团), as the regulator registers it:
    trades between accounts of different enterprises of one group are flagged
    (``same_group``) like trades within one enterprise."""

    __tablename__ = "enterprise_group"
    __table_args__ = (CheckConstraint("code <> '' AND name <> ''", name="named"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The regulator's short code (e.g. the parent's unified social credit code).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class EnterpriseGroupMember(Base):
    """An enterprise's group: at most one (the primary key), so a group register cannot
    put one enterprise under two controllers."""

    __tablename__ = "enterprise_group_member"

    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise_group.id", ondelete="RESTRICT"), index=True
    )
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(64))
