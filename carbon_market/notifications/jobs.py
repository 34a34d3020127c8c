"""The notifications' scheduled job: delivering the outbox."""

from __future__ import annotations

from datetime import date

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.notifications import delivery
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.result import JobResult


def notifications_deliver(session: Session, actor: Actor, day: date) -> JobResult:
    """Send what is due; a failed delivery is counted and retried, never raised."""
    counts = delivery.deliver_due(session)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    return JobResult(summary, counts)


JOBS: tuple[Job, ...] = (
    Job(
        "notifications_deliver",
        "Send pending notifications by SMTP and/or webhook, retrying with back-off",
        lambda tz: IntervalTrigger(minutes=2, timezone=tz),
        notifications_deliver,
    ),
)
