"""All-or-nothing bulk intake of projects and financings (services).

As the emitter import: shape checks are pure (``importing.py``); this module adds the checks
that need the database, for every row at once, then writes with Core ``insert``
executemany in chunks, with the same status history and audit events the one-at-a-time
services write. Importing the same file twice is refused the second time: every row is
already registered (``project.duplicate`` / ``financing.duplicate``) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from carbon_market.emitters.models import District
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import jsonable, record_many
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import chunks, clock_of, config_of, transactional
from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.kernel.tabular import Table
from finance.projects.enums import Instrument, ProjectStatus
from finance.projects.importing import FINANCINGS, PROJECTS, check_table
from finance.projects.models import Disbursement, Financing, Project, ProjectStatusChange, Subsector
from finance.projects.rules.lifecycle import FINAL, financing_errors

#: ``progress(stage, done, total)``: the CLI draws a bar with it; the API passes nothing.
Progress = Callable[[str, int, int], None]


def _error(kind: str, row: int, column: str, detail: str, code: str | None) -> FieldError:
    return FieldError(f"#/{kind}/rows/{row}/{column}", detail, code, row=row, column=column)


def _refuse(errors: list[FieldError]) -> ValidationFailed:
    rows = len({e.row for e in errors})
    return ValidationFailed(
        f"{len(errors)} problem(s) in {rows} row(s) or column(s); nothing was imported",
        errors=sorted(errors, key=lambda e: (e.row or 0, e.column or "")),
    )


# --- projects -----------------------------------------------------------------------------


def _project_errors(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> list[FieldError]:
    localities = set(session.scalars(select(District.code)))
    subsectors = set(session.scalars(select(Subsector.code).where(Subsector.is_active)))
    keys = [(r["sponsor_credit_code"], r["name"]) for _, r in rows]
    taken: set[tuple[str, str]] = set()
    for chunk in chunks(keys):
        taken |= {
            (code, name)
            for code, name in session.execute(
                select(Project.sponsor_credit_code, Project.name).where(
                    tuple_(Project.sponsor_credit_code, Project.name).in_(chunk)
                )
            )
        }
    errors = []
    for number, row in rows:
        for column, known, label in (
            ("locality", localities, "locality"),
            ("subsector", subsectors, "sub-sector"),
        ):
            if row[column] not in known:
                errors.append(
                    _error(
                        PROJECTS,
                        number,
                        column,
                        f"unknown {label} {row[column]!r}",
                        "catalogue.unknown",
                    )
                )
        if (row["sponsor_credit_code"], row["name"]) in taken:
            errors.append(
                _error(PROJECTS, number, "name", "already registered", "project.duplicate")
            )
    return errors


@transactional
def import_projects(
    session: Session, actor: Actor, *, table: Table, progress: Progress | None = None
) -> dict[str, int]:
    """Import projects all or nothing. Finance officers only.

    Raises ValidationFailed listing every bad row (``#/projects/rows/<row>/<column>``) and
    imports nothing when any row is bad. Returns the count created.
    """
    authorize(actor, "finance.import")
    checked = check_table(table)
    checked.errors.extend(_project_errors(session, checked.rows))
    if checked.errors:
        raise _refuse(checked.errors)
    now = clock_of(session).now()
    rows = [{**r, "created_at": now, "updated_at": now} for _, r in checked.rows]
    done = 0
    for chunk in chunks(rows):
        ids = (
            session.execute(
                insert(Project).returning(Project.id, sort_by_parameter_order=True), chunk
            )
            .scalars()
            .all()
        )
        session.execute(insert(ProjectStatusChange), _history_rows(actor, now, ids, chunk))
        record_many(
            session,
            actor,
            action="finance_project:create",
            entity_type="finance_project",
            entities=[(pid, _after(row)) for pid, row in zip(ids, chunk, strict=True)],
        )
        done += len(chunk)
        if progress:
            progress(PROJECTS, done, len(rows))
    return {"projects_created": done}


def _after(row: dict[str, Any]) -> dict[str, Any]:
    after: dict[str, Any] = jsonable(
        {k: v for k, v in row.items() if k not in ("created_at", "updated_at")}
    )
    return after


def _history_rows(actor: Actor, now: datetime, ids: Any, chunk: Any) -> list[dict[str, Any]]:
    return [
        {
            "project_id": pid,
            "from_status": None,
            "to_status": row.get("status", ProjectStatus.PROPOSED),
            "effective_date": local_date(now),
            "note": "registered (import)",
            "changed_at": now,
            "changed_by": actor.name,
        }
        for pid, row in zip(ids, chunk, strict=True)
    ]


# --- financings ---------------------------------------------------------------------------


def _projects_named(
    session: Session, rows: list[tuple[int, dict[str, Any]]]
) -> dict[tuple[str, str], tuple[int, ProjectStatus]]:
    keys = sorted({(r["sponsor_credit_code"], r["project"]) for _, r in rows})
    found: dict[tuple[str, str], tuple[int, ProjectStatus]] = {}
    for chunk in chunks(keys):
        for code, name, pid, status in session.execute(
            select(Project.sponsor_credit_code, Project.name, Project.id, Project.status).where(
                tuple_(Project.sponsor_credit_code, Project.name).in_(chunk)
            )
        ):
            found[(code, name)] = (pid, status)
    return found


def _row_rule_errors(number: int, row: dict[str, Any]) -> list[FieldError]:
    problems = financing_errors(
        instrument=row["instrument"],
        rate=row.get("rate"),
        end_date=row.get("end_date"),
        has_disclosure=row.get("disclosure_method") is not None,
    )
    errors = [
        _error(FINANCINGS, number, "disclosure_method" if f == "disclosure" else f, reason, None)
        for f, reason in problems
    ]
    paid, paid_on = row.get("disbursed"), row.get("disbursed_on")
    if paid is not None and paid > row["committed"]:
        errors.append(
            _error(
                FINANCINGS,
                number,
                "disbursed",
                "more than committed",
                "disbursement.over_commitment",
            )
        )
    end = row.get("end_date")
    if paid_on is not None and (paid_on < row["start_date"] or (end and paid_on > end)):
        errors.append(
            _error(FINANCINGS, number, "disbursed_on", "outside the financing's dates", None)
        )
    return errors


def _financing_errors(
    session: Session,
    rows: list[tuple[int, dict[str, Any]]],
    projects: dict[tuple[str, str], tuple[int, ProjectStatus]],
) -> list[FieldError]:
    project_ids = sorted({pid for pid, _ in projects.values()})
    taken: set[tuple[Any, ...]] = set()
    for chunk in chunks(project_ids):
        taken |= {
            (pid, instrument, institution, start)
            for pid, instrument, institution, start in session.execute(
                select(
                    Financing.project_id,
                    Financing.instrument,
                    Financing.institution,
                    Financing.start_date,
                ).where(Financing.project_id.in_(chunk))
            )
        }
    errors = []
    for number, row in rows:
        errors.extend(_row_rule_errors(number, row))
        project = projects.get((row["sponsor_credit_code"], row["project"]))
        if project is None:
            errors.append(
                _error(FINANCINGS, number, "project", "no such project", "import.unknown_project")
            )
            continue
        pid, status = project
        if status in FINAL:
            errors.append(
                _error(FINANCINGS, number, "project", f"the project is {status}", "project.final")
            )
        key = (pid, row["instrument"], row["institution"], row["start_date"])
        if key in taken:
            errors.append(
                _error(FINANCINGS, number, "institution", "already recorded", "financing.duplicate")
            )
    return errors


@transactional
def import_financings(
    session: Session, actor: Actor, *, table: Table, progress: Progress | None = None
) -> dict[str, int]:
    """Import financings (and a first disbursement each, if given) all or nothing, for
    projects already registered. Finance officers only.

    Raises ValidationFailed listing every bad row (``#/financings/rows/<row>/<column>``).
    """
    authorize(actor, "finance.import")
    checked = check_table(table)
    projects = _projects_named(session, checked.rows)
    checked.errors.extend(_financing_errors(session, checked.rows, projects))
    if checked.errors:
        raise _refuse(checked.errors)
    now = clock_of(session).now()
    config = config_of(session)
    rows = [
        _financing_row(
            row,
            projects,
            now,
            actor,
            config.finance_support_tool_share,
            config.finance_support_tool_rate,
        )
        for _, row in checked.rows
    ]
    paid = [(row.get("disbursed"), row.get("disbursed_on")) for _, row in checked.rows]
    created = disbursed = 0
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        ids = (
            session.execute(
                insert(Financing).returning(Financing.id, sort_by_parameter_order=True), chunk
            )
            .scalars()
            .all()
        )
        payments = [
            {
                "financing_id": fid,
                "disbursed_on": on,
                "amount": amount,
                "created_at": now,
                "created_by": actor.name,
            }
            for fid, (amount, on) in zip(ids, paid[start : start + 1000], strict=True)
            if amount is not None
        ]
        if payments:
            session.execute(insert(Disbursement), payments)
        record_many(
            session,
            actor,
            action="financing:create",
            entity_type="financing",
            entities=[(fid, _after(row)) for fid, row in zip(ids, chunk, strict=True)],
        )
        created += len(chunk)
        disbursed += len(payments)
        if progress:
            progress(FINANCINGS, created, len(rows))
    return {"financings_created": created, "disbursements_created": disbursed}


def _financing_row(
    row: dict[str, Any],
    projects: dict[tuple[str, str], tuple[int, ProjectStatus]],
    now: datetime,
    actor: Actor,
    share: Any,
    rate: Any,
) -> dict[str, Any]:
    is_tool = row["instrument"] is Instrument.CARBON_REDUCTION_SUPPORT_TOOL
    return {
        "project_id": projects[(row["sponsor_credit_code"], row["project"])][0],
        "instrument": row["instrument"],
        "institution": row["institution"],
        "committed": row["committed"],
        "rate": row.get("rate"),
        "start_date": row["start_date"],
        "end_date": row.get("end_date"),
        "refinancing_share": share if is_tool else None,
        "refinancing_rate": rate if is_tool else None,
        "disclosed_annual_reduction_t": row.get("disclosure_annual_reduction_t"),
        "disclosure_method": row.get("disclosure_method"),
        "disclosure_date": row.get("disclosure_date"),
        "disclosure_period_start": row.get("disclosure_period_start"),
        "disclosure_period_end": row.get("disclosure_period_end"),
        "created_at": now,
        "created_by": actor.name,
    }
