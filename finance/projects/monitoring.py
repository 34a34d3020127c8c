"""Monitoring services: achieved reductions per period and milestones.

Rules: a reduction period starts on or after the project's start date and overlaps no other
period of the project; a milestone is due on or after the start date and its name is unique
within the project; a milestone is done on a date that is neither before the project's start
nor after today. :func:`flag_overdue_milestones` is the scheduled job: it flags, once, every
milestone that is not done by the end of its due date (Asia/Shanghai).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from finance.projects.models import Milestone, Project, ReductionReport
from finance.projects.rules.figures import cost_per_tonne, expected_for_period, ratio
from finance.projects.service import load_project, refuse_if_final

#: The actor the scheduled job records its flags as.
JOB_ACTOR = Actor.system(name="job:finance-milestones")


# --- reductions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReductionView:
    """A reduction report beside the expected figure pro-rated to its period."""

    report: ReductionReport
    expected_t: Decimal
    achieved_vs_expected: Decimal | None


@dataclass(frozen=True)
class MonitoringSummary:
    """Figures to date; ``expected_to_date_t`` covers the reported periods only."""

    expected_annual_reduction_t: Decimal
    reported_periods: int
    achieved_to_date_t: Decimal
    expected_to_date_t: Decimal
    achieved_vs_expected: Decimal | None
    total_investment: Decimal
    cost_per_tonne: Decimal | None
    expected_cost_per_annual_tonne: Decimal | None


@dataclass(frozen=True)
class Monitoring:
    items: list[ReductionView]
    summary: MonitoringSummary


def _view(project: Project, report: ReductionReport) -> ReductionView:
    expected = expected_for_period(
        project.expected_annual_reduction_t, report.period_start, report.period_end
    )
    return ReductionView(report, expected, ratio(report.achieved_t, expected))


def _overlapping(session: Session, project_id: int, start: date, end: date) -> bool:
    found = session.scalar(
        select(ReductionReport.id).where(
            ReductionReport.project_id == project_id,
            ReductionReport.period_start <= end,
            ReductionReport.period_end >= start,
        )
    )
    return found is not None


def _overlap_error() -> Conflict:
    return Conflict(
        "the project already has a report for part of this period",
        errors=[FieldError("#/period_start", "overlaps a reported period", "period.overlap")],
    )


@transactional
def report_reduction(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    period_start: date,
    period_end: date,
    achieved_t: Decimal,
    note: str = "",
) -> ReductionView:
    """Report the reductions a project achieved over a period. Finance officers only.

    Raises ValidationFailed for a period starting before the project or ending after today,
    and Conflict for a period overlapping one already reported.
    """
    project = load_project(session, actor, project_id, "finance.write", for_update=True)
    now = clock_of(session).now()
    errors = []
    if period_start < project.start_date:
        errors.append(
            FieldError("#/period_start", f"before the project starts ({project.start_date})")
        )
    if period_end > local_date(now):
        errors.append(FieldError("#/period_end", "a period cannot end in the future"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    if _overlapping(session, project.id, period_start, period_end):
        raise _overlap_error()
    report = ReductionReport(
        project_id=project.id,
        period_start=period_start,
        period_end=period_end,
        achieved_t=achieved_t,
        note=note,
        reported_at=now,
        reported_by=actor.name,
    )
    session.add(report)
    try:
        session.flush()  # the audit record names the report by its id
    except IntegrityError as exc:  # a concurrent report of the same period won the race
        raise _overlap_error() from exc
    record(
        session,
        actor,
        action="reduction:report",
        entity_type="reduction_report",
        entity_id=report.id,
        after=snapshot(report, ["project_id", "period_start", "period_end", "achieved_t", "note"]),
    )
    return _view(project, report)


def get_monitoring(session: Session, actor: Actor, project_id: int) -> Monitoring:
    """The project's reduction reports (by period) and its figures to date."""
    project = load_project(session, actor, project_id, "finance.read")
    reports = session.scalars(
        select(ReductionReport)
        .where(ReductionReport.project_id == project_id)
        .order_by(ReductionReport.period_start)
    )
    items = [_view(project, r) for r in reports]
    achieved = sum((v.report.achieved_t for v in items), Decimal("0.000"))
    expected = sum((v.expected_t for v in items), Decimal("0.000"))
    summary = MonitoringSummary(
        expected_annual_reduction_t=project.expected_annual_reduction_t,
        reported_periods=len(items),
        achieved_to_date_t=achieved,
        expected_to_date_t=expected,
        achieved_vs_expected=ratio(achieved, expected),
        total_investment=project.total_investment,
        cost_per_tonne=cost_per_tonne(project.total_investment, achieved),
        expected_cost_per_annual_tonne=cost_per_tonne(
            project.total_investment, project.expected_annual_reduction_t
        ),
    )
    return Monitoring(items=items, summary=summary)


