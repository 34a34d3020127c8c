"""Put the jobs on an APScheduler scheduler.

One job never overlaps itself (``max_instances=1``); runs missed while the process was down
collapse into one (``coalesce``) if they are less than an hour late, else wait for the next
turn. A job that fails is logged with its traceback and runs again at its next turn: the
scheduler itself never stops for one job's error.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.scheduler.jobs import JOBS, Job, run_job

log = logging.getLogger(__name__)
MISFIRE_GRACE_SECONDS = 3600


def _runner(job: Job, sessions: sessionmaker[Session]) -> None:
    try:
        log.info("job %s: %s", job.name, run_job(job, sessions))
    except Exception:
        log.exception("job %s failed; it runs again at its next turn", job.name)


def build_scheduler(
    sessions: sessionmaker[Session], tz: tzinfo, *, blocking: bool = True
) -> BaseScheduler:
    """A scheduler holding every job of :data:`JOBS`, not yet started."""
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=tz)
    for job in JOBS:
        scheduler.add_job(
            _runner,
            job.trigger(tz),
            args=(job, sessions),
            id=job.name,
            name=job.description,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    return scheduler
