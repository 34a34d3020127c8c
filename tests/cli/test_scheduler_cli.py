"""``carbon-market jobs list`` and ``jobs run``, and the scheduler's set-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from carbon_market.entrypoints.jobs import JOBS, find_job
from carbon_market.entrypoints.scheduling import build_scheduler
from carbon_market.kernel.access.roles import Actor
from finance.projects import monitoring
from finance.projects.models import Milestone
from tests.cli.test_finance_cli import _project

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_list_names_every_job_with_its_next_run(run_cli):
    result = run_cli("jobs", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [job.name for job in JOBS]
    assert all(" next 20" in line for line in lines)


def test_run_once_runs_the_named_job_as_the_scheduler(run_cli, session, fresh_session):
    project = _project(session)
    late = monitoring.add_milestone(
        session,
        Actor.system(name="system:test"),
        project.id,
        name="并网",
        due_date=date(2025, 6, 30),
    )

    result = run_cli("jobs", "run", "finance_milestones")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "finance_milestones: flagged 1 overdue milestone(s)"
    with fresh_session() as check:
        assert (
            check.scalar(select(Milestone.overdue_flagged_at).where(Milestone.id == late.id))
            is not None
        )
    again = run_cli("jobs", "run", "finance_milestones")
    assert again.stdout.strip().endswith("flagged 0 overdue milestone(s)")
    ledger = run_cli("jobs", "run", "ledger_run_due")
    assert ledger.stdout.strip() == "ledger_run_due: released 0 delayed and expired 0 pending"


def test_an_unknown_job_is_one_line_and_exit_1(run_cli):
    result = run_cli("jobs", "run", "compliance.nothing")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: no job 'compliance.nothing'; jobs: " + ", ".join(job.name for job in JOBS)
    ]
    # Nothing ran, so nothing was recorded.
    assert run_cli("jobs", "runs").stdout == ""


def test_the_scheduler_holds_every_job_on_beijing_time(session):
    scheduler = build_scheduler(None, SHANGHAI, blocking=False)  # type: ignore[arg-type]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job.name for job in JOBS}
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    # The milestone check runs at 08:00 in Beijing: midnight UTC.
    trigger = find_job("finance_milestones").trigger(SHANGHAI)
    after = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    fire = trigger.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    # The ledger job runs every five minutes.
    ledger = find_job("ledger_run_due").trigger(SHANGHAI)
    first = ledger.get_next_fire_time(None, after)
    assert ledger.get_next_fire_time(first, first) - first == timedelta(minutes=5)


def test_a_job_runs_for_the_date_given(run_cli, session, fresh_session):
    # Due 2025-06-30: not overdue on that day, overdue on 2025-07-01.
    project = _project(session)
    milestone = monitoring.add_milestone(
        session,
        Actor.system(name="system:test"),
        project.id,
        name="验收",
        due_date=date(2025, 6, 30),
    )
    on_the_day = run_cli("jobs", "run", "finance_milestones", "--date", "2025-06-30")
    assert on_the_day.stdout.strip().endswith("flagged 0 overdue milestone(s)")
    next_day = run_cli("jobs", "run", "finance_milestones", "--date", "2025-07-01")
    assert next_day.stdout.strip().endswith("flagged 1 overdue milestone(s)")
    with fresh_session() as check:
        assert check.get(Milestone, milestone.id).overdue_flagged_at is not None


@pytest.mark.parametrize("text", ["2025-13-01", "2025-02-30", "tomorrow", "2025/06/30"])
def test_a_malformed_date_is_one_line_and_exit_1_and_runs_nothing(run_cli, text):
    result = run_cli("jobs", "run", "finance_milestones", "--date", text)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: malformed --date {text!r}: expected a calendar date YYYY-MM-DD"
    ]
    assert run_cli("jobs", "runs").stdout == ""
