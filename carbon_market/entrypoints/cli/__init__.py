"""The ``carbon-market`` command line: thin callers of the same services as the API.

Bootstrap commands (``db``, ``users create``, ``tokens create``) act as the system operator:
whoever can run them already holds the database credentials. Domain commands act as a named
user (``--as NAME`` or ``CARBON_MARKET_USER``) and obey that user's role, as the API would.
Errors print one line, ``error: <title>: <detail>``, to stderr and exit 1.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TextIO, TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from allocation.rules.inputs import BenchmarkInputs
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.auth.roles import Actor, Role
from carbon_market.kernel.config import Config, ConfigError, load_config
from carbon_market.kernel.db import make_engine, make_session_factory
from carbon_market.kernel.errors import (
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
    marshmallow_errors,
)
from carbon_market.kernel.types import MAX_ID
from carbon_market.ledger.models import LedgerTransaction

if TYPE_CHECKING:
    from carbon_market.emitters.importing import ImportBatch

# Heavy modules (Alembic, pandas, the web layer) are imported inside the commands that use
# them, so that every other command starts in well under a second.

P = ParamSpec("P")
R = TypeVar("R")

#: A row id as the database stores it: a larger number is a usage error (exit 2), not an
#: overflow in the driver.
ID = click.IntRange(1, MAX_ID)
#: A year or vintage (the columns are 32-bit on PostgreSQL; the services check the range
#: that makes sense).
YEAR = click.IntRange(1, 9999)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def reports_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and configuration errors into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            click.echo(f"error: {exc.title}: {exc.detail}", err=True)
            for error in exc.errors:
                # Import pointers are #/<enterprises|facilities>/rows/<n>/<column>: name the
                # file, since one run reads two and both have a row 2.
                where = (
                    f"{error.pointer.split('/')[1]} row {error.row}, {error.column}"
                    if error.row is not None
                    else error.pointer
                )
                click.echo(f"  {where}: {error.detail}", err=True)
            sys.exit(1)
        except ConfigError as exc:
            _fail(f"configuration: {exc}")
            raise AssertionError("unreachable") from exc

    return wrapper


def _config() -> Config:
    return load_config()


@contextmanager
def _session() -> Iterator[Session]:
    # Every model, so that any relationship a command's queries reach can be configured:
    # the CLI does not import the web app, which would otherwise have registered them.
    from carbon_market.entrypoints.features import load_models, wire

    load_models()
    wire()
    config = _config()
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine, config=config)() as session:
            yield session
    finally:
        engine.dispose()


def _request_id() -> str:
    return f"cli-{uuid.uuid4().hex[:16]}"


def _system() -> Actor:
    return Actor.system(name=f"system:{os.environ.get('USER', 'cli')}", request_id=_request_id())


def _acting_user(session: Session, name: str | None) -> Actor:
    if not name:
        raise click.UsageError("name the user to act as with --as NAME or CARBON_MARKET_USER")
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not user.is_active:
        raise NotFound(f"no active user named {name!r}")
    return auth_service.actor_for(user, _request_id())


@click.group(help="Carbon market and green finance operations platform.")
@click.version_option(package_name="carbon-market")
def main() -> None:
    pass


# --- db -----------------------------------------------------------------------------------


@main.group(help="Database schema (Alembic migrations).")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate the database to REVISION (default: the newest).")
@click.argument("revision", default="head")
@reports_errors
def db_upgrade(revision: str) -> None:
    from carbon_market.kernel import migrate

    migrate.upgrade(_config().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade", help="Migrate the database back to REVISION ('base' empties it).")
@click.argument("revision")
@reports_errors
def db_downgrade(revision: str) -> None:
    from carbon_market.kernel import migrate

    migrate.downgrade(_config().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("current", help="Show the database's revision and the newest one.")
@reports_errors
def db_current() -> None:
    from carbon_market.kernel import migrate

    config = _config()
    engine = make_engine(config.database_url)
    current = migrate.current_revisions(engine)
    engine.dispose()
    heads = migrate.head_revisions(config.database_url)
    click.echo(f"current: {', '.join(sorted(current)) or '(empty)'}")
    click.echo(f"head:    {', '.join(sorted(heads))}")
    if current != heads:
        sys.exit(1)


# --- users and tokens ---------------------------------------------------------------------


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@main.group(help="Users and their roles.")
def users() -> None:
    pass


@users.command(
    "create",
    help="Create a user. The password is prompted for, or read from "
    "the first line of stdin when stdin is not a terminal.",
)
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--enterprise", "credit_code", help="Credit code (role enterprise only).")
@click.option(
    "--initiator/--no-initiator",
    default=None,
    help="Enterprise users: may initiate (default: yes).",
)
@click.option(
    "--approver/--no-approver", default=None, help="Enterprise users: may approve (default: yes)."
)
@reports_errors
def users_create(
    name: str, role: str, credit_code: str | None, initiator: bool | None, approver: bool | None
) -> None:
    password = _read_password()
    with _session() as session:
        user = auth_service.create_user(
            session,
            _system(),
            name=name,
            role=Role(role),
            password=password,
            enterprise_credit_code=credit_code,
            can_initiate=initiator,
            can_approve=approver,
        )
    click.echo(f"created user {user.name} ({user.role})")


@main.group(help="API tokens.")
def tokens() -> None:
    pass


@tokens.command("create", help="Issue an API token for user NAME and print it (shown once).")
@click.argument("name")
@click.option("--days", default=90, show_default=True, help="Days until the token expires.")
@click.option("--label", default="cli", show_default=True)
@reports_errors
def tokens_create(name: str, days: int, label: str) -> None:
    with _session() as session:
        _record, token = auth_service.issue_token(
            session, _system(), user_name=name, label=label, ttl_days=days
        )
    click.echo(token)


@tokens.command("revoke", help="Revoke the token with id TOKEN_ID.")
@click.argument("token_id", type=ID)
@reports_errors
def tokens_revoke(token_id: int) -> None:
    with _session() as session:
        auth_service.revoke_token(session, _system(), token_id)
    click.echo(f"revoked token {token_id}")


# --- import -------------------------------------------------------------------------------


@main.group("import", help="All-or-nothing bulk imports from CSV or XLSX.")
def import_() -> None:
    pass


AS_USER = click.option(
    "--as",
    "as_user",
    envvar="CARBON_MARKET_USER",
    help="The user to act as (a regulator); or set CARBON_MARKET_USER.",
)


def _run_import(as_user: str | None, batch: ImportBatch) -> None:
    from carbon_market.emitters import bulk

    bars: dict[str, tqdm[Any]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="row", file=sys.stderr)
        bar.update(done - bar.n)

    with _session() as session:
        actor = _acting_user(session, as_user)
        try:
            result = bulk.import_enterprises(session, actor, batch=batch, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
    click.echo(
        f"imported {result['enterprises_created']} enterprises and "
        f"{result['facilities_created']} facilities"
    )


@import_.command(
    "enterprises",
    help="Import enterprises from FILE (CSV, or XLSX with an "
    "'enterprises' and optional 'facilities' sheet).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--facilities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A facilities CSV imported in the same all-or-nothing run.",
)
@AS_USER
@reports_errors
def import_enterprises(file: Path, facilities: Path | None, as_user: str | None) -> None:
    from carbon_market.emitters import importing

    with file.open("rb") as fh:
        if facilities is None:
            batch = importing.read_batch(fh, file.name)
        else:
            with facilities.open("rb") as fac:
                batch = importing.read_batch(fh, file.name, fac, facilities.name)
    _run_import(as_user, batch)


@import_.command("facilities", help="Import facilities of registered enterprises from FILE.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS_USER
@reports_errors
def import_facilities(file: Path, as_user: str | None) -> None:
    from carbon_market.emitters import importing

    with file.open("rb") as fh:
        batch = importing.read_batch(None, facilities=fh, facilities_name=file.name)
    _run_import(as_user, batch)


# --- ledger -------------------------------------------------------------------------------


@main.group(help="The registry ledger.")
def ledger() -> None:
    pass


@ledger.command(
    "verify",
    help="Recompute every holding from postings, check that every "
    "transaction balances, and walk the hash chain. Exits 1 naming the first "
    "bad transaction.",
)
@reports_errors
def ledger_verify() -> None:
    from carbon_market.ledger.verify import verify_ledger

    with _session() as session:
        problems = verify_ledger(session)
        count = session.scalar(select(func.count()).select_from(LedgerTransaction))
    if problems:
        first = next((p for p in problems if p.transaction_id is not None), problems[0])
        where = f"transaction {first.transaction_id}" if first.transaction_id else first.check
        click.echo(f"error: ledger verification failed at {where}: {first.detail}", err=True)
        for problem in problems:
            click.echo(f"  [{problem.check}] {problem.detail}", err=True)
        sys.exit(1)
    click.echo(
        f"ledger verified: {count} transactions, holdings match postings, "
        "every transaction balances, hash chain intact"
    )


@ledger.command(
    "run-due",
    help="Complete delayed transfers whose delay is over and expire "
    "pending ones nobody approved in time (what the scheduler runs).",
)
@reports_errors
def ledger_run_due() -> None:
    from carbon_market.ledger.transactions.service import run_due

    with _session() as session:
        result = run_due(session, _system())
    click.echo(
        f"released {result['released']} delayed and expired {result['expired']} pending transfers"
    )


# --- trades -------------------------------------------------------------------------------


@main.group(help="Trades: the exchange's end-of-day file and the T+1 settlement run.")
def trades() -> None:
    pass


@trades.command(
    "import",
    help="Record the trades of FILE (the exchange's CSV; columns in docs/trading.md), all or "
    "nothing. Importing the same file again changes nothing.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "as_user",
    envvar="CARBON_MARKET_USER",
    help="The user to act as (the exchange or a regulator); or set CARBON_MARKET_USER.",
)
@reports_errors
def trades_import(file: Path, as_user: str | None) -> None:
    from carbon_market.trading.intake import trade_file as trade_bulk

    with file.open("rb") as fh:
        table = trade_bulk.read_table(fh, file.name)
    with _session() as session:
        actor = _acting_user(session, as_user)
        with tqdm(total=len(table.numbers), desc="trades", unit="row", file=sys.stderr) as bar:
            result = trade_bulk.import_trades(
                session, actor, table, progress=lambda done, _total: bar.update(done - bar.n)
            )
    click.echo(
        f"{result.rows} trades: {result.recorded} recorded, "
        f"{result.unchanged} already recorded with the same content"
    )


@trades.command(
    "settle-due",
    help="Settle the recorded trades of today and earlier (T+1 rulebooks; what the "
    "scheduler runs after the close).",
)
@reports_errors
def trades_settle_due() -> None:
    from carbon_market.trading.service import settle_due

    with _session() as session:
        result = settle_due(session, _system())
    click.echo(f"settled {result['settled']} trades, rejected {result['rejected']}")


# --- mrv ----------------------------------------------------------------------------------


@main.group(help="MRV: emission calculation.")
def mrv() -> None:
    pass


def _refuse_constant(name: str) -> Decimal:
    raise ValueError(f"{name} is not a number")


@mrv.command(
    "calc",
    help="Calculate CO2 and co-pollutants of the streams in FILE (JSON; '-' reads stdin) and "
    "print the breakdown as JSON. Format: docs/mrv.md.",
)
@click.argument("file", type=click.File("r", encoding="utf-8"))
def mrv_calc(file: TextIO) -> None:
    from carbon_market.mrv.calculator import emissions as calc

    try:
        document = json.loads(file.read(), parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        _fail(f"Validation failed: {file.name} is not valid JSON: {exc}")
        return
    try:
        result = calc.calculate_document(document)
    except calc.CalculationInputError as exc:
        _fail(f"{exc.title}: {exc.detail}")
        return
    click.echo(json.dumps(calc.result_as_json(result), indent=2, ensure_ascii=False))


# --- scheduler and jobs -------------------------------------------------------------------


@main.group(help="The scheduler: runs every job on its schedule.")
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
@reports_errors
def scheduler_run(poll_seconds: float) -> None:
    from carbon_market.entrypoints.scheduling import build_scheduler
    from carbon_market.scheduler.lock import lock_for, wait_for_lock

    config = _config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(message)s")
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine, config=config)
    lock = lock_for(engine, sessions)
    try:
        wait_for_lock(lock, poll_seconds=poll_seconds)
        runner = build_scheduler(sessions, config.deadline_tz, lock=lock)
        click.echo(f"scheduler running in {config.deadline_tz}; Ctrl-C stops it")
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()
        engine.dispose()


@main.group(help="Scheduled jobs, by hand: list them, run one now, or read past runs.")
def jobs() -> None:
    pass


@jobs.command("list", help="The jobs, their triggers and when each runs next.")
@reports_errors
def jobs_list() -> None:
    from datetime import UTC

    from carbon_market.entrypoints.jobs import JOBS

    tz = _config().deadline_tz
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
@reports_errors
def jobs_run(name: str, day_text: str | None) -> None:
    from carbon_market.entrypoints.jobs import find_job
    from carbon_market.scheduler.jobs import run_job
    from carbon_market.scheduler.models import RunOutcome

    try:
        job = find_job(name)
    except KeyError as exc:
        _fail(str(exc.args[0]))
        return
    # Parsed here rather than by click, whose usage error spans three lines.
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d") if day_text else None  # noqa: DTZ007
    except ValueError:
        _fail(f"malformed --date {day_text!r}: expected a calendar date YYYY-MM-DD")
        return
    config = _config()
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine, config=config)
    by = f"cli:{os.environ.get('USER', 'cli')}"
    try:
        record = run_job(job, sessions, day.date() if day else None, triggered_by=by)
    finally:
        engine.dispose()
    if record.outcome is RunOutcome.FAILED:
        _fail(f"job {job.name} failed (run {record.run_id}): {record.summary}")
        return
    click.echo(f"{job.name}: {record.summary}")


@jobs.command("runs", help="Past job runs, newest first (as JSON lines with --json).")
@click.option("--job", "job_name", help="Only this job's runs.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@reports_errors
def jobs_runs(job_name: str | None, limit: int, as_json: bool) -> None:
    from carbon_market.kernel.pagination import PageRequest
    from carbon_market.scheduler.runs import list_runs, run_as_dict

    with _session() as session:
        page = list_runs(session, _system(), page=PageRequest(1, limit), job=job_name)
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


# --- finance ------------------------------------------------------------------------------


@main.group(help="Climate finance: the pilot project library.")
def finance() -> None:
    pass


@finance.command(
    "check-milestones",
    help="Flag milestones not done by their due date (what the scheduler runs); prints each.",
)
@reports_errors
def finance_check_milestones() -> None:
    from carbon_market.kernel.clock import SystemClock
    from finance.projects.monitoring import flag_overdue_milestones

    with _session() as session:
        flagged = flag_overdue_milestones(session, SystemClock().now())
    for milestone in flagged:
        click.echo(
            f"overdue: project {milestone.project_id} milestone {milestone.id} "
            f"{milestone.name!r} (due {milestone.due_date})"
        )
    click.echo(f"flagged {len(flagged)} overdue milestone(s)")


@finance.command(
    "import", help="Import projects or financings from FILE (CSV or XLSX), all or nothing."
)
@click.argument("kind", type=click.Choice(["projects", "financings"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS_USER
@reports_errors
def finance_import(kind: str, file: Path, as_user: str | None) -> None:
    from finance.projects import bulk as finance_bulk
    from finance.projects.importing import read_table

    with file.open("rb") as fh:
        table = read_table(fh, file.name, kind)
    with _session() as session:
        actor = _acting_user(session, as_user)
        run = finance_bulk.import_projects if kind == "projects" else finance_bulk.import_financings
        result = run(session, actor, table=table)
    click.echo(", ".join(f"{count} {what.replace('_', ' ')}" for what, count in result.items()))


# --- allocation ---------------------------------------------------------------------------


@main.group(help="Allocation: compute plans offline from files, import, export and issue.")
def allocation() -> None:
    pass


def _one_line(exc: DomainError) -> str:
    first = f" ({exc.errors[0].pointer}: {exc.errors[0].detail}" if exc.errors else ""
    more = f"; {len(exc.errors) - 1} more" if len(exc.errors) > 1 else ""
    return f"error: {exc.title}: {exc.detail}{first}{more}{')' if first else ''}"


def _read_plan(path: Path) -> Any:
    from allocation.rules.plan import parse_plan

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path.name} is not a readable JSON document: {exc}") from exc
    return parse_plan(document)


@allocation.command(
    "compute",
    help="Compute PLAN over FACILITIES offline (no database) and write OUT: one row per "
    "facility. Exits 1 only for a malformed plan or file.",
)
@click.option("--plan", "plan_path", required=True, type=click.Path(path_type=Path))
@click.option("--facilities", required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def allocation_compute(plan_path: Path, facilities: Path, out: Path) -> None:
    from allocation.files import read_facilities, write_results
    from allocation.rules.engine import compute

    try:
        plan = _read_plan(plan_path)
        try:
            with facilities.open("rb") as fh:
                frame = read_facilities(fh)
        except OSError as exc:
            raise ValidationFailed(f"cannot read {facilities}: {exc.strerror}") from exc
    except DomainError as exc:
        click.echo(_one_line(exc), err=True)
        sys.exit(1)
    outcome = compute(plan, frame)
    with out.open("w", encoding="utf-8", newline="") as fh:
        write_results(outcome.results, fh)
    summary = outcome.summary()
    click.echo(
        f"{summary['allocated']} of {summary['facilities']} facilities allocated, "
        f"{summary['total_allocation']} allowances (budget {summary['free_budget']}, "
        f"scale factor {summary['scale_factor']}); {summary['not_allocated']} not allocated"
    )


@allocation.command("import", help="Record the plan document FILE (JSON) as a draft plan.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Scenario name (default: the year).")
@AS_USER
@reports_errors
def allocation_import(file: Path, name: str | None, as_user: str | None) -> None:
    from allocation import service as allocation_service

    _read_plan(file)  # a malformed file fails here, before any database work
    document = json.loads(file.read_text(encoding="utf-8"))
    with _session() as session:
        actor = _acting_user(session, as_user)
        plan = allocation_service.create_plan(session, actor, document=document, name=name)
    click.echo(f"plan {plan.id} ({plan.year}, {plan.name}) recorded as a draft")


@allocation.command("export", help="Print plan PLAN_ID's document (JSON), ready to import.")
@click.argument("plan_id", type=ID)
@AS_USER
@reports_errors
def allocation_export(plan_id: int, as_user: str | None) -> None:
    from allocation import service as allocation_service

    with _session() as session:
        plan = allocation_service.get_plan(session, _acting_user(session, as_user), plan_id)
    click.echo(json.dumps(plan.document, ensure_ascii=False, indent=2))


@allocation.command(
    "issue",
    help="Issue approved plan PLAN_ID through the ledger in batches; safe to run again "
    "(it resumes, and moves nothing once everything is issued).",
)
@click.argument("plan_id", type=ID)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10000))
@AS_USER
@reports_errors
def allocation_issue(plan_id: int, batch_size: int, as_user: str | None) -> None:
    from allocation.issuing import whole as issuing

    with _session() as session:
        actor = _acting_user(session, as_user)
        with tqdm(desc="issuing", unit="allocation", disable=None) as bar:
            summary = issuing.issue_plan(
                session, actor, plan_id, batch_size=batch_size, progress=bar.update
            )
    click.echo(
        f"issued {summary.issued} allocation(s), {summary.units} allowances, in "
        f"{summary.batches} batch(es); {summary.already_issued} were issued before"
    )


def _stage_line(summary: Any) -> str:
    return (
        f"{summary.stage}: {summary.moved} facilit(ies) moved, {summary.issued} allowances "
        f"issued, {summary.clawed_back} clawed back; {summary.short} claw-back(s) waiting for "
        f"units; {summary.already_moved} moved before"
    )


@allocation.command(
    "pre-allocate",
    help="Issue pre_allocation_share of approved plan PLAN_ID on last year's activity; safe "
    "to run again.",
)
@click.argument("plan_id", type=ID)
@AS_USER
@reports_errors
def allocation_pre_allocate(plan_id: int, as_user: str | None) -> None:
    from allocation.issuing import stages

    with _session() as session:
        summary = stages.pre_allocate(session, _acting_user(session, as_user), plan_id)
    click.echo(_stage_line(summary))


@allocation.command(
    "true-up",
    help="Issue or claw back the final allocation less the pre-allocation of plan PLAN_ID; "
    "safe to run again (it finishes waiting claw-backs).",
)
@click.argument("plan_id", type=ID)
@AS_USER
@reports_errors
def allocation_true_up(plan_id: int, as_user: str | None) -> None:
    from allocation.issuing import stages

    with _session() as session:
        summary = stages.true_up(session, _acting_user(session, as_user), plan_id)
    click.echo(_stage_line(summary))


#: A reserve record's benchmark inputs: the option, and its field in the API's schema.
_BENCHMARK_OPTIONS = {
    "facility_id": ("--facility", "The facility's id.", int),
    "output": ("--output", None, str),
    "category": ("--category", "Default: the facility type.", str),
    "heat_supplied_gj": ("--heat-gj", "Heat supplied a year, GJ.", str),
    "cooling": ("--cooling", "Power units: air or water.", str),
    "heat_supply_ratio": ("--heat-supply-ratio", "Power units: heat supply ratio r, 0-1.", str),
    "load_rate": ("--load-rate", "Power units: load rate F, 0-1.", str),
}


def _benchmark_inputs(output_help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a reserve record's benchmark inputs, declared once for every kind of
    record and checked by the API's own schema (same rules, same messages, errors named by
    option): the command receives them as one ``inputs``
    (:class:`allocation.rules.inputs.BenchmarkInputs`), as the service takes them. Anything the
    API accepts for a record, the command line accepts too."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        @reports_errors  # the options are checked here, outside the command's own
        def wrapper(*args: Any, **kwargs: Any) -> None:
            given = {name: kwargs.pop(name) for name in _BENCHMARK_OPTIONS}
            fn(*args, inputs=_load_benchmark_inputs(given), **kwargs)

        decorated: Callable[..., None] = wrapper
        for name, (flag, help_, kind) in reversed(_BENCHMARK_OPTIONS.items()):
            decorated = click.option(
                flag, name, type=kind, required=name in ("facility_id", "output"),
                help=help_ or output_help,
            )(decorated)  # fmt: skip
        return decorated

    return decorate


def _load_benchmark_inputs(given: dict[str, Any]) -> BenchmarkInputs:
    from marshmallow import ValidationError

    from allocation.schemas import BenchmarkInputsSchema

    try:
        loaded = BenchmarkInputsSchema().load({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        # "#/load_rate" → "--load-rate": the user typed options, not JSON.
        flags = {f"#/{name}": option[0] for name, option in _BENCHMARK_OPTIONS.items()}
        errors = [
            FieldError(flags.get(error.pointer, error.pointer), error.detail)
            for error in marshmallow_errors(exc.messages)
        ]
        raise ValidationFailed("the record's figures are not valid", errors=errors) from exc
    inputs: BenchmarkInputs = loaded["inputs"]
    return inputs


@allocation.command(
    "new-entrant",
    help="Record a new entrant (or, with --capacity-change, added capacity) of plan PLAN_ID: "
    "its allocation from the reserve by benchmark, pro rata by months operating, pending a "
    "second regulator (approve-record).",
)
@click.argument("plan_id", type=ID)
@_benchmark_inputs("Annual output (a change: the added).")
@click.option("--start", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--capacity-change", is_flag=True, help="Added capacity of an allocated facility.")
@AS_USER
@reports_errors
def allocation_new_entrant(
    plan_id: int,
    inputs: BenchmarkInputs,
    start: datetime,
    capacity_change: bool,
    as_user: str | None,
) -> None:
    from allocation.models import EntrantKind
    from allocation.reserve import entrants

    kind = EntrantKind.CAPACITY_CHANGE if capacity_change else EntrantKind.NEW_ENTRANT
    with _session() as session:
        row = entrants.record_entrant(
            session, _acting_user(session, as_user), plan_id, inputs=inputs,
            start_date=start.date(), kind=kind,
        )  # fmt: skip
        click.echo(
            f"{kind.value} {row.id}: {row.quantity} allowances for facility {inputs.facility_id} "
            f"({row.breakdown['months']} months), pending a second regulator"
        )


@allocation.command(
    "capacity-reduction",
    help="Record a capacity reduction (or, with --closure, a closure) of a facility under plan "
    "PLAN_ID: the allowances to return to the reserve by benchmark, pro rata by the months "
    "from --effective (the first day without the capacity), pending a second regulator.",
)
@click.argument("plan_id", type=ID)
@_benchmark_inputs("Annual output removed.")
@click.option("--effective", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--closure", is_flag=True, help="The whole facility closes.")
@AS_USER
@reports_errors
def allocation_capacity_reduction(
    plan_id: int,
    inputs: BenchmarkInputs,
    effective: datetime,
    closure: bool,
    as_user: str | None,
) -> None:
    from allocation.models import ReductionKind
    from allocation.reserve import reductions

    kind = ReductionKind.CLOSURE if closure else ReductionKind.CAPACITY_REDUCTION
    with _session() as session:
        row = reductions.record_reduction(
            session, _acting_user(session, as_user), plan_id, inputs=inputs,
            effective_date=effective.date(), kind=kind,
        )  # fmt: skip
        click.echo(
            f"{kind.value} {row.id}: {-row.quantity} allowances to return from facility "
            f"{inputs.facility_id} ({row.breakdown['months']} months), pending a second regulator"
        )


_RECORD_KINDS = {"new-entrant": "new_entrant", "capacity-reduction": "capacity_reduction"}
_KIND_OPTION = click.option(
    "--kind",
    type=click.Choice(sorted(_RECORD_KINDS)),
    default="new-entrant",
    show_default=True,
    help="new-entrant also covers capacity changes.",
)


@allocation.command(
    "approve-record",
    help="Approve reserve record RECORD_ID of plan PLAN_ID (a regulator other than its "
    "recorder): its units move through the ledger. Safe to run again.",
)
@click.argument("plan_id", type=ID)
@click.argument("record_id", type=ID)
@_KIND_OPTION
@AS_USER
@reports_errors
def allocation_approve_record(plan_id: int, record_id: int, kind: str, as_user: str | None) -> None:
    from allocation.models import Stage
    from allocation.reserve import decisions

    with _session() as session:
        row = decisions.approve_record(
            session, _acting_user(session, as_user), plan_id, record_id,
            stage=Stage(_RECORD_KINDS[kind]),
        )  # fmt: skip
        moved = f"transaction {row.tx_id}" if row.tx_id is not None else "owed: nothing moved"
        click.echo(f"{row.stage} {row.id} approved: {row.quantity} allowances, {moved}")


@allocation.command(
    "reject-record",
    help="Reject pending reserve record RECORD_ID of plan PLAN_ID (a regulator other than its "
    "recorder): nothing moves.",
)
@click.argument("plan_id", type=ID)
@click.argument("record_id", type=ID)
@_KIND_OPTION
@click.option("--reason", default="", help="Why (kept on the record).")
@AS_USER
@reports_errors
def allocation_reject_record(
    plan_id: int, record_id: int, kind: str, reason: str, as_user: str | None
) -> None:
    from allocation.models import Stage
    from allocation.reserve import decisions

    with _session() as session:
        row = decisions.reject_record(
            session, _acting_user(session, as_user), plan_id, record_id,
            stage=Stage(_RECORD_KINDS[kind]), reason=reason,
        )  # fmt: skip
        click.echo(f"{row.stage} {row.id} rejected")


@allocation.group(
    help="Auctions: open one, clear it after its window, settle it through the ledger."
)
def auction() -> None:
    pass


def _instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant; without an offset it is Beijing time, the market's clock."""
    from carbon_market.kernel.clock import SHANGHAI

    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=option) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)


