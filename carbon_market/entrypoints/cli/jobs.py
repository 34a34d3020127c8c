"""``carbon-market scheduler`` and ``jobs``: run every job on its schedule, or one by hand."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime

import click

from carbon_market.kernel import cli


@click.group(help="The scheduler: runs every job on its schedule.")
def scheduler() -> None:
    pass


@scheduler.command(
    "run",
    help="Run the scheduler in the foreground until interrupted. Only one runs at a time: "
    "a second one waits for the database lock and takes over when the first stops.",
)
@click.option(
    "--poll-seconds",
    default=10.0,
    show_default=True,
    help="How often a waiting scheduler tries the lock.",
)
@cli.reports_errors
def scheduler_run(poll_seconds: float) -> None:
    from carbon_market.entrypoints.scheduling import build_scheduler
    from carbon_market.scheduler.lock import lock_for, wait_for_lock

    config = cli.config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(message)s")
    with cli.sessions() as sessions:
        # The lock holds a connection of its own on the engine the sessions are bound to.
        lock = lock_for(sessions.kw["bind"], sessions)
        try:
            wait_for_lock(lock, poll_seconds=poll_seconds)
            runner = build_scheduler(sessions, config.deadline_tz, lock=lock)
            click.echo(f"scheduler running in {config.deadline_tz}; Ctrl-C stops it")
            runner.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            lock.release()


@click.group(help="Scheduled jobs, by hand: list them, run one now, or read past runs.")
def jobs() -> None:
    pass


@jobs.command("list", help="The jobs, their triggers and when each runs next.")
@cli.reports_errors
def jobs_list() -> None:
    from datetime import UTC

    from carbon_market.entrypoints.jobs import JOBS

    tz = cli.config().deadline_tz
    now = datetime.now(UTC).astimezone(tz)
    for job in JOBS:
        trigger = job.trigger(tz)
        upcoming = trigger.get_next_fire_time(None, now)
        when = upcoming.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "never"
        click.echo(f"{job.name:<22} next {when}  {trigger}  {job.description}")


@jobs.command(
    "run",
    help="Run the job NAME now, once, for --date D (default: today); the run is recorded. "
    "Exits 1 when the run failed.",
)
@click.argument("name")
@click.option("--date", "day_text", help="The day to run it for, YYYY-MM-DD (Asia/Shanghai).")
@cli.reports_errors
def jobs_run(name: str, day_text: str | None) -> None:
    from carbon_market.entrypoints.jobs import find_job
    from carbon_market.scheduler.jobs import run_job
    from carbon_market.scheduler.models import RunOutcome

    try:
        job = find_job(name)
    except KeyError as exc:
        cli.fail(str(exc.args[0]))
        return
    # Parsed here rather than by click, whose usage error spans three lines.
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d") if day_text else None  # noqa: DTZ007
    except ValueError:
        cli.fail(f"malformed --date {day_text!r}: expected a calendar date YYYY-MM-DD")
        return
    by = f"cli:{os.environ.get('USER', 'cli')}"
    with cli.sessions() as sessions:
        record = run_job(job, sessions, day.date() if day else None, triggered_by=by)
    if record.outcome is RunOutcome.FAILED:
        cli.fail(f"job {job.name} failed (run {record.run_id}): {record.summary}")
        return
    click.echo(f"{job.name}: {record.summary}")


@jobs.command("runs", help="Past job runs, newest first (as JSON lines with --json).")
@click.option("--job", "job_name", help="Only this job's runs.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@cli.reports_errors
def jobs_runs(job_name: str | None, limit: int, as_json: bool) -> None:
    from carbon_market.kernel.pagination import PageRequest
    from carbon_market.scheduler.runs import list_runs, run_as_dict

    with cli.session() as session:
        page = list_runs(session, cli.system_actor(), page=PageRequest(1, limit), job=job_name)
        rows = [run_as_dict(run) for run in page.items]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        counts = ", ".join(f"{k}={v}" for k, v in row["counts"].items())
        click.echo(
            f"{row['id']:>6} {row['started_at'][:19]} {row['job']:<22} {row['day']} "
            f"{row['outcome']:<7} {row['triggered_by']:<16} {row['summary']}"
            + (f" [{counts}]" if counts else "")
        )
