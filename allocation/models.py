"""Allocation plans and their per-facility results (ORM).

A plan is stored twice over on purpose: its document (the JSON the API, the CLI and
export/import speak, ``allocation.rules.plan``) is the source of truth, and the figures the
database must guard — year, cap, shares, status, who approved — are columns with CHECKs.
An approved plan's results are rows, one per facility, frozen at approval; issuing fills
``issued_tx_id`` row by row in the same unit of work as the ledger transfer, so a row
either has its transaction or nothing moved for it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, Money, ScaledDecimal

#: Places of shares (and of free allocations: 1 g) and of the scaling factor.
SHARE_SCALE = 6
FREE_SCALE = 6
FACTOR_SCALE = 12


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"


#: The plans that count for their year: approved or issued.
ADOPTED = "status <> 'draft'"


class AllocationPlan(Base):
    """A compliance year's allocation plan (one of possibly several scenarios per year)."""

    __tablename__ = "allocation_plan"
    __table_args__ = (
        UniqueConstraint("year", "name"),
        CheckConstraint("year BETWEEN 2001 AND 2100", name="year_in_range"),
        CheckConstraint("cap > 0", name="cap_positive"),
        CheckConstraint("reserve_share >= 0 AND auction_share >= 0", name="shares_non_negative"),
        # Shares are stored in millionths: together at most 100%.
        CheckConstraint("reserve_share + auction_share <= 1000000", name="shares_within_cap"),
        CheckConstraint("(status = 'draft') = (approved_at IS NULL)", name="approved_unless_draft"),
        CheckConstraint("(status = 'issued') = (issued_at IS NOT NULL)", name="issued_when_issued"),
        CheckConstraint(
            "approved_by_user_id IS NULL OR created_by_user_id IS NULL "
            "OR approved_by_user_id <> created_by_user_id",
            name="four_eyes",
        ),
        CheckConstraint("total_allocation >= 0", name="total_non_negative"),
        # One adopted (approved or issued) plan per year, even under concurrent approvals.
        Index(
            "uq_allocation_plan_adopted_year",
            "year",
            unique=True,
            sqlite_where=text(ADOPTED),
            postgresql_where=text(ADOPTED),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(index=True)
    status: Mapped[PlanStatus] = mapped_column(enum_column_type(PlanStatus))
    cap: Mapped[int] = mapped_column(BigInteger)
    reserve_share: Mapped[Decimal] = mapped_column(ScaledDecimal(SHARE_SCALE))
    auction_share: Mapped[Decimal] = mapped_column(ScaledDecimal(SHARE_SCALE))
    #: The plan document (decimals as strings), as ``allocation.rules.plan.plan_document`` writes
    #: it.
    document: Mapped[dict[str, Any]]
    #: Set at approval from the frozen results.
    scale_factor: Mapped[Decimal | None] = mapped_column(ScaledDecimal(FACTOR_SCALE))
    total_allocation: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    updated_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    issued_at: Mapped[datetime | None]
    #: When the pre-allocation and the true-up froze their figures
    #: (:mod:`allocation.issuing.stages`).
    pre_allocated_at: Mapped[datetime | None]
    trued_up_at: Mapped[datetime | None]


class AllocationResult(Base):
    """One facility's result under an approved plan, and the transaction that issued it."""

    __tablename__ = "allocation_result"
    __table_args__ = (
        UniqueConstraint("plan_id", "facility_id"),
        UniqueConstraint("issued_tx_id"),
        CheckConstraint("free_allocation >= 0", name="free_non_negative"),
        CheckConstraint("allocation >= 0", name="allocation_non_negative"),
        CheckConstraint(
            "(allocation IS NULL) = (free_allocation IS NULL)", name="allocated_with_free"
        ),
        CheckConstraint("issued_tx_id IS NULL OR allocation > 0", name="issued_only_units"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("allocation_plan.id", ondelete="RESTRICT")
    )
    facility_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    sector: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(40))
    method: Mapped[str | None] = mapped_column(String(32))
    #: Before scaling, 6 places (``FREE_SCALE``); None when the facility is not allocable.
    free_allocation: Mapped[Decimal | None] = mapped_column(ScaledDecimal(FREE_SCALE))
    allocation: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(500))
    #: Every factor used, decimals as strings.
    breakdown: Mapped[dict[str, Any]]
    issued_tx_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT")
    )


