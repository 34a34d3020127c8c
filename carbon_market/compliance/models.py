"""Compliance years, extensions, exemptions, surrenders, the status table and penalties.

Tonnes are whole numbers (``BigInteger``); prices and amounts ``Money`` (integer fen); the
penalty multiple is ``ScaledDecimal(2)``. Deadlines are calendar dates in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.compliance.enums import ComplianceStatusKind, PenaltyStatus
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, Money, ScaledDecimal
from carbon_market.ledger.models import LedgerTransaction

#: Decimal places of a penalty multiple (e.g. 5, 7.5).
MULTIPLE_SCALE = 2


class ComplianceYear(Base):
    """One compliance year's rulebook: the shipped default it was opened from, as edited."""

    __tablename__ = "compliance_year"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("penalty_multiple > 0", name="multiple_positive"),
        CheckConstraint(
            "reporting_deadline <= verification_deadline "
            "AND verification_deadline <= surrender_deadline",
            name="deadlines_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    #: The shipped rulebook it was opened from (``national``, ``beijing``).
    rulebook_name: Mapped[str] = mapped_column(String(32))
    #: The rulebook's JSON form (``rulebook.parse_rulebook`` reads it), as edited.
    document: Mapped[dict[str, Any]]
    reporting_deadline: Mapped[date]
    verification_deadline: Mapped[date]
    surrender_deadline: Mapped[date]
    penalty_multiple: Mapped[Decimal] = mapped_column(ScaledDecimal(MULTIPLE_SCALE))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class ComplianceExtension(Base):
    """A regulator's extension of one enterprise's surrender deadline for a year."""

    __tablename__ = "compliance_extension"
    __table_args__ = (UniqueConstraint("year", "enterprise_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    until: Mapped[date]
    reason: Mapped[str] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime]

    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")


class ComplianceExemption(Base):
    """A regulator's decision that an enterprise owes nothing for a year, with the reason."""

    __tablename__ = "compliance_exemption"
    __table_args__ = (UniqueConstraint("year", "enterprise_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime]

    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")


class ComplianceSurrender(Base):
    """Which compliance year a surrender transaction of the ledger counts for. The units
    move in the ledger (a ``surrender`` transaction to the retirement account); this row
    only says for which year, and how the units count (allowance or offset, and whether
    the offset comes from outside the jurisdiction)."""

    __tablename__ = "compliance_surrender"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("counts_as IN ('allowance', 'offset')", name="counts_as_known"),
        Index("ix_compliance_surrender_year_enterprise_id", "year", "enterprise_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT")
    )
    transaction_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), unique=True
    )
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code", ondelete="RESTRICT"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    counts_as: Mapped[str] = mapped_column(String(16))
    is_outside: Mapped[bool] = mapped_column(default=False)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    #: The correction that made this surrender (the smaller re-surrender after a reversal),
    #: None for the enterprise's own.
    correction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("compliance_correction.id", ondelete="RESTRICT"), index=True
    )

    #: Loaded with the row: every response names the transaction's status and the owner.
    transaction: Mapped[LedgerTransaction] = relationship(viewonly=True, lazy="selectin")
    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")


class ComplianceStatus(Base):
    """Each covered enterprise's standing in a year, as the last sweep computed it."""

    __tablename__ = "compliance_status"
    __table_args__ = (
        CheckConstraint("obligation_t >= 0", name="obligation_non_negative"),
        CheckConstraint("surrendered_t >= 0", name="surrendered_non_negative"),
        CheckConstraint("offsets_surrendered_t >= 0", name="offsets_non_negative"),
        CheckConstraint("offsets_surrendered_t <= surrendered_t", name="offsets_within_total"),
        CheckConstraint("shortfall_t >= 0", name="shortfall_non_negative"),
        CheckConstraint("(status = 'shortfall') = (shortfall_t > 0)", name="shortfall_status"),
        Index("ix_compliance_status_year_status", "year", "status"),
    )

    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT"), primary_key=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), primary_key=True
    )
    obligation_t: Mapped[int] = mapped_column(BigInteger)
    surrendered_t: Mapped[int] = mapped_column(BigInteger)
    offsets_surrendered_t: Mapped[int] = mapped_column(BigInteger)
    shortfall_t: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ComplianceStatusKind] = mapped_column(enum_column_type(ComplianceStatusKind))
    #: Why the obligation differs from the verified emissions (a rulebook cap), if it does.
    adjustment: Mapped[str | None] = mapped_column(String(200))
    #: The day (Asia/Shanghai) the sweep computed this row for.
    as_of: Mapped[date]
    computed_at: Mapped[datetime]


