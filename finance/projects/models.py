"""Climate-finance projects, their status history, financing, disbursements, reduction
reports, milestones and the sub-sector catalogue.

Money is ``Money`` (integer fen); tonnes and kilograms are ``ScaledDecimal(3)`` (exact to
0.001); rates and shares are ``ScaledDecimal(6)`` fractions (``0.0345`` is 3.45 % a year).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, Money, ScaledDecimal
from finance.projects.enums import Instrument, ProjectCategory, ProjectStatus


class Subsector(Base):
    """A climate-finance sub-sector (catalogue seeded by the migration; officers add more)."""

    __tablename__ = "finance_subsector"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)


class Project(Base):
    """A climate-finance pilot project (气候投融资试点项目)."""

    __tablename__ = "finance_project"
    __table_args__ = (
        UniqueConstraint("sponsor_credit_code", "name"),
        CheckConstraint("length(sponsor_credit_code) = 18", name="sponsor_credit_code_length"),
        CheckConstraint("total_investment >= 0", name="total_investment_non_negative"),
        CheckConstraint("expected_annual_reduction_t >= 0", name="expected_reduction_non_negative"),
        CheckConstraint(
            "so2_kg >= 0 AND nox_kg >= 0 AND pm_kg >= 0 AND vocs_kg >= 0",
            name="co_benefits_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sponsor_name: Mapped[str] = mapped_column(String(200))
    #: The sponsor's unified social credit code; an enterprise user whose enterprise has
    #: this code reads the project. Never changes (tenancy hangs on it).
    sponsor_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    locality: Mapped[str] = mapped_column(
        ForeignKey("district.code", ondelete="RESTRICT"), index=True
    )
    category: Mapped[ProjectCategory] = mapped_column(enum_column_type(ProjectCategory))
    subsector: Mapped[str] = mapped_column(
        ForeignKey("finance_subsector.code", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ProjectStatus] = mapped_column(enum_column_type(ProjectStatus), index=True)
    start_date: Mapped[date]
    total_investment: Mapped[Decimal] = mapped_column(Money())
    expected_annual_reduction_t: Mapped[Decimal] = mapped_column(ScaledDecimal(3))
    reduction_method: Mapped[str] = mapped_column(String(500), default="")
    #: Co-benefits: pollutants the project avoids, kg per year (None: not estimated).
    so2_kg: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    nox_kg: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    pm_kg: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    vocs_kg: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProjectStatusChange(Base):
    """One status change: the project's history (who, when, from what, why)."""

    __tablename__ = "finance_project_status_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("finance_project.id", ondelete="RESTRICT"), index=True
    )
    from_status: Mapped[ProjectStatus | None] = mapped_column(
        enum_column_type(ProjectStatus, "from_status")
    )
    to_status: Mapped[ProjectStatus] = mapped_column(enum_column_type(ProjectStatus, "to_status"))
    effective_date: Mapped[date]
    note: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(64))


class Financing(Base):
    """One financing record of a project: an instrument from one institution.

    A support-tool loan keeps the refinancing share and rate in force when it was recorded
    (changing the configuration later does not rewrite past loans) and the emission-reduction
    disclosure the tool requires.
    """

    __tablename__ = "finance_financing"
    __table_args__ = (
        UniqueConstraint("project_id", "instrument", "institution", "start_date"),
        CheckConstraint("committed > 0", name="committed_positive"),
        CheckConstraint("rate >= 0", name="rate_non_negative"),
        CheckConstraint("end_date >= start_date", name="end_after_start"),
        CheckConstraint("refinancing_share >= 0", name="refinancing_share_non_negative"),
        CheckConstraint("refinancing_rate >= 0", name="refinancing_rate_non_negative"),
        CheckConstraint(
            "disclosed_annual_reduction_t >= 0", name="disclosed_reduction_non_negative"
        ),
        CheckConstraint(
            "disclosure_period_end >= disclosure_period_start", name="disclosure_period_order"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("finance_project.id", ondelete="RESTRICT"), index=True
    )
    instrument: Mapped[Instrument] = mapped_column(enum_column_type(Instrument), index=True)
    institution: Mapped[str] = mapped_column(String(200))
    committed: Mapped[Decimal] = mapped_column(Money())
    #: Annual rate as a fraction (0.0345 = 3.45 %); None for equity and grants.
    rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(6))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    #: Support tool only: the central bank's share of principal and its rate, as configured
    #: when the financing was recorded.
    refinancing_share: Mapped[Decimal | None] = mapped_column(ScaledDecimal(6))
    refinancing_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(6))
    #: Support tool only: the emission-reduction disclosure the tool requires.
    disclosed_annual_reduction_t: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    disclosure_method: Mapped[str | None] = mapped_column(String(500))
    disclosure_date: Mapped[date | None]
    disclosure_period_start: Mapped[date | None]
    disclosure_period_end: Mapped[date | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class Disbursement(Base):
    """Money paid out under a financing on one date."""

    __tablename__ = "finance_disbursement"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    financing_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("finance_financing.id", ondelete="RESTRICT"), index=True
    )
    disbursed_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class ReductionReport(Base):
    """Reductions a project achieved over one period (periods of a project never overlap)."""

    __tablename__ = "finance_reduction_report"
    __table_args__ = (
        UniqueConstraint("project_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("achieved_t >= 0", name="achieved_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("finance_project.id", ondelete="RESTRICT"), index=True
    )
    period_start: Mapped[date]
    period_end: Mapped[date]
    achieved_t: Mapped[Decimal] = mapped_column(ScaledDecimal(3))
    note: Mapped[str] = mapped_column(String(500), default="")
    reported_at: Mapped[datetime]
    reported_by: Mapped[str] = mapped_column(String(64))


class Milestone(Base):
    """A milestone with its due date, the date it was done, and when it was flagged overdue."""

    __tablename__ = "finance_milestone"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("finance_project.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(index=True)
    done_on: Mapped[date | None]
    #: Set by ``flag_overdue_milestones`` the first time it finds the milestone late; kept
    #: after the milestone is done, as the record that it was late.
    overdue_flagged_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
