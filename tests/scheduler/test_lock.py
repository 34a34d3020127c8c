"""Exactly one scheduler at a time: the SQLite lease (clock-driven expiry) and the waiting
loop. The PostgreSQL advisory lock is in tests/postgres/test_scheduler_lock.py."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from carbon_market.entrypoints.scheduling import _runner, _still_holds
from carbon_market.scheduler.jobs import Job
from carbon_market.scheduler.lock import LeaseLock, lock_for, wait_for_lock
from carbon_market.scheduler.models import JobRun, SchedulerLease

TTL = timedelta(seconds=90)


@pytest.fixture
def sessions(app):
    return app.extensions["carbon_market.session_factory"]


@pytest.fixture
def leases(sessions, clock):
    def make(holder: str) -> LeaseLock:
        return LeaseLock(sessions, holder, ttl=TTL, clock=clock)

    return make


def test_the_first_scheduler_takes_the_lease_and_a_second_is_refused(leases, clock):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert second.holder() == f"host-a:1 (lease until {(clock.now() + TTL).isoformat()})"
    # Asking again while holding it is fine (a restart of the same process id).
    assert first.try_acquire()


def test_a_renewed_lease_is_never_taken_over(leases, clock):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    for _ in range(5):  # 5 × 60 s: far beyond one TTL, but renewed every minute
        clock.advance(timedelta(seconds=60))
        assert first.renew()
        assert not second.try_acquire()


def test_a_lease_left_to_expire_is_taken_over_and_the_old_holder_learns_it(leases, clock, session):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    clock.advance(TTL - timedelta(seconds=1))  # 89 s: still the first's
    assert not second.try_acquire()
    clock.advance(timedelta(seconds=1))  # 90 s: expired (expires_at <= now)
    assert first.holder() is None
    assert second.try_acquire()
    session.expire_all()
    lease = session.scalar(select(SchedulerLease))
    assert lease.holder == "host-b:2"
    assert lease.acquired_at == clock.now()
    assert lease.expires_at == clock.now() + TTL
    # The first process wakes up: its heartbeat fails, so it must stop.
    assert not first.renew()


def test_releasing_frees_the_lease_at_once(leases):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    first.release()
    assert second.holder() is None
    assert second.try_acquire()


def test_a_waiting_scheduler_logs_who_holds_the_lock_and_takes_over_after_expiry(
    leases, clock, caplog
):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))  # the first one never renews: it died

    with caplog.at_level(logging.INFO, logger="carbon_market.scheduler.lock"):
        assert wait_for_lock(second, poll_seconds=30, sleep=sleep)
    # Polls at 0, 30 and 60 s find the lease held; at 90 s it has expired.
    assert slept == [30, 30, 30]
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 3
    assert waits[0].startswith("waiting for the scheduler lock held by host-a:1 (lease until")


def test_wait_gives_up_only_when_told_to(leases):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    assert not wait_for_lock(second, poll_seconds=1, sleep=lambda s: None, max_polls=2)


def test_a_lost_lock_stops_the_scheduler(leases, clock):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    clock.advance(TTL)
    assert second.try_acquire()

    class Scheduler:
        stopped = False

        def shutdown(self, wait: bool) -> None:
            self.stopped = True

    scheduler = Scheduler()
    _still_holds(first, scheduler)  # type: ignore[arg-type]
    assert scheduler.stopped


class _Scheduler:
    stopped = False

    def shutdown(self, wait: bool) -> None:
        self.stopped = True


def _counting_job(calls: list[str]) -> Job:
    return Job(
        "counted",
        "a test job",
        lambda tz: IntervalTrigger(minutes=1, timezone=tz),
        lambda session, actor, day: calls.append("ran") or "ok",
    )


def test_a_scheduler_that_lost_its_lock_runs_no_job_before_its_heartbeat_notices(
    leases, clock, sessions, session
):
    # The first process hung past its lease and the second took over. On waking, its
    # overdue jobs fire at once, possibly before the overdue heartbeat: each job checks the
    # lock first, so none runs beside the new holder's.
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    clock.advance(TTL)
    assert second.try_acquire()
    calls: list[str] = []
    scheduler = _Scheduler()

    _runner(_counting_job(calls), sessions, first, scheduler)  # type: ignore[arg-type]

    assert calls == []
    assert scheduler.stopped
    assert session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_a_scheduler_holding_its_lock_runs_the_job_and_keeps_the_lock(
    leases, clock, sessions, session
):
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.try_acquire()
    clock.advance(TTL - timedelta(seconds=1))
    calls: list[str] = []
    scheduler = _Scheduler()

    _runner(_counting_job(calls), sessions, first, scheduler)  # type: ignore[arg-type]

    assert calls == ["ran"]
    assert not scheduler.stopped
    clock.advance(timedelta(seconds=2))  # past the first lease, not past the renewed one
    assert not second.try_acquire()


def test_sqlite_gets_the_lease_lock(app, sessions):
    engine = app.extensions["carbon_market.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the lease is the SQLite lock")
    assert isinstance(lock_for(engine, sessions), LeaseLock)