class ComplianceCorrection(Base):
    """A corrected report version applied to an enterprise's year: what the obligation was
    and became and how many units went back. One per report version (UNIQUE), so applying
    the same correction twice changes nothing; every downstream change names it."""

    __tablename__ = "compliance_correction"
    __table_args__ = (
        CheckConstraint("version >= 2", name="version_is_correction"),
        CheckConstraint("previous_obligation_t >= 0", name="previous_non_negative"),
        CheckConstraint("obligation_t >= 0", name="obligation_non_negative"),
        CheckConstraint("returned_t >= 0", name="returned_non_negative"),
        Index("ix_compliance_correction_year_enterprise_id", "year", "enterprise_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emission_report.id", ondelete="RESTRICT"), unique=True
    )
    version: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT")
    )
    #: The obligation (after the rulebook's caps) from the version it corrects, and now.
    previous_obligation_t: Mapped[int] = mapped_column(BigInteger)
    obligation_t: Mapped[int] = mapped_column(BigInteger)
    #: Units returned to the compliance account (reversed less re-surrendered).
    returned_t: Mapped[int] = mapped_column(BigInteger)
    status_before: Mapped[str | None] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime]
    applied_by: Mapped[str] = mapped_column(String(64))

    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")


class CompliancePenalty(Base):
    """The penalty for one enterprise's shortfall in a year: at most one ``current``
    (assessing twice adds nothing; a correction supersedes or cancels it)."""

    __tablename__ = "compliance_penalty"
    __table_args__ = (
        Index(
            "uq_compliance_penalty_current",
            "year",
            "enterprise_id",
            unique=True,
            sqlite_where=text("status = 'current'"),
            postgresql_where=text("status = 'current'"),
        ),
        CheckConstraint(
            "(status = 'current') = (ended_by_id IS NULL)", name="ended_names_correction"
        ),
        CheckConstraint("shortfall_t > 0", name="shortfall_positive"),
        CheckConstraint("multiple > 0", name="multiple_positive"),
        CheckConstraint("average_price > 0", name="price_positive"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("allocation_deduction_t >= 0", name="deduction_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(
        Integer, ForeignKey("compliance_year.year", ondelete="RESTRICT")
    )
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    shortfall_t: Mapped[int] = mapped_column(BigInteger)
    multiple: Mapped[Decimal] = mapped_column(ScaledDecimal(MULTIPLE_SCALE))
    #: The average market price over the rulebook's window, CNY per tonne.
    average_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    #: Tonnes to come off next year's allocation if the shortfall stays uncorrected.
    allocation_deduction_t: Mapped[int] = mapped_column(BigInteger)
    price_from: Mapped[date]
    price_to: Mapped[date]
    assessed_on: Mapped[date]
    assessed_at: Mapped[datetime]
    assessed_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[PenaltyStatus] = mapped_column(
        enum_column_type(PenaltyStatus), default=PenaltyStatus.CURRENT
    )
    #: The correction that recomputed this penalty (None: assessed by the job).
    correction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("compliance_correction.id", ondelete="RESTRICT"), index=True
    )
    #: The correction that superseded or cancelled it.
    ended_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("compliance_correction.id", ondelete="RESTRICT")
    )
    #: The penalty this one replaces (a penalty is superseded at most once: UNIQUE). The
    #: link points back so the old row's status changes before the new row exists.
    supersedes_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("compliance_penalty.id", ondelete="RESTRICT"), unique=True
    )

    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")
