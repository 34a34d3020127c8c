"""The notifications outbox: one row per message, delivered later by a job."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId

if TYPE_CHECKING:
    from carbon_market.emitters.models import Enterprise


class DeliveryStatus(enum.StrEnum):
    #: Waiting for the delivery job (or for its next attempt after a failure).
    PENDING = "pending"
    SENT = "sent"
    #: Every attempt failed; ``last_error`` says why.
    FAILED = "failed"
    #: No delivery channel applies (none configured, or no address): kept for the API only.
    STORED = "stored"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("enterprise_id IS NOT NULL OR to_regulators", name="has_recipient"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notification_enterprise_id_created_at", "enterprise_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    enterprise_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT")
    )
    to_regulators: Mapped[bool] = mapped_column(default=False)
    #: E-mail addresses resolved when the message was enqueued (the enterprise's contacts,
    #: the regulators' list from the configuration).
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Enqueueing the same key twice adds nothing: a job run twice sends no double reminder.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column_type(DeliveryStatus, "delivery_status")
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The channels it went out on so far, e.g. ``smtp,webhook``; a retry skips them.
    channel: Mapped[str] = mapped_column(String(32), default="")
    sent_at: Mapped[datetime | None]

    #: Loaded with the message because every response names the enterprise.
    enterprise: Mapped[Enterprise | None] = relationship(
        "Enterprise", viewonly=True, lazy="selectin"
    )
