"""What a scheduled job is, and running one: :class:`Job` and :func:`run_job`.

The features list their own jobs (each feature's ``jobs.py``, named in its manifest); the
entry points gather them (``carbon_market.entrypoints.jobs``) and put them on the
scheduler (``carbon_market.entrypoints.scheduling``).

Each job is one call into a service, in its own session, as the system actor named
``scheduler``, for a day (a calendar date in the deadline time zone: today when the
scheduler runs it, any date when run by hand with ``carbon-market jobs run NAME --date D``);
it returns a one-line summary for the log and the CLI, or a :class:`JobResult` that adds
counts (``{"expired": 3}``) and can mark the run failed (``ledger_verify`` finding a bad
transaction). Triggers are in the deadline time zone, so "every morning at 08:00" is
Beijing's morning.

:func:`run_job` records every run (``job_run``) in sessions apart from the job's own: a job
that raises is rolled back and recorded ``failed`` with its error, and the error goes no
further than the caller (the scheduler logs it and carries on).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, config_of
from carbon_market.scheduler import runs
from carbon_market.scheduler.models import RunOutcome
from carbon_market.scheduler.result import JobResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    #: The trigger, given the deadline time zone.
    trigger: Callable[[tzinfo], BaseTrigger]
    #: Runs the job in a session as ``actor`` for a day; a summary line or a JobResult.
    run: Callable[[Session, Actor, date], str | JobResult]


@dataclass(frozen=True)
class RunRecord:
    """How one run ended, as :func:`run_job` recorded it."""

    run_id: int
    job: str
    day: date
    outcome: RunOutcome
    summary: str
    counts: dict[str, int]
    error: str | None


def _today(sessions: sessionmaker[Session]) -> date:
    with sessions() as session:
        return clock_of(session).now().astimezone(config_of(session).deadline_tz).date()


def run_job(
    job: Job,
    sessions: sessionmaker[Session],
    day: date | None = None,
    *,
    triggered_by: str = "scheduler",
) -> RunRecord:
    """Run ``job`` once in a session of its own, as the system actor ``scheduler``, for
    ``day`` (default: today in the deadline time zone), and record the run.

    Never raises for the job's own errors: they roll the job's session back and come back
    as a ``failed`` record with the error text. Recording itself can raise (the database
    is gone), which the scheduler logs.
    """
    actor = Actor.system(name="scheduler", request_id=f"job-{uuid.uuid4().hex[:16]}")
    day = day or _today(sessions)
    with sessions() as session:
        run_id = runs.start_run(session, job=job.name, day=day, triggered_by=triggered_by)
    error: str | None = None
    result = JobResult("")
    try:
        with sessions() as session:
            returned = job.run(session, actor, day)
        result = returned if isinstance(returned, JobResult) else JobResult(returned)
    except Exception as exc:
        log.exception("job %s failed for %s", job.name, day)
        error = "".join(traceback.format_exception(exc))
        result = JobResult(f"failed: {type(exc).__name__}: {exc}", failed=True)
    outcome = RunOutcome.FAILED if result.failed else RunOutcome.OK
    with sessions() as session:
        runs.finish_run(
            session,
            run_id,
            outcome=outcome,
            summary=result.summary,
            counts=result.counts,
            error=error,
        )
    return RunRecord(run_id, job.name, day, outcome, result.summary, dict(result.counts), error)
