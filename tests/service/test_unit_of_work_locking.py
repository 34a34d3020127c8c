"""How a unit of work begins and retries: BEGIN IMMEDIATE on SQLite, retries on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from carbon_market import db as db_module
from carbon_market.db import transactional
from tests.conftest import ON_POSTGRES


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's locking mode")
def test_write_unit_on_sqlite_begins_immediate_after_closing_an_open_read(session: Session):
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda _c, _cur, stmt, *_a: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)

    @transactional
    def write(s: Session) -> None:
        s.execute(text("SELECT 'in the unit'"))

    try:
        session.execute(text("SELECT 'a read before the unit'"))
        write(session)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    # The read's deferred transaction cannot be upgraded, so the unit ends it and begins anew
    # with a write lock taken up front (two writers queue instead of failing at commit).
    assert statements == [
        "BEGIN DEFERRED",
        "SELECT 'a read before the unit'",
        "BEGIN IMMEDIATE",
        "SELECT 'in the unit'",
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
