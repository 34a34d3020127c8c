"""One scheduler at a time: a database lock, not luck.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a
  connection of its own that the process keeps for its whole life. When the process dies its
  connection drops and PostgreSQL frees the lock; no heartbeat is needed, but the heartbeat
  checks the connection is still alive (if it is not, the lock may be someone else's now).
* SQLite: a lease row (``scheduler_lease``): the holder's id and an expiry it renews on a
  heartbeat. A waiting process takes over once the lease has expired, which happens
  ``ttl`` after the holder stopped renewing (it died or hung). The clock is injectable.

A second ``carbon-market scheduler run`` polls :meth:`SchedulerLock.try_acquire` and logs
"waiting for the scheduler lock held by …" until it gets the lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.kernel.clock import Clock, SystemClock
from carbon_market.scheduler.models import SchedulerLease

log = logging.getLogger(__name__)

#: The advisory lock key: any fixed 64-bit number no other part of the platform uses
#: (the bytes of "CMSCHED1").
ADVISORY_KEY = 0x434D_5343_4845_4431
LEASE_NAME = "scheduler"
DEFAULT_LEASE_TTL = timedelta(seconds=90)


def holder_id() -> str:
    """Who this process is, for the log line of whoever waits: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SchedulerLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free (or already ours); never waits."""

    def renew(self) -> bool:
        """Keep the lock (the heartbeat); False when it is no longer ours."""

    def release(self) -> None:
        """Give the lock up (on a clean shutdown)."""

    def holder(self) -> str | None:
        """Who holds the lock now, as far as the database tells; None if nobody."""


class AdvisoryLock:
    """PostgreSQL's session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None
        # The heartbeat and every job renew the lock from the scheduler's worker threads,
        # and one SQLAlchemy Connection must not be used by two threads at once.
        self._using = threading.RLock()

    def _connection(self) -> Connection:
        if self._conn is None:
            # AUTOCOMMIT: the lock belongs to the session, and no transaction should stay
            # open on this connection for the process's life.
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def try_acquire(self) -> bool:
        with self._using:
            if self._conn is not None and self.renew():
                return True
            got = bool(
                self._connection().scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key})
            )
            if not got:
                self._close()
            return got

    def renew(self) -> bool:
        """A session-level lock lasts as long as its connection: alive means still ours."""
        with self._using:
            if self._conn is None:
                return False
            try:
                self._conn.scalar(text("SELECT 1"))
            except Exception:
                log.exception("the scheduler lock's connection is gone; the lock may be lost")
                self._close()
                return False
            return True

    def release(self) -> None:
        with self._using:
            if self._conn is None:
                return
            try:
                self._conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            finally:
                self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def holder(self) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT a.pid, a.client_addr, a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = (CAST(:k AS bigint) >> 32) "
                    "AND l.objid::bigint = (CAST(:k AS bigint) & 4294967295)"
                ),
                {"k": self._key},
            ).first()
        if row is None:
            return None
        return f"PostgreSQL backend pid {row.pid} ({row.client_addr or 'local'})"


class LeaseLock:
    """The lease row, for SQLite (it works on PostgreSQL too; the advisory lock is better
    there because it frees itself the moment the holder's connection drops)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        holder: str,
        *,
        ttl: timedelta = DEFAULT_LEASE_TTL,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self._holder = holder
        self._ttl = ttl
        self._clock = clock or SystemClock()

    def try_acquire(self) -> bool:
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            # BEGIN IMMEDIATE (see db.py) makes read-then-write one step for SQLite writers.
            if session.get_bind().dialect.name == "sqlite":
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
            if lease is None:
                session.add(
                    SchedulerLease(
                        name=LEASE_NAME,
                        holder=self._holder,
                        acquired_at=now,
                        expires_at=now + self._ttl,
                    )
                )
                return True
            if lease.holder != self._holder and lease.expires_at > now:
                return False
            if lease.holder != self._holder:
                log.warning("taking over the scheduler lease %s let expire", lease.holder)
                lease.acquired_at = now
            lease.holder, lease.expires_at = self._holder, now + self._ttl
            return True

    def renew(self) -> bool:
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            renewed = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self._holder)
                .values(expires_at=now + self._ttl)
            )
            return bool(renewed.rowcount)  # type: ignore[attr-defined]

    def release(self) -> None:
        with self._sessions() as session, session.begin():
            session.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self._holder
                )
            )

    def holder(self) -> str | None:
        with self._sessions() as session:
            lease = session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME))
            if lease is None or lease.expires_at <= self._clock.now():
                return None
            return f"{lease.holder} (lease until {lease.expires_at.isoformat()})"


def lock_for(
    engine: Engine, sessions: sessionmaker[Session], *, clock: Clock | None = None
) -> SchedulerLock:
    """The advisory lock on PostgreSQL, the lease elsewhere."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return LeaseLock(sessions, holder_id(), clock=clock)


def wait_for_lock(
    lock: SchedulerLock,
    *,
    poll_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    max_polls: int | None = None,
) -> bool:
    """Poll until the lock is ours; True then. False only when ``max_polls`` ran out
    (tests); otherwise it waits as long as it takes."""
    polls = 0
    while not lock.try_acquire():
        log.info("waiting for the scheduler lock held by %s", lock.holder() or "another process")
        polls += 1
        if max_polls is not None and polls >= max_polls:
            return False
        sleep(poll_seconds)
    return True
