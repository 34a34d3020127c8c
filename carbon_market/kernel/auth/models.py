"""Users and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # An enterprise user belongs to exactly one enterprise; nobody else belongs to one.
        CheckConstraint(
            "(role = 'enterprise') = (enterprise_id IS NOT NULL)", name="enterprise_binding"
        ),
        # An enterprise user who can neither initiate nor approve could do nothing at all.
        CheckConstraint(
            "role != 'enterprise' OR can_initiate OR can_approve", name="enterprise_capability"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role))
    enterprise_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    can_initiate: Mapped[bool] = mapped_column(default=False)
    can_approve: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="RESTRICT"))
    #: SHA-256 of the token, hex. The token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so a user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
