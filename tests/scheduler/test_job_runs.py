"""Every job run is recorded: start, end, outcome, counts, summary, error, who triggered it.

A job that raises is rolled back and recorded ``failed`` in a session of its own; the error
never reaches the scheduler. The API lists runs newest first with filters; so does the CLI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.entrypoints.scheduling import _runner
from carbon_market.kernel.access.roles import Actor
from carbon_market.notifications.models import Notification
from carbon_market.notifications.service import enqueue
from carbon_market.scheduler.jobs import Job, run_job
from carbon_market.scheduler.models import JobRun, RunOutcome
from carbon_market.scheduler.result import JobResult
from carbon_market.scheduler.runs import MAX_ERROR_CHARS
from tests.api.helpers import assert_problem
from tests.factories import make_enterprise


def _job(name, run):
    return Job(name, "a test job", lambda tz: IntervalTrigger(minutes=1, timezone=tz), run)


@pytest.fixture
def sessions(app):
    return app.extensions["carbon_market.session_factory"]


def _runs(session: Session) -> list[JobRun]:
    session.expire_all()
    return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_run_is_recorded_with_its_counts_summary_and_day(sessions, session, clock):
    def counting(session: Session, actor: Actor, day: date) -> JobResult:
        assert actor.is_system
        assert actor.name == "scheduler"
        return JobResult(f"expired 3 on {day}", {"expired": 3})

    record = run_job(_job("counting", counting), sessions, date(2026, 7, 1))

    assert record.outcome is RunOutcome.OK
    [run] = _runs(session)
    assert (run.job, run.day, run.outcome) == ("counting", date(2026, 7, 1), RunOutcome.OK)
    assert run.counts == {"expired": 3}
    assert run.summary == "expired 3 on 2026-07-01"
    assert run.error is None
    assert run.triggered_by == "scheduler"
    assert run.started_at == run.finished_at == clock.now()


def test_a_plain_summary_string_is_still_a_valid_result(sessions, session):
    run_job(_job("plain", lambda s, a, d: "did nothing"), sessions, date(2026, 7, 1))
    [run] = _runs(session)
    assert (run.summary, run.counts, run.outcome) == ("did nothing", {}, RunOutcome.OK)


def test_a_long_summary_and_error_are_cut_visibly_keeping_what_matters(sessions, session):
    # The summary keeps its start, the error its end (the exception's own line), and each
    # shows by an ellipsis that something was cut.
    def verbose(session: Session, actor: Actor, day: date) -> str:
        raise ValueError("x" * 6000 + " the last words")

    run_job(_job("verbose", verbose), sessions, date(2026, 7, 1))
    run_job(_job("chatty", lambda s, a, d: "flagged " + "9" * 600), sessions, date(2026, 7, 1))

    failed, chatty = _runs(session)
    assert len(failed.error) == MAX_ERROR_CHARS
    assert failed.error.startswith("…")
    assert failed.error.endswith("x the last words\n")
    assert len(chatty.summary) == 500
    assert chatty.summary.startswith("flagged 999")
    assert chatty.summary.endswith("9…")


def test_without_a_date_the_run_is_for_today_in_beijing(sessions, session, clock):
    # 2026-06-01 16:30 UTC is already 2 June 00:30 in Beijing.
    clock.advance(timedelta(hours=14, minutes=30))
    assert clock.now() == datetime(2026, 6, 1, 16, 30, tzinfo=UTC)
    run_job(_job("today", lambda s, a, d: str(d)), sessions)
    [run] = _runs(session)
    assert run.day == date(2026, 6, 2)


def test_a_failing_job_is_rolled_back_and_recorded_failed(sessions, session):
    firm = make_enterprise(session)

    def half_done(session: Session, actor: Actor, day: date) -> str:
        session.add(
            Notification(
                kind="overdue",
                enterprise_id=firm.id,
                to_regulators=False,
                recipients=[],
                subject="s",
                body="b",
                dedupe_key="half-done",
                created_at=datetime(2026, 6, 1, tzinfo=UTC),
                status="pending",
                attempts=0,
                channel="",
            )
        )
        session.flush()  # the row exists in the job's transaction when it fails
        raise RuntimeError("disk on fire")

    record = run_job(_job("broken", half_done), sessions, date(2026, 7, 1), triggered_by="cli:ops")

    assert record.outcome is RunOutcome.FAILED
    [run] = _runs(session)
    assert run.outcome is RunOutcome.FAILED
    assert run.summary == "failed: RuntimeError: disk on fire"
    assert "Traceback" in run.error
    assert "disk on fire" in run.error
    assert run.triggered_by == "cli:ops"
    assert run.finished_at is not None
    assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_job_may_finish_failed_and_keep_its_work(sessions, session):
    def found_a_problem(session: Session, actor: Actor, day: date) -> JobResult:
        enqueue(
            session,
            kind="ledger_verify_failed",
            subject="bad",
            body="bad",
            dedupe_key="kept",
            to_regulators=True,
        )
        return JobResult("found 1 problem", {"problems": 1}, failed=True)

    run_job(_job("checker", found_a_problem), sessions, date(2026, 7, 1))
    [run] = _runs(session)
    assert (run.outcome, run.counts, run.error) == (RunOutcome.FAILED, {"problems": 1}, None)
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_the_scheduler_survives_a_failing_job_and_the_next_run_is_recorded(sessions, session):
    calls = []

    def flaky(session: Session, actor: Actor, day: date) -> str:
        calls.append(day)
        if len(calls) == 1:
            raise ValueError("first time unlucky")
        return "ok now"

    job = _job("flaky", flaky)
    _runner(job, sessions)  # must not raise
    _runner(job, sessions)
    assert [run.outcome for run in _runs(session)] == [RunOutcome.FAILED, RunOutcome.OK]


def _seed_runs(sessions, clock):
    """Three runs: a (ok) on 1 June, b (failed) on 2 June, a (ok) on 3 June (Beijing)."""
    for name, fails in (("a", False), ("b", True), ("a", False)):

        def run(session, actor, day, fails=fails):
            if fails:
                raise RuntimeError("no")
            return JobResult("fine", {"n": 1})

        run_job(_job(name, run), sessions)
        clock.advance(timedelta(days=1))


def test_api_lists_runs_newest_first_with_filters(client, auth, regulator, sessions, clock):
    _seed_runs(sessions, clock)
    headers = auth.headers(regulator)

    everything = client.get("/api/v1/jobs/runs", headers=headers).get_json()
    assert [(r["job"], r["day"]) for r in everything["items"]] == [
        ("a", "2026-06-03"),
        ("b", "2026-06-02"),
        ("a", "2026-06-01"),
    ]
    assert everything["page"] == {"page": 1, "page_size": 50, "total": 3, "pages": 1}
    first = everything["items"][0]
    assert first["outcome"] == "ok"
    assert first["counts"] == {"n": 1}
    assert first["triggered_by"] == "scheduler"

    def jobs(query):
        body = client.get(f"/api/v1/jobs/runs?{query}", headers=headers).get_json()
        return [(r["job"], r["day"]) for r in body["items"]]

    assert jobs("job=a") == [("a", "2026-06-03"), ("a", "2026-06-01")]
    assert jobs("outcome=failed") == [("b", "2026-06-02")]
    assert jobs("day=2026-06-02") == [("b", "2026-06-02")]
    assert jobs("since=2026-06-02") == [("a", "2026-06-03"), ("b", "2026-06-02")]
    assert jobs("until=2026-06-02") == [("b", "2026-06-02"), ("a", "2026-06-01")]
    assert jobs("page_size=1&page=2") == [("b", "2026-06-02")]


def test_api_refuses_an_unknown_outcome_with_a_problem(client, auth, regulator):
    response = client.get("/api/v1/jobs/runs?outcome=maybe", headers=auth.headers(regulator))
    assert_problem(response, 422, "validation-failed", pointers={"#/query/outcome"})
