"""How a unit of work begins and retries: BEGIN IMMEDIATE on SQLite, retries on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from carbon_market.kernel import db as db_module
from carbon_market.kernel.db import transactional
from tests.conftest import ON_POSTGRES


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's locking mode")
def test_write_unit_on_sqlite_begins_immediate_after_closing_an_open_read(session: Session):
    # BEGIN goes straight to the driver, so SQLite's own trace sees every statement.
    statements: list[str] = []
    engine = session.get_bind()

    def trace(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(engine, "checkout", trace)
    session.close()  # the next statement checks a connection out, traced

    @transactional
    def write(s: Session) -> None:
        s.execute(text("SELECT 'in the unit'"))

    try:
        session.execute(text("SELECT 'a read before the unit'"))
        write(session)
        seen = [s for s in statements if not s.startswith("PRAGMA")]
    finally:
        event.remove(engine, "checkout", trace)
        session.connection().connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]

    # The read's deferred transaction cannot be upgraded, so the unit ends it and begins anew
    # with a write lock taken up front (two writers queue instead of failing at commit).
    assert seen == [
        "BEGIN DEFERRED",
        "SELECT 'a read before the unit'",
        "COMMIT",
        "BEGIN IMMEDIATE",
        "SELECT 'in the unit'",
        "COMMIT",
    ]


class _SerializationFailure(Exception):
    sqlstate = "40001"


def test_outermost_unit_is_retried_after_a_serialization_failure(session, monkeypatch):
    monkeypatch.setattr(db_module.time, "sleep", lambda _s: None)
    attempts: list[int] = []

    @transactional
    def flaky(s: Session) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("UPDATE …", {}, _SerializationFailure())
        return "done"

    assert flaky(session) == "done"
    assert len(attempts) == 3


def test_retries_stop_after_the_bound_and_the_error_surfaces(session, monkeypatch):
    monkeypatch.setattr(db_module.time, "sleep", lambda _s: None)
    attempts: list[int] = []

    @transactional
    def always_fails(s: Session) -> None:
        attempts.append(1)
        raise OperationalError("UPDATE …", {}, _SerializationFailure())

    with pytest.raises(OperationalError):
        always_fails(session)
    assert len(attempts) == db_module.MAX_ATTEMPTS


def test_other_database_errors_are_not_retried(session):
    attempts: list[int] = []

    @transactional
    def broken(s: Session) -> None:
        attempts.append(1)
        s.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        broken(session)
    assert len(attempts) == 1
