"""The one-scheduler lock on PostgreSQL: a session-level advisory lock on a dedicated
connection, freed when its holder releases it or its connection drops (the process died)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine

from carbon_market.scheduler.lock import AdvisoryLock, lock_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def test_postgres_gets_the_advisory_lock(app, engine):
    sessions = app.extensions["carbon_market.session_factory"]
    assert isinstance(lock_for(engine, sessions), AdvisoryLock)


def test_a_second_holder_waits_until_the_first_releases(engine):
    first, second = AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.renew()
        assert second.holder().startswith("PostgreSQL backend pid ")
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_the_lock_frees_itself_when_the_holders_connection_drops(engine):
    first, second = AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        # The process dies: its connection closes without unlocking anything.
        first._conn.invalidate()
        first._conn = None
        # The server frees the lock when the dead backend exits, which follows the closed
        # socket by a moment, not at once: the waiting scheduler retries, and so does this.
        deadline = time.monotonic() + 10
        while not second.try_acquire():
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.05)
        assert not first.renew()
    finally:
        second.release()