class AuctionStatus(enum.StrEnum):
    #: Accepting bids while the window is open (before it, bids are refused as early).
    OPEN = "open"
    #: The window has closed and the awards are computed; no unit has moved yet.
    CLEARED = "cleared"
    #: Every award has its settlement transaction.
    SETTLED = "settled"


#: The most units one auction may offer, and the price every bid and reserve stays below
#: (CNY, as for trades): an amount due, awarded × price, is then at most 10**16 CNY, which
#: its column (fen in a signed 64-bit integer, up to 9.2 × 10**16 CNY) holds.
MAX_AUCTION_VOLUME = 10**10
MAX_AUCTION_PRICE = Decimal("1000000")


class Auction(Base):
    """A uniform-price sealed-bid auction of units held in the auction account.

    The window is ``[opens_at, closes_at)`` in UTC; the clearing figures are written once,
    when a regulator clears it after the close, and never change after.
    """

    __tablename__ = "allocation_auction"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2001 AND 2100", name="year_in_range"),
        CheckConstraint("vintage BETWEEN 2000 AND 2100", name="vintage_range"),
        CheckConstraint("volume > 0", name="volume_positive"),
        CheckConstraint("reserve_price > 0", name="reserve_price_positive"),
        CheckConstraint("bidder_limit > 0 AND bidder_limit <= volume", name="limit_within_volume"),
        CheckConstraint("closes_at > opens_at", name="window_ordered"),
        CheckConstraint("(status = 'open') = (cleared_at IS NULL)", name="cleared_unless_open"),
        CheckConstraint(
            "(status = 'settled') = (settled_at IS NOT NULL)", name="settled_when_settled"
        ),
        CheckConstraint(
            "clearing_price IS NULL OR clearing_price >= reserve_price",
            name="never_below_reserve",
        ),
        CheckConstraint(
            "sold IS NULL OR (sold >= 0 AND sold <= volume)", name="sold_within_volume"
        ),
        CheckConstraint("(sold IS NULL) = (cleared_at IS NULL)", name="sold_when_cleared"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("allocation_plan.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int]
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code", ondelete="RESTRICT"))
    vintage: Mapped[int]
    volume: Mapped[int] = mapped_column(BigInteger)
    #: CNY per unit (fen in the database); published with the auction.
    reserve_price: Mapped[Decimal] = mapped_column(Money())
    #: The most units one bidder (enterprise) may ask for, summed over its bids.
    bidder_limit: Mapped[int] = mapped_column(BigInteger)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    status: Mapped[AuctionStatus] = mapped_column(enum_column_type(AuctionStatus))
    clearing_price: Mapped[Decimal | None] = mapped_column(Money())
    sold: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None]


class BidStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class AuctionBid(Base):
    """One sealed bid. Its id is its order of arrival (ties at the margin go to the earlier
    bid); ``awarded`` and ``amount_due`` are written at clearing, ``settlement_tx_id`` at
    settlement in the same unit of work as the ledger transfer."""

    __tablename__ = "allocation_auction_bid"
    __table_args__ = (
        Index("ix_allocation_auction_bid_auction_enterprise", "auction_id", "enterprise_id"),
        UniqueConstraint("settlement_tx_id"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "awarded IS NULL OR (awarded >= 0 AND awarded <= quantity)", name="awarded_within_bid"
        ),
        CheckConstraint("(awarded IS NULL) = (amount_due IS NULL)", name="due_with_award"),
        CheckConstraint("amount_due IS NULL OR amount_due >= 0", name="due_non_negative"),
        CheckConstraint("settlement_tx_id IS NULL OR awarded > 0", name="settled_only_awards"),
        CheckConstraint(
            "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_when_withdrawn"
        ),
        # A withdrawn bid takes no part in the clearing.
        CheckConstraint("status = 'submitted' OR awarded IS NULL", name="withdrawn_not_awarded"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    auction_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("allocation_auction.id", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id", ondelete="RESTRICT"))
    price: Mapped[Decimal] = mapped_column(Money())
    quantity: Mapped[int] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    awarded: Mapped[int | None] = mapped_column(BigInteger)
    #: awarded × clearing price, CNY; paid outside the platform.
    amount_due: Mapped[Decimal | None] = mapped_column(Money())
    settlement_tx_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT")
    )
    #: ``withdrawn`` by its bidder while the window was open: kept (the audit trail), but
    #: it counts neither towards the per-bidder limit nor in the clearing.
    status: Mapped[BidStatus] = mapped_column(
        enum_column_type(BidStatus), default=BidStatus.SUBMITTED
    )
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))


class Stage(enum.StrEnum):
    #: Early in the year: pre_allocation_share of the allocation on last year's activity.
    PRE_ALLOCATION = "pre_allocation"
    #: On verified data: the final allocation less what the pre-allocation issued.
    TRUE_UP = "true_up"
    #: From the reserve: a new entrant or a capacity change, by benchmark.
    NEW_ENTRANT = "new_entrant"
    #: Back to the reserve: capacity removed (or a closure) during the year, by benchmark.
    CAPACITY_REDUCTION = "capacity_reduction"


#: The stages a regulator records one facility at a time and a second regulator decides
#: (:mod:`allocation.reserve.entrants`); the others are frozen by a stage of an approved plan.
RESERVE_RECORDS = "stage IN ('new_entrant', 'capacity_reduction')"


class RecordStatus(enum.StrEnum):
    """Where a reserve record stands. Every other adjustment is ``approved`` from the start:
    the plan it comes from had its second regulator."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EntrantKind(enum.StrEnum):
    """What a ``new_entrant`` adjustment records (kept in its note and breakdown)."""

    NEW_ENTRANT = "new_entrant"
    CAPACITY_CHANGE = "capacity_change"


class ReductionKind(enum.StrEnum):
    """What a ``capacity_reduction`` adjustment records (kept in its note and breakdown)."""

    CAPACITY_REDUCTION = "capacity_reduction"
    CLOSURE = "closure"


class AllocationAdjustment(Base):
    """One facility's movement in a stage of a plan's issuing other than the one-off issue:
    frozen when the stage starts (so a resumed run moves the same figures), and given its
    ledger transaction in the same unit of work as the transfer. ``quantity`` is signed: a
    true-up below the pre-allocation, and a capacity reduction, claw units back into the
    reserve. New entrants, capacity changes and reductions ("reserve records") have four
    eyes: recorded ``pending``, they move units only once a second regulator approves."""

    __tablename__ = "allocation_adjustment"
    __table_args__ = (
        Index(
            "uq_allocation_adjustment_stage_facility",
            "plan_id",
            "stage",
            "facility_id",
            unique=True,
            sqlite_where=text(f"NOT ({RESERVE_RECORDS})"),
            postgresql_where=text(f"NOT ({RESERVE_RECORDS})"),
        ),
        UniqueConstraint("tx_id"),
        CheckConstraint(
            "stage IN ('true_up', 'capacity_reduction') OR quantity >= 0",
            name="only_true_up_claws_back",
        ),
        CheckConstraint(
            "stage <> 'capacity_reduction' OR quantity < 0", name="reduction_claws_back"
        ),
        CheckConstraint("tx_id IS NULL OR quantity <> 0", name="moved_only_units"),
        CheckConstraint("basis IS NULL OR basis >= 0", name="basis_non_negative"),
        # Four eyes on reserve records: only they are ever pending or rejected, a decision
        # names its regulator, units move only once approved, and never by the recorder.
        CheckConstraint(
            f"{RESERVE_RECORDS} OR status = 'approved'", name="only_records_are_decided"
        ),
        CheckConstraint(
            f"NOT ({RESERVE_RECORDS}) OR (status = 'pending') = (decided_at IS NULL)",
            name="decided_unless_pending",
        ),
        CheckConstraint("tx_id IS NULL OR status = 'approved'", name="moved_once_approved"),
        CheckConstraint(
            "decided_by_user_id IS NULL OR created_by_user_id IS NULL "
            "OR decided_by_user_id <> created_by_user_id",
            name="four_eyes",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("allocation_plan.id", ondelete="RESTRICT")
    )
    stage: Mapped[Stage] = mapped_column(enum_column_type(Stage))
    facility_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    #: The whole-unit allocation the stage started from (last year's activity for the
    #: pre-allocation, the final one for the true-up); None when it could not be computed.
    basis: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(500))
    #: Every factor used, decimals as strings (new entrants: the inputs and the pro rata).
    breakdown: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    tx_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT")
    )
    #: Reserve records start ``pending``; every other adjustment is ``approved``.
    status: Mapped[RecordStatus] = mapped_column(
        enum_column_type(RecordStatus), default=RecordStatus.APPROVED
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    #: The second regulator's decision on a reserve record (approve or reject).
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    #: Why a record was rejected (empty otherwise).
    reason: Mapped[str | None] = mapped_column(String(500))