# --- milestones ---------------------------------------------------------------------------


@transactional
def add_milestone(
    session: Session, actor: Actor, project_id: int, *, name: str, due_date: date
) -> Milestone:
    """Add a milestone. Finance officers only; not to a closed or withdrawn project.

    Raises ValidationFailed for a due date before the project's start and Conflict for a
    name the project already uses.
    """
    project = load_project(session, actor, project_id, "finance.write", for_update=True)
    refuse_if_final(project, "a new milestone")
    if due_date < project.start_date:
        raise ValidationFailed(
            "a milestone cannot fall before the project starts",
            errors=[FieldError("#/due_date", f"before the project starts ({project.start_date})")],
        )
    taken = session.scalar(
        select(Milestone.id).where(Milestone.project_id == project.id, Milestone.name == name)
    )
    if taken is not None:
        raise Conflict(
            f"the project already has a milestone named {name!r}",
            errors=[FieldError("#/name", "already used by this project")],
        )
    milestone = Milestone(
        project_id=project.id,
        name=name,
        due_date=due_date,
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    session.add(milestone)
    session.flush()  # the audit record names the milestone by its id
    record(
        session,
        actor,
        action="milestone:create",
        entity_type="milestone",
        entity_id=milestone.id,
        after=snapshot(milestone, ["project_id", "name", "due_date"]),
    )
    return milestone


def list_milestones(session: Session, actor: Actor, project_id: int) -> list[Milestone]:
    """The project's milestones, by due date."""
    load_project(session, actor, project_id, "finance.read")
    return list(
        session.scalars(
            select(Milestone)
            .where(Milestone.project_id == project_id)
            .order_by(Milestone.due_date, Milestone.id)
        )
    )


@transactional
def complete_milestone(
    session: Session,
    actor: Actor,
    project_id: int,
    milestone_id: int,
    *,
    done_on: date | None = None,
) -> Milestone:
    """Mark a milestone done (today by default). Finance officers only.

    Raises RuleViolation for a milestone already done, ValidationFailed for a date before
    the project's start or after today.
    """
    project = load_project(session, actor, project_id, "finance.write")
    milestone = session.scalar(
        select(Milestone)
        .where(Milestone.id == milestone_id, Milestone.project_id == project_id)
        .with_for_update()
    )
    if milestone is None:
        raise NotFound(f"milestone {milestone_id} of project {project_id} does not exist")
    if milestone.done_on is not None:
        raise RuleViolation(f"the milestone was done on {milestone.done_on}")
    today = local_date(clock_of(session).now())
    done = done_on or today
    if done < project.start_date or done > today:
        raise ValidationFailed(
            "the date is outside the project's life so far",
            errors=[FieldError("#/done_on", f"must be between {project.start_date} and {today}")],
        )
    milestone.done_on = done
    record(
        session,
        actor,
        action="milestone:done",
        entity_type="milestone",
        entity_id=milestone.id,
        before={"done_on": None},
        after={"done_on": done.isoformat()},
    )
    return milestone


@transactional
def flag_overdue_milestones(session: Session, now: datetime) -> list[Milestone]:
    """Flag every milestone not done whose due date has passed (the scheduled job).

    A milestone due on a date is overdue from the next day in Asia/Shanghai. Each is
    flagged once, with an audit event by the job; later runs leave it alone, so the job
    may run as often as the scheduler likes. Returns what this run flagged.
    """
    today = local_date(now)
    late = list(
        session.scalars(
            select(Milestone)
            .where(
                Milestone.done_on.is_(None),
                Milestone.overdue_flagged_at.is_(None),
                Milestone.due_date < today,
            )
            .order_by(Milestone.due_date, Milestone.id)
            .with_for_update()
        )
    )
    for milestone in late:
        milestone.overdue_flagged_at = now
        record(
            session,
            JOB_ACTOR,
            action="milestone:flag_overdue",
            entity_type="milestone",
            entity_id=milestone.id,
            after={"due_date": milestone.due_date.isoformat(), "flagged_at": now.isoformat()},
        )
    return late
