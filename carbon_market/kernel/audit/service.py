"""Recording and reading audit events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.db import chunks, clock_of
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.kernel.rawsql import Cursor


def jsonable(value: Any) -> Any:
    """Snapshot values for the JSON before/after columns: exact decimals, ISO dates."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict."""
    return {f: jsonable(getattr(obj, f)) for f in fields}


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append an audit event to the caller's unit of work (it commits or rolls back with it)."""
    session.add(
        AuditEvent(
            occurred_at=clock_of(session).now(),
            actor_user_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value if actor.role else None,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
            request_id=actor.request_id,
        )
    )


def record_many(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entities: list[tuple[int | str, dict[str, Any]]],
) -> None:
    """:func:`record` for many entities at once, ``(entity_id, after)`` each: one Core
    executemany per thousand rows, for the bulk imports (at 100,000 rows the ORM's
    per-object bookkeeping would cost more than the database does)."""
    now = clock_of(session).now()
    rows = [
        {
            "occurred_at": now,
            "actor_user_id": actor.user_id,
            "actor_name": actor.name,
            "actor_role": actor.role.value if actor.role else None,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": None,
            "after": jsonable(after),
            "request_id": actor.request_id,
        }
        for entity_id, after in entities
    ]
    for chunk in chunks(rows):
        session.execute(insert(AuditEvent), chunk)


def audit_insert_sql(dialect: str) -> str:
    """The INSERT of one audit row for the raw cursor of the hot and bulk paths (the ledger's
    postings, the trade file): parameters (occurred_at, actor_user_id, actor_name,
    actor_role, action, entity_type, entity_id, after as JSON text, request_id), the values
    :func:`record` would write (``rawsql.Cursor.time`` for the time)."""
    p = "%s" if dialect == "postgresql" else "?"
    after = f"CAST({p} AS JSON)" if dialect == "postgresql" else p
    return (
        "INSERT INTO audit_event (occurred_at, actor_user_id, actor_name, "
        "actor_role, action, entity_type, entity_id, before, after, request_id) "
        f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, {after}, {p})"
    )


def record_raw(cursor: Cursor, rows: list[tuple[Any, ...]]) -> None:
    """Append audit rows (:func:`audit_insert_sql`'s parameters each) on the raw cursor of
    the caller's unit of work."""
    cursor.execute_many(audit_insert_sql(cursor.dialect), rows)


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(
    session: Session, actor: Actor, *, filters: AuditFilter, page: PageRequest
) -> Page[AuditEvent]:
    """Audit events, newest first. Regulators and auditors only."""
    authorize(actor, "audit.read")
    query = select(AuditEvent)
    if filters.entity_type:
        query = query.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        query = query.where(AuditEvent.entity_id == filters.entity_id)
    if filters.actor:
        query = query.where(AuditEvent.actor_name == filters.actor)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    return paginate(
        session, query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()), page
    )
