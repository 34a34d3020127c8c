"""The audit log is append-only in the database itself, not only by convention in the code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from carbon_market.kernel.audit.models import AuditEvent
from tests.factories import make_enterprise


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'tampered'",
        "UPDATE audit_event SET after = NULL WHERE action = 'enterprise:register'",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE action = 'enterprise:register'",
    ],
)
def test_audit_log_refuses_update_and_delete_at_the_database_level(session, statement):
    enterprise = make_enterprise(session)

    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
    session.rollback()

    events = session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.entity_id) for e in events] == [
        ("enterprise:register", str(enterprise.id))
    ]
    assert events[0].after["credit_code"] == enterprise.credit_code


@pytest.mark.postgres
def test_audit_log_refuses_truncate_on_postgresql(session):
    make_enterprise(session)

    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("TRUNCATE audit_event"))
    session.rollback()

    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_audit_log_still_accepts_new_events_after_a_refused_change(session):
    make_enterprise(session)
    with pytest.raises(DatabaseError):
        session.execute(text("DELETE FROM audit_event"))
    session.rollback()

    make_enterprise(session)

    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2
