"""The platform's scheduled jobs.

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
from datetime import date, datetime, time, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.kernel.auth.roles import Actor
from carbon_market.kernel.db import clock_of, config_of
from carbon_market.scheduler import runs
from carbon_market.scheduler.models import RunOutcome
from carbon_market.scheduler.platform_jobs import (
    approvals_notify,
    ledger_verify,
    notifications_deliver,
    unit_expiry,
)
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


def _ledger_run_due(session: Session, actor: Actor, day: date) -> JobResult:
    """Acts on what is due now, whatever the day: a delay ends at an instant, not a date."""
    from carbon_market.ledger.transactions.service import run_due

    result = run_due(session, actor)
    return JobResult(
        f"released {result['released']} delayed and expired {result['expired']} pending",
        dict(result),
    )


def _overdue_milestones(session: Session, actor: Actor, day: date) -> JobResult:
    """Flags the milestones overdue on ``day`` (due before it)."""
    from finance.projects.monitoring import flag_overdue_milestones

    tz = config_of(session).deadline_tz
    flagged = flag_overdue_milestones(session, datetime.combine(day, time(12), tzinfo=tz))
    return JobResult(f"flagged {len(flagged)} overdue milestone(s)", {"flagged": len(flagged)})


def _settle_trades(session: Session, actor: Actor, day: date) -> JobResult:
    """Settles the recorded trades of trading days up to ``day``."""
    from carbon_market.trading.service import settle_due

    result = settle_due(session, actor, through=day)
    return JobResult(
        f"settled {result['settled']} trades, rejected {result['rejected']}", dict(result)
    )


def _compliance_sweep(session: Session, actor: Actor, day: date) -> str:
    """Applies corrected reports not applied yet (docs/compliance.md, Corrections), then
    recomputes the status of every covered enterprise in every open year as of ``day``."""
    from carbon_market.compliance.corrections.cascade import apply_pending
    from carbon_market.compliance.sweep import sweep_open_years

    applied = apply_pending(session, actor)
    done = sweep_open_years(session, actor, day)
    years = ", ".join(f"{r['year']} ({r['enterprises']} enterprises)" for r in done)
    fixed = f"; applied {len(applied)} correction(s)" if applied else ""
    return f"swept {len(done)} year(s): {years or 'none open'}{fixed}"


def _penalty_assessment(session: Session, actor: Actor, day: date) -> JobResult:
    """Assesses the penalties of every year whose surrender deadline is before ``day``, then
    tells each penalised enterprise (once: the notices are deduplicated)."""
    from carbon_market.compliance.notices import penalty_notices
    from carbon_market.compliance.penalties import assess_due_years

    done = assess_due_years(session, actor, day)
    lines = [f"{r['year']}: {r['outcome']}" for r in done]
    told = sum(penalty_notices(session, actor, r["year"]) for r in done)
    summary = "; ".join(lines) or "no year past its surrender deadline"
    assessed = sum(int(r["assessed"]) for r in done)
    return JobResult(f"{summary}; {told} notice(s)", {"assessed": assessed, "notices": told})


def _deadline_reminders(session: Session, actor: Actor, day: date) -> JobResult:
    """Reminds enterprises of the deadlines 30, 7 and 1 days ahead (each tier once)."""
    from carbon_market.compliance.notices import deadline_reminders

    counts = deadline_reminders(session, actor, day)
    return JobResult(f"sent {counts['reminders']} reminder(s)", counts)


def _overdue_flags(session: Session, actor: Actor, day: date) -> JobResult:
    """Flags reports not filed or not verified by their deadlines, and shortfalls after the
    surrender deadline, to the enterprises and the regulators (each once)."""
    from carbon_market.compliance.notices import overdue_flags

    counts = overdue_flags(session, actor, day)
    return JobResult(
        f"flagged {counts['overdue']} overdue report(s), {counts['shortfalls']} shortfall(s)",
        counts,
    )


def _forecast(session: Session, actor: Actor, day: date) -> JobResult:
    """Projects every enterprise's year from its monthly data and warns of likely
    shortfalls (at most once a month each)."""
    from carbon_market.compliance.notices import forecast_warnings

    counts = forecast_warnings(session, actor, day)
    return JobResult(
        f"projected {counts['projected']} enterprise(s), warned {counts['warnings']}", counts
    )


JOBS: tuple[Job, ...] = (
    Job(
        "ledger_run_due",
        "Complete delayed transfers whose delay is over; expire pending ones nobody approved",
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        _ledger_run_due,
    ),
    Job(
        "finance_milestones",
        "Flag climate-finance milestones not done by their due date",
        lambda tz: CronTrigger(hour=8, minute=0, timezone=tz),
        _overdue_milestones,
    ),
    Job(
        "trading_settle_due",
        "Settle the day's recorded trades after the close (T+1 rulebooks; none under T+0)",
        lambda tz: CronTrigger(day_of_week="mon-fri", hour=15, minute=30, timezone=tz),
        _settle_trades,
    ),
    Job(
        "ledger_verify",
        "Verify the whole ledger nightly (as `carbon-market ledger verify`); tell the "
        "regulators when a check fails",
        lambda tz: CronTrigger(hour=2, minute=30, timezone=tz),
        ledger_verify,
    ),
    Job(
        "unit_expiry",
        "Cancel units whose validity ended (unit kinds with validity_years) into the "
        "retirement account",
        lambda tz: CronTrigger(hour=0, minute=10, timezone=tz),
        unit_expiry,
    ),
    Job(
        "approvals_notify",
        "Tell the enterprise (or the regulators) about transactions waiting for approval",
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        approvals_notify,
    ),
    Job(
        "notifications_deliver",
        "Send pending notifications by SMTP and/or webhook, retrying with back-off",
        lambda tz: IntervalTrigger(minutes=2, timezone=tz),
        notifications_deliver,
    ),
    Job(
        "compliance_sweep",
        "Recompute every covered enterprise's compliance status in every open year",
        lambda tz: CronTrigger(hour=6, minute=0, timezone=tz),
        _compliance_sweep,
    ),
    Job(
        "penalty_assessment",
        "Assess a penalty for each shortfall once a year's surrender deadline has passed",
        lambda tz: CronTrigger(hour=6, minute=30, timezone=tz),
        _penalty_assessment,
    ),
    Job(
        "deadline_reminders",
        "Remind enterprises of the reporting, verification and surrender deadlines 30, 7 "
        "and 1 days ahead",
        lambda tz: CronTrigger(hour=8, minute=0, timezone=tz),
        _deadline_reminders,
    ),
    Job(
        "overdue_flags",
        "Flag reports not filed or verified by their deadlines and shortfalls after the "
        "surrender deadline",
        lambda tz: CronTrigger(hour=7, minute=0, timezone=tz),
        _overdue_flags,
    ),
    Job(
        "forecast",
        "Project each enterprise's year from its monthly data and warn of likely shortfalls",
        lambda tz: CronTrigger(day_of_week="mon", hour=7, minute=30, timezone=tz),
        _forecast,
    ),
)


def find_job(name: str) -> Job:
    """The job named ``name``; KeyError listing the known names otherwise."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no job {name!r}; jobs: {', '.join(j.name for j in JOBS)}")


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
