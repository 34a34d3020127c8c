"""Job-run records: written around every run, read by the API and the CLI.

A run is recorded in sessions of its own, apart from the job's: the start before the job
touches anything, the end after the job committed or rolled back. So a failed job leaves a
``failed`` record with its error, and a crash leaves a ``running`` one with no end.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.kernel.text import clip, clip_start
from carbon_market.scheduler.models import JobRun, RunOutcome

#: Error texts longer than this keep their end (a traceback's last lines are the useful ones).
MAX_ERROR_CHARS = 4000


@transactional
def start_run(session: Session, *, job: str, day: date, triggered_by: str) -> int:
    """Record that ``job`` started for ``day``; the id finishes it."""
    run = JobRun(
        job=job,
        day=day,
        started_at=clock_of(session).now(),
        outcome=RunOutcome.RUNNING,
        counts={},
        summary="",
        triggered_by=triggered_by[:64],
    )
    session.add(run)
    session.flush()  # the id is what the caller finishes the run with
    return run.id


@transactional
def finish_run(
    session: Session,
    run_id: int,
    *,
    outcome: RunOutcome,
    summary: str,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> JobRun:
    """Record how the run ended."""
    run = session.get_one(JobRun, run_id)
    run.finished_at = clock_of(session).now()
    run.outcome = outcome
    run.summary = clip(summary)
    run.counts = dict(counts or {})
    run.error = clip_start(error, MAX_ERROR_CHARS) if error else None
    return run


def list_runs(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    job: str | None = None,
    outcome: RunOutcome | None = None,
    day: date | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Page[JobRun]:
    """Job runs, newest first. Regulators and auditors. ``since``/``until`` are calendar
    days in the deadline time zone and bound when the run started (both inclusive)."""
    authorize(actor, "jobs.read")
    query = select(JobRun)
    if job is not None:
        query = query.where(JobRun.job == job)
    if outcome is not None:
        query = query.where(JobRun.outcome == outcome)
    if day is not None:
        query = query.where(JobRun.day == day)
    tz = config_of(session).deadline_tz
    if since is not None:
        query = query.where(JobRun.started_at >= datetime.combine(since, time(), tzinfo=tz))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time(), tzinfo=tz)
        query = query.where(JobRun.started_at < end)
    return paginate(session, query.order_by(JobRun.started_at.desc(), JobRun.id.desc()), page)


def run_as_dict(run: JobRun) -> dict[str, Any]:
    """A run as the CLI prints it."""
    return {
        "id": run.id,
        "job": run.job,
        "day": run.day.isoformat(),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "outcome": run.outcome.value,
        "counts": run.counts,
        "summary": run.summary,
        "error": run.error,
        "triggered_by": run.triggered_by,
    }
