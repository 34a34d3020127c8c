"""Trading's scheduled job: the end-of-day settlement of T+1 rulebooks."""

from __future__ import annotations

from datetime import date

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.result import JobResult


def _settle_trades(session: Session, actor: Actor, day: date) -> JobResult:
    """Settles the recorded trades of trading days up to ``day``."""
    from carbon_market.trading.service import settle_due

    result = settle_due(session, actor, through=day)
    return JobResult(
        f"settled {result['settled']} trades, rejected {result['rejected']}", dict(result)
    )


JOBS: tuple[Job, ...] = (
    Job(
        "trading_settle_due",
        "Settle the day's recorded trades after the close (T+1 rulebooks; none under T+0)",
        lambda tz: CronTrigger(day_of_week="mon-fri", hour=15, minute=30, timezone=tz),
        _settle_trades,
    ),
)
