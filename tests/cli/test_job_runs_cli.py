"""``carbon-market jobs runs`` and the run record ``jobs run`` leaves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from carbon_market.scheduler.models import JobRun
from tests.scheduler.test_job_runs import _seed_runs


@pytest.fixture
def sessions(app):
    return app.extensions["carbon_market.session_factory"]


def test_cli_lists_runs_newest_first_and_filters_by_job(run_cli, sessions, clock):
    _seed_runs(sessions, clock)
    lines = run_cli("jobs", "runs").stdout.splitlines()
    assert [line.split()[2] for line in lines] == ["a", "b", "a"]
    assert "failed" in lines[1]
    assert "[n=1]" in lines[0]
    only_a = run_cli("jobs", "runs", "--job", "a", "--limit", "1").stdout.splitlines()
    assert len(only_a) == 1
    assert only_a[0].split()[3] == "2026-06-03"


def test_cli_run_is_recorded_as_triggered_by_the_cli(run_cli, fresh_session, cli_env):
    result = run_cli("jobs", "run", "ledger_verify", "--date", "2026-06-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "ledger_verify: ledger verified: no problems"
    with fresh_session() as check:
        [run] = check.scalars(select(JobRun)).all()
        assert run.triggered_by.startswith("cli:")
        assert (run.job, run.day, run.counts) == (
            "ledger_verify",
            date(2026, 6, 1),
            {"problems": 0},
        )


def test_cli_run_of_a_failing_job_exits_1_with_one_line(run_cli, fresh_session, monkeypatch):
    from carbon_market.ledger import jobs as platform_jobs

    def boom(session):
        raise RuntimeError("database said no")

    monkeypatch.setattr(platform_jobs, "verify_ledger", boom)
    result = run_cli("jobs", "run", "ledger_verify", "--date", "2026-06-01")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: job ledger_verify failed (run 1): ")
    assert line.endswith("RuntimeError: database said no")
    with fresh_session() as check:
        [run] = check.scalars(select(JobRun)).all()
        assert run.outcome == "failed"
        assert "database said no" in run.error
