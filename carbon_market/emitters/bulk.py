"""The all-or-nothing bulk import of enterprises and facilities (a service).

Shape checks are pure (``importing.py``); this module adds the checks that need the
database (catalogues, credit codes already registered, facility owners and names) and then
writes everything in one unit of work with Core ``insert`` executemany statements: at 10,000
rows the ORM's per-object bookkeeping would cost more than the database does. Each chunk of
enterprises is published as :class:`~carbon_market.emitters.events.EnterprisesRegistered`,
on which the ledger opens their compliance accounts in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.events import EnterprisesRegistered
from carbon_market.emitters.importing import CheckedBatch, ImportBatch, check_batch, contacts_of
from carbon_market.emitters.models import (
    District,
    Enterprise,
    EnterpriseStatusChange,
    Facility,
    Sector,
)
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record_many
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import CHUNK, chunks, clock_of, transactional
from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.kernel.events import publish

#: ``progress(stage, done, total)``, once per chunk of :data:`CHUNK` rows: the CLI draws a bar
#: with it; the API passes nothing.
Progress = Callable[[str, int, int], None]


def _database_errors(session: Session, checked: CheckedBatch) -> list[FieldError]:
    """Errors only the database can reveal, for every row at once."""
    sectors = {s.code for s in session.scalars(select(Sector).where(Sector.is_active))}
    districts = set(session.scalars(select(District.code)))
    codes = [row["credit_code"] for _, row in checked.enterprises]
    registered = set()
    for chunk in chunks(codes):
        registered |= set(
            session.scalars(select(Enterprise.credit_code).where(Enterprise.credit_code.in_(chunk)))
        )
    errors = []
    for row_number, row in checked.enterprises:
        base = f"#/enterprises/rows/{row_number}"
        for column, known in (("sector", sectors), ("district", districts)):
            if row[column] not in known:
                errors.append(
                    FieldError(
                        f"{base}/{column}",
                        f"unknown {column} {row[column]!r}",
                        "catalogue.unknown",
                        row=row_number,
                        column=column,
                    )
                )
        if row["credit_code"] in registered:
            errors.append(
                FieldError(
                    f"{base}/credit_code",
                    "already registered",
                    "credit_code.duplicate",
                    row=row_number,
                    column="credit_code",
                )
            )
    errors.extend(_facility_owner_errors(session, checked, set(codes)))
    return errors


def _facility_owner_errors(
    session: Session, checked: CheckedBatch, in_file: set[str]
) -> list[FieldError]:
    owners = {row["credit_code"] for _, row in checked.facilities} - in_file
    existing: dict[str, int] = {}
    for chunk in chunks(sorted(owners)):
        existing.update(
            session.execute(
                select(Enterprise.credit_code, Enterprise.id).where(
                    Enterprise.credit_code.in_(chunk)
                )
            ).all()
        )
    pairs = [
        (existing[r["credit_code"]], r["name"])
        for _, r in checked.facilities
        if r["credit_code"] in existing
    ]
    taken: set[tuple[int, str]] = set()
    for chunk in chunks(pairs):
        taken |= set(
            session.execute(
                select(Facility.enterprise_id, Facility.name).where(
                    tuple_(Facility.enterprise_id, Facility.name).in_(chunk)
                )
            ).all()
        )
    errors = []
    for row_number, row in checked.facilities:
        base = f"#/facilities/rows/{row_number}"
        code = row["credit_code"]
        if code not in in_file and code not in existing:
            errors.append(
                FieldError(
                    f"{base}/credit_code",
                    "no such enterprise",
                    "import.unknown_enterprise",
                    row=row_number,
                    column="credit_code",
                )
            )
        elif code in existing and (existing[code], row["name"]) in taken:
            errors.append(
                FieldError(
                    f"{base}/name",
                    "the enterprise already has this facility",
                    "import.duplicate_facility",
                    row=row_number,
                    column="name",
                )
            )
        if (row.get("capacity") is None) != (row.get("capacity_unit") is None):
            errors.append(
                FieldError(
                    f"{base}/capacity_unit",
                    "capacity and capacity_unit must both be given or omitted",
                    row=row_number,
                    column="capacity_unit",
                )
            )
    return errors


@transactional
def import_enterprises(
    session: Session, actor: Actor, *, batch: ImportBatch, progress: Progress | None = None
) -> dict[str, int]:
    """Import a batch all or nothing. Regulators only.

    Every row is checked before anything is written; if any row is bad, ValidationFailed
    lists every error (``#/enterprises/rows/<row>/<column>``) and nothing is imported.
    Returns the counts created.
    """
    authorize(actor, "enterprise.import")
    checked = check_batch(batch)
    checked.errors.extend(_database_errors(session, checked))
    if checked.errors:
        bad_rows = len({(e.pointer.split("/")[1], e.row) for e in checked.errors})
        raise ValidationFailed(
            f"{len(checked.errors)} problem(s) in {bad_rows} row(s) or column(s); "
            "nothing was imported",
            errors=sorted(checked.errors, key=lambda e: (e.pointer.split("/")[1], e.row or 0)),
        )
    now = clock_of(session).now()
    ids = _insert_enterprises(session, actor, checked, now, progress)
    created_facilities = _insert_facilities(session, actor, checked, ids, now, progress)
    return {"enterprises_created": len(ids), "facilities_created": created_facilities}


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    """A written row as its audit event records it: what was registered, not when."""
    return {k: v for k, v in row.items() if k not in ("created_at", "updated_at")}


def _insert_enterprises(
    session: Session, actor: Actor, checked: CheckedBatch, now: datetime, progress: Progress | None
) -> dict[str, int]:
    today = local_date(now)
    rows = [
        {
            "credit_code": r["credit_code"],
            "name": r["name"],
            "name_en": r.get("name_en"),
            "sector": r["sector"],
            "district": r["district"],
            "status": EnterpriseStatus.REGISTERED,
            "status_effective_from": r.get("status_effective_from") or today,
            "contacts": contacts_of(r),
            "created_at": now,
            "updated_at": now,
        }
        for _, r in checked.enterprises
    ]
    ids: dict[str, int] = {}
    for chunk in chunks(rows, CHUNK):
        returned = session.execute(
            insert(Enterprise).returning(
                Enterprise.id, Enterprise.credit_code, sort_by_parameter_order=True
            ),
            chunk,
        ).all()
        chunk_ids = [(eid, code) for eid, code in returned]
        ids.update({code: eid for eid, code in chunk_ids})
        publish(session, EnterprisesRegistered(actor, tuple(eid for eid, _ in chunk_ids)))
        session.execute(
            insert(EnterpriseStatusChange),
            [
                {
                    "enterprise_id": eid,
                    "from_status": None,
                    "to_status": EnterpriseStatus.REGISTERED,
                    "effective_from": row["status_effective_from"],
                    "reason": "registered (import)",
                    "changed_at": now,
                    "changed_by": actor.name,
                }
                for (eid, _), row in zip(chunk_ids, chunk, strict=True)
            ],
        )
        record_many(
            session,
            actor,
            action="enterprise:register",
            entity_type="enterprise",
            entities=[(eid, _audited(row)) for (eid, _), row in zip(chunk_ids, chunk, strict=True)],
        )
        if progress:
            progress("enterprises", len(ids), len(rows))
    return ids


def _insert_facilities(
    session: Session,
    actor: Actor,
    checked: CheckedBatch,
    new_ids: dict[str, int],
    now: datetime,
    progress: Progress | None,
) -> int:
    codes = {r["credit_code"] for _, r in checked.facilities} - set(new_ids)
    owners = dict(new_ids)
    for chunk in chunks(sorted(codes)):
        owners.update(
            session.execute(
                select(Enterprise.credit_code, Enterprise.id).where(
                    Enterprise.credit_code.in_(chunk)
                )
            ).all()
        )
    rows = [
        {
            "enterprise_id": owners[r["credit_code"]],
            "name": r["name"],
            "facility_type": r["facility_type"],
            "capacity": r.get("capacity"),
            "capacity_unit": r.get("capacity_unit"),
            "commissioned_on": r.get("commissioned_on"),
            # The power corrections' registry inputs, checked by the row schema as the
            # facility endpoints check them (rulebook category, air/water cooling).
            "category": r.get("category"),
            "cooling": r.get("cooling"),
            "created_at": now,
            "updated_at": now,
        }
        for _, r in checked.facilities
    ]
    done = 0
    for chunk in chunks(rows, CHUNK):
        returned = (
            session.execute(
                insert(Facility).returning(Facility.id, sort_by_parameter_order=True), chunk
            )
            .scalars()
            .all()
        )
        record_many(
            session,
            actor,
            action="facility:create",
            entity_type="facility",
            entities=[(fid, _audited(row)) for fid, row in zip(returned, chunk, strict=True)],
        )
        done += len(chunk)
        if progress:
            progress("facilities", done, len(rows))
    return done