@auction.command("open", help="Open an auction of a plan's (or a year's) units.")
@click.option("--plan", "plan_id", type=ID, default=None, help="An approved plan.")
@click.option("--year", type=YEAR, default=None, help="Required without --plan.")
@click.option("--unit-kind", default="allowance", show_default=True)
@click.option("--vintage", type=YEAR, default=None, help="Default: the year.")
@click.option("--volume", type=click.IntRange(1), required=True)
@click.option("--reserve-price", required=True, help="CNY per unit, at most two places.")
@click.option("--bidder-limit", type=click.IntRange(1), required=True)
@click.option("--opens", required=True, help="ISO 8601; without an offset, Beijing time.")
@click.option("--closes", required=True, help="ISO 8601; without an offset, Beijing time.")
@AS_USER
@reports_errors
def auction_open(
    plan_id: int | None,
    year: int | None,
    unit_kind: str,
    vintage: int | None,
    volume: int,
    reserve_price: str,
    bidder_limit: int,
    opens: str,
    closes: str,
    as_user: str | None,
) -> None:
    from allocation import auctions

    try:
        price = Decimal(reserve_price)
    except ArithmeticError as exc:
        raise click.BadParameter(
            f"{reserve_price!r} is not a number", param_hint="--reserve-price"
        ) from exc
    with _session() as session:
        opened = auctions.open_auction(
            session,
            _acting_user(session, as_user),
            plan_id=plan_id,
            year=year,
            unit_kind=unit_kind,
            vintage=vintage,
            volume=volume,
            reserve_price=price,
            bidder_limit=bidder_limit,
            opens_at=_instant(opens, "--opens"),
            closes_at=_instant(closes, "--closes"),
        )
        click.echo(
            f"auction {opened.id} open: {opened.volume} {opened.unit_kind} {opened.vintage} "
            f"from {opened.reserve_price}, bids {opened.opens_at.isoformat()} to "
            f"{opened.closes_at.isoformat()}"
        )


