"""What the scheduler writes: one row per job run, and the lease that elects the scheduler.

A job run row is written when the run starts (``running``) and finished when it ends, in
sessions of its own, so a job that fails and rolls back still leaves its record, and a run
cut short by a crash stays visible as ``running`` with no ``finished_at``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId


class RunOutcome(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint("(outcome = 'running') = (finished_at IS NULL)", name="finished"),
        Index("ix_job_run_job_started_at", "job", "started_at"),
        Index("ix_job_run_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    #: The calendar day (Asia/Shanghai) the job ran for.
    day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[RunOutcome] = mapped_column(enum_column_type(RunOutcome, "run_outcome"))
    #: What the run did, by name: {"expired": 3}.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(Text)
    #: ``scheduler``, or ``cli:<user>`` for a run by hand.
    triggered_by: Mapped[str] = mapped_column(String(64))


class SchedulerLease(Base):
    """The SQLite stand-in for PostgreSQL's advisory lock: whoever holds an unexpired lease
    is the scheduler; it renews the lease on a heartbeat, and a waiting process takes over
    once a lease has expired (its holder died or hung)."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
