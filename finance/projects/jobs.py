"""The project library's scheduled job: flagging overdue milestones."""

from __future__ import annotations

from datetime import date, datetime, time

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import config_of
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.result import JobResult


def _overdue_milestones(session: Session, actor: Actor, day: date) -> JobResult:
    """Flags the milestones overdue on ``day`` (due before it)."""
    from finance.projects.monitoring import flag_overdue_milestones

    tz = config_of(session).deadline_tz
    flagged = flag_overdue_milestones(session, datetime.combine(day, time(12), tzinfo=tz))
    return JobResult(f"flagged {len(flagged)} overdue milestone(s)", {"flagged": len(flagged)})


JOBS: tuple[Job, ...] = (
    Job(
        "finance_milestones",
        "Flag climate-finance milestones not done by their due date",
        lambda tz: CronTrigger(hour=8, minute=0, timezone=tz),
        _overdue_milestones,
    ),
)
