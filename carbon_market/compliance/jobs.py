"""Compliance's scheduled jobs: the daily sweep, penalties, reminders, flags, the forecast."""

from __future__ import annotations

from datetime import date

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.result import JobResult


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