@auction.command("clear", help="Clear AUCTION_ID after its window; a repeat changes nothing.")
@click.argument("auction_id", type=ID)
@AS_USER
@reports_errors
def auction_clear(auction_id: int, as_user: str | None) -> None:
    from allocation import auctions

    with _session() as session:
        cleared = auctions.clear(session, _acting_user(session, as_user), auction_id)
        price = cleared.clearing_price if cleared.clearing_price is not None else "none"
        click.echo(f"auction {cleared.id} {cleared.status}: {cleared.sold} sold at {price}")


@auction.command("settle", help="Settle AUCTION_ID through the ledger; a repeat moves nothing.")
@click.argument("auction_id", type=ID)
@AS_USER
@reports_errors
def auction_settle(auction_id: int, as_user: str | None) -> None:
    from allocation import auctions

    with _session() as session:
        summary = auctions.settle(session, _acting_user(session, as_user), auction_id)
    click.echo(
        f"settled {summary.settled} bid(s), {summary.units} units, {summary.amount_due} CNY "
        f"due; {summary.already_settled} were settled before"
    )


# --- serve --------------------------------------------------------------------------------


def _has_regulator(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.role == Role.REGULATOR).limit(1)) is not None


@main.command(
    help="Set up and run: migrate the database, create the first regulator if there "
    "is none (password prompted, or read from stdin), then serve."
)
@click.option(
    "--regulator",
    "regulator_name",
    default="regulator",
    show_default=True,
    help="Name of the first regulator, when one must be created.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
@reports_errors
def quickstart(ctx: click.Context, regulator_name: str, host: str, port: int) -> None:
    from carbon_market.kernel import migrate

    config = _config()
    migrate.upgrade(config.database_url)
    click.echo(f"database ready: {config.database_url}")
    with _session() as session:
        if not _has_regulator(session):
            click.echo(f"creating the first regulator, {regulator_name!r}")
            auth_service.create_user(
                session,
                _system(),
                name=regulator_name,
                role=Role.REGULATOR,
                password=_read_password(),
            )
    click.echo('log in: POST /api/v1/auth/login {"name": ..., "password": ...}')
    ctx.invoke(serve, host=host, port=port, workers=2)


# --- serve --------------------------------------------------------------------------------


@main.command(help="Serve the platform with gunicorn (bound to 127.0.0.1 unless told).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@reports_errors
def serve(host: str, port: int, workers: int) -> None:
    from carbon_market.entrypoints.server import run_gunicorn
    from carbon_market.kernel import migrate

    config = _config()
    engine = make_engine(config.database_url)
    at_head = migrate.is_at_head(engine)
    engine.dispose()
    if not at_head:
        _fail("the database is not at the newest migration; run 'carbon-market db upgrade'")
    click.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    run_gunicorn(f"{host}:{port}", workers)
