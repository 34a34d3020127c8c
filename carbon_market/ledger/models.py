"""Registry accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.db import Base, enum_column_type
from carbon_market.types import BigId


class AccountKind(enum.StrEnum):
    GOVERNMENT_ISSUANCE = "government_issuance"
    GOVERNMENT_RESERVE = "government_reserve"
    AUCTION = "auction"
    ENTERPRISE_COMPLIANCE = "enterprise_compliance"
    TRADING = "trading"
    RETIREMENT = "retirement"


#: The two digits after ``BJ`` in an account number tell its kind at a glance.
KIND_CODES: dict[AccountKind, str] = {
    AccountKind.GOVERNMENT_ISSUANCE: "01",
    AccountKind.GOVERNMENT_RESERVE: "02",
    AccountKind.AUCTION: "03",
    AccountKind.ENTERPRISE_COMPLIANCE: "10",
    AccountKind.TRADING: "20",
    AccountKind.RETIREMENT: "90",
}


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    CLOSED = "closed"


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "kind"),
        CheckConstraint(
            "kind != 'enterprise_compliance' OR enterprise_id IS NOT NULL",
            name="compliance_has_owner",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column_type(AccountKind))
    enterprise_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[AccountStatus] = mapped_column(enum_column_type(AccountStatus))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
