"""``carbon-market scheduler run``: every job of the registry on an APScheduler scheduler,
behind the one-scheduler lock.

One job never overlaps itself (``max_instances=1``); runs missed while the process was down
collapse into one (``coalesce``) if they are less than an hour late, else wait for the next
turn. A job that fails is recorded ``failed`` (``run_job``) and runs again at its next turn:
the scheduler itself never stops for one job's error.

With a lock (``carbon-market scheduler run`` always passes one), a heartbeat renews it, and
so does every job before it runs; if the lock is lost (the lease was taken over, the lock's
connection dropped) the job does not run and the scheduler stops at once rather than run
beside the new holder.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.entrypoints.jobs import JOBS
from carbon_market.scheduler.jobs import Job, run_job
from carbon_market.scheduler.lock import SchedulerLock

log = logging.getLogger(__name__)
MISFIRE_GRACE_SECONDS = 3600
#: How often the lock is renewed: well inside the lease's 90 seconds.
HEARTBEAT_SECONDS = 30


def _runner(
    job: Job,
    sessions: sessionmaker[Session],
    lock: SchedulerLock | None = None,
    scheduler: BaseScheduler | None = None,
) -> None:
    # The heartbeat alone left a gap: a process that hung past its lease wakes with its
    # jobs overdue, and they may fire before the (equally overdue) heartbeat finds the lock
    # gone, running beside the new holder's. So every run first renews the lock.
    if lock is not None and scheduler is not None and not _still_holds(lock, scheduler):
        log.error("job %s not run: this scheduler no longer holds the lock", job.name)
        return
    try:
        record = run_job(job, sessions)
        log.info("job %s (%s): %s", job.name, record.outcome, record.summary)
    except Exception:
        log.exception(
            "job %s could not be run or recorded; it runs again at its next turn", job.name
        )


def _still_holds(lock: SchedulerLock, scheduler: BaseScheduler) -> bool:
    """Renew the lock; if it is lost, stop the scheduler and say so (False)."""
    try:
        kept = lock.renew()
    except Exception:
        log.exception("renewing the scheduler lock failed")
        kept = False
    if not kept:
        log.error("the scheduler lock was lost; stopping so that only one scheduler runs")
        scheduler.shutdown(wait=False)
    return kept


def build_scheduler(
    sessions: sessionmaker[Session],
    tz: tzinfo,
    *,
    blocking: bool = True,
    lock: SchedulerLock | None = None,
) -> BaseScheduler:
    """A scheduler holding every job of :data:`JOBS` (and the lock's heartbeat), not yet
    started."""
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=tz)
    for job in JOBS:
        scheduler.add_job(
            _runner,
            job.trigger(tz),
            args=(job, sessions, lock, scheduler),
            id=job.name,
            name=job.description,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    if lock is not None:
        scheduler.add_job(
            _still_holds,
            IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=tz),
            args=(lock, scheduler),
            id="scheduler_lock_heartbeat",
            name="Renew the one-scheduler lock",
            max_instances=1,
            coalesce=True,
        )
    return scheduler
