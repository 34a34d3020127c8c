"""Project services: registration, reading, corrections and the lifecycle.

Each public write service is one unit of work (``@transactional``): authorize, load and
lock, check, change, audit, or change nothing. Enterprise users read only the projects whose
sponsor credit code is their enterprise's; anything else is NotFound, as elsewhere (BOLA).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    InvalidStatusTransition,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from finance.projects.catalogue import catalogue_errors
from finance.projects.enums import ProjectCategory, ProjectStatus
from finance.projects.models import Milestone, Project, ProjectStatusChange, ReductionReport
from finance.projects.rules.lifecycle import FINAL, is_allowed_transition

PROJECT_FIELDS = [
    "name",
    "sponsor_name",
    "sponsor_credit_code",
    "locality",
    "category",
    "subsector",
    "status",
    "start_date",
    "total_investment",
    "expected_annual_reduction_t",
    "reduction_method",
    "so2_kg",
    "nox_kg",
    "pm_kg",
    "vocs_kg",
]
POLLUTANTS = ("so2", "nox", "pm", "vocs")


# --- tenancy and loading ------------------------------------------------------------------


def sponsor_scope(session: Session, actor: Actor) -> str | None:
    """The sponsor credit code an enterprise user is limited to; None for everyone else.

    An enterprise user bound to no enterprise gets ``""``, which matches no project.
    """
    if actor.role is not Role.ENTERPRISE:
        return None
    code = session.scalar(
        select(Enterprise.credit_code).where(Enterprise.id == actor.enterprise_id)
    )
    return code or ""


def load_project(
    session: Session, actor: Actor, project_id: int, action: str, *, for_update: bool = False
) -> Project:
    """Authorize ``action``, then the project, or NotFound (also for another's project)."""
    authorize(actor, action)
    query = select(Project).where(Project.id == project_id)
    if for_update:
        query = query.with_for_update()
    project = session.scalar(query)
    scope = sponsor_scope(session, actor)
    if project is None or (scope is not None and project.sponsor_credit_code != scope):
        raise NotFound(f"project {project_id} does not exist")
    return project


def refuse_if_final(project: Project, what: str) -> None:
    if project.status in FINAL:
        raise RuleViolation(f"the project is {project.status}: {what} is no longer possible")


# --- projects -----------------------------------------------------------------------------


def _duplicate(sponsor_credit_code: str, name: str) -> Conflict:
    return Conflict(
        f"the sponsor {sponsor_credit_code} already has a project named {name!r}",
        errors=[FieldError("#/name", "already used by this sponsor", "project.duplicate")],
    )


def _name_taken(session: Session, sponsor_credit_code: str, name: str) -> bool:
    found = session.scalar(
        select(Project.id).where(
            Project.sponsor_credit_code == sponsor_credit_code, Project.name == name
        )
    )
    return found is not None


def pollutant_columns(co_benefits: dict[str, Any] | None) -> dict[str, Any]:
    """The API's ``co_benefits`` object as the four ``*_kg`` columns (absent: None)."""
    given = co_benefits or {}
    return {f"{k}_kg": given.get(k) for k in POLLUTANTS}


@transactional
def create_project(
    session: Session,
    actor: Actor,
    *,
    name: str,
    sponsor_name: str,
    sponsor_credit_code: str,
    locality: str,
    category: ProjectCategory,
    subsector: str,
    start_date: date,
    total_investment: Any,
    expected_annual_reduction_t: Any,
    status: ProjectStatus = ProjectStatus.PROPOSED,
    reduction_method: str = "",
    co_benefits: dict[str, Any] | None = None,
) -> Project:
    """Register a project in the library. Finance officers only.

    Any status may be given, so that projects already under way can be registered where
    they stand; the first history entry records it. Raises ValidationFailed for an unknown
    locality or sub-sector and Conflict for a name the sponsor already uses.
    """
    authorize(actor, "finance.write")
    errors = catalogue_errors(session, locality=locality, subsector=subsector)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    if _name_taken(session, sponsor_credit_code, name):
        raise _duplicate(sponsor_credit_code, name)
    now = clock_of(session).now()
    project = Project(
        name=name,
        sponsor_name=sponsor_name,
        sponsor_credit_code=sponsor_credit_code,
        locality=locality,
        category=category,
        subsector=subsector,
        status=status,
        start_date=start_date,
        total_investment=total_investment,
        expected_annual_reduction_t=expected_annual_reduction_t,
        reduction_method=reduction_method,
        created_at=now,
        updated_at=now,
        **pollutant_columns(co_benefits),
    )
    session.add(project)
    try:
        session.flush()  # the id is needed for the status history and the audit record
    except IntegrityError as exc:  # a concurrent registration of the same name won the race
        raise _duplicate(sponsor_credit_code, name) from exc
    session.add(
        ProjectStatusChange(
            project_id=project.id,
            from_status=None,
            to_status=status,
            effective_date=local_date(now),
            note="registered",
            changed_at=now,
            changed_by=actor.name,
        )
    )
    record(
        session,
        actor,
        action="finance_project:create",
        entity_type="finance_project",
        entity_id=project.id,
        after=snapshot(project, PROJECT_FIELDS),
    )
    return project


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    """One project (enterprise users: only projects they sponsor)."""
    return load_project(session, actor, project_id, "finance.read")


@dataclass(frozen=True)
class ProjectFilter:
    locality: str | None = None
    category: ProjectCategory | None = None
    subsector: str | None = None
    status: ProjectStatus | None = None
    sponsor_credit_code: str | None = None


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def filtered_projects(query: Q, filters: ProjectFilter) -> Q:
    """``query`` narrowed by the filters (shared by the list and the portfolio)."""
    for column, value in (
        (Project.locality, filters.locality),
        (Project.category, filters.category),
        (Project.subsector, filters.subsector),
        (Project.status, filters.status),
        (Project.sponsor_credit_code, filters.sponsor_credit_code),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


def list_projects(
    session: Session, actor: Actor, *, filters: ProjectFilter, page: PageRequest
) -> Page[Project]:
    """Projects the actor may see, filtered, by id."""
    authorize(actor, "finance.read")
    query = filtered_projects(select(Project), filters)
    scope = sponsor_scope(session, actor)
    if scope is not None:
        query = query.where(Project.sponsor_credit_code == scope)
    return paginate(session, query.order_by(Project.id), page)


def _start_date_errors(session: Session, project_id: int, start: date) -> list[FieldError]:
    """A new start date may not leave milestones or reduction periods before it."""
    early_milestone = session.scalar(
        select(Milestone.id).where(Milestone.project_id == project_id, Milestone.due_date < start)
    )
    early_report = session.scalar(
        select(ReductionReport.id).where(
            ReductionReport.project_id == project_id, ReductionReport.period_start < start
        )
    )
    if early_milestone is None and early_report is None:
        return []
    return [FieldError("#/start_date", "milestones or reduction periods fall before this date")]


@transactional
def update_project(
    session: Session, actor: Actor, project_id: int, *, changes: dict[str, Any]
) -> Project:
    """Correct a project's details. Finance officers only; not once closed or withdrawn.

    ``co_benefits``, when given, replaces all four pollutant figures. Raises
    ValidationFailed for unknown catalogue codes or a start date after a milestone or a
    reduction period, and Conflict for a name the sponsor already uses.
    """
    project = load_project(session, actor, project_id, "finance.write", for_update=True)
    if not changes:
        raise ValidationFailed("nothing to change", errors=[FieldError("#", "name a field")])
    refuse_if_final(project, "editing")
    columns = dict(changes)
    if "co_benefits" in columns:
        columns.update(pollutant_columns(columns.pop("co_benefits")))
    errors = catalogue_errors(
        session, locality=changes.get("locality"), subsector=changes.get("subsector")
    )
    if "start_date" in changes:
        errors += _start_date_errors(session, project.id, changes["start_date"])
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    new_name = changes.get("name")
    if (
        new_name
        and new_name != project.name
        and _name_taken(session, project.sponsor_credit_code, new_name)
    ):
        raise _duplicate(project.sponsor_credit_code, new_name)
    before = snapshot(project, list(columns))
    for field, value in columns.items():
        setattr(project, field, value)
    project.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action="finance_project:update",
        entity_type="finance_project",
        entity_id=project.id,
        before=before,
        after=snapshot(project, list(columns)),
    )
    return project


def _last_change(session: Session, project_id: int) -> ProjectStatusChange | None:
    return session.scalar(
        select(ProjectStatusChange)
        .where(ProjectStatusChange.project_id == project_id)
        .order_by(ProjectStatusChange.id.desc())
        .limit(1)
    )


@transactional
def change_status(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    status: ProjectStatus,
    note: str = "",
    effective_date: date | None = None,
) -> Project:
    """Move a project one step along its lifecycle, or withdraw it. Finance officers only.

    Raises InvalidStatusTransition (422) for a move the lifecycle does not allow, and
    ValidationFailed for an effective date before the previous change's.
    """
    project = load_project(session, actor, project_id, "finance.write", for_update=True)
    if not is_allowed_transition(project.status, status):
        raise InvalidStatusTransition(
            f"a project that is {project.status} cannot become {status}",
            errors=[FieldError("#/status", f"not allowed from {project.status}")],
        )
    now = clock_of(session).now()
    effective = effective_date or local_date(now)
    last = _last_change(session, project.id)
    if last is not None and effective < last.effective_date:
        raise ValidationFailed(
            "a status change cannot take effect before the previous one did",
            errors=[FieldError("#/effective_date", f"must be on or after {last.effective_date}")],
        )
    before = snapshot(project, ["status"])
    session.add(
        ProjectStatusChange(
            project_id=project.id,
            from_status=project.status,
            to_status=status,
            effective_date=effective,
            note=note,
            changed_at=now,
            changed_by=actor.name,
        )
    )
    project.status = status
    project.updated_at = now
    record(
        session,
        actor,
        action="finance_project:change_status",
        entity_type="finance_project",
        entity_id=project.id,
        before=before,
        after={"status": status.value, "effective_date": effective.isoformat(), "note": note},
    )
    return project


def list_status_history(
    session: Session, actor: Actor, project_id: int
) -> list[ProjectStatusChange]:
    """The project's status changes, oldest first."""
    load_project(session, actor, project_id, "finance.read")
    return list(
        session.scalars(
            select(ProjectStatusChange)
            .where(ProjectStatusChange.project_id == project_id)
            .order_by(ProjectStatusChange.id)
        )
    )
