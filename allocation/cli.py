"""``carbon-market allocation``: compute plans offline from files, import, export and issue
them, the reserve's records (``reserve/cli.py``) and auctions."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from allocation.reserve.cli import COMMANDS as RESERVE_COMMANDS
from carbon_market.kernel import cli
from carbon_market.kernel.errors import DomainError, ValidationFailed


@click.group(help="Allocation: compute plans offline from files, import, export and issue.")
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
@cli.AS_USER
@cli.reports_errors
def allocation_import(file: Path, name: str | None, as_user: str | None) -> None:
    from allocation import service as allocation_service

    _read_plan(file)  # a malformed file fails here, before any database work
    document = json.loads(file.read_text(encoding="utf-8"))
    with cli.session() as session:
        actor = cli.acting_user(session, as_user)
        plan = allocation_service.create_plan(session, actor, document=document, name=name)
    click.echo(f"plan {plan.id} ({plan.year}, {plan.name}) recorded as a draft")


@allocation.command("export", help="Print plan PLAN_ID's document (JSON), ready to import.")
@click.argument("plan_id", type=cli.ID)
@cli.AS_USER
@cli.reports_errors
def allocation_export(plan_id: int, as_user: str | None) -> None:
    from allocation import service as allocation_service

    with cli.session() as session:
        plan = allocation_service.get_plan(session, cli.acting_user(session, as_user), plan_id)
    click.echo(json.dumps(plan.document, ensure_ascii=False, indent=2))


@allocation.command(
    "issue",
    help="Issue approved plan PLAN_ID through the ledger in batches; safe to run again "
    "(it resumes, and moves nothing once everything is issued).",
)
@click.argument("plan_id", type=cli.ID)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10000))
@cli.AS_USER
@cli.reports_errors
def allocation_issue(plan_id: int, batch_size: int, as_user: str | None) -> None:
    from allocation.issuing import whole as issuing

    with cli.session() as session:
        actor = cli.acting_user(session, as_user)
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
@click.argument("plan_id", type=cli.ID)
@cli.AS_USER
@cli.reports_errors
def allocation_pre_allocate(plan_id: int, as_user: str | None) -> None:
    from allocation.issuing import stages

    with cli.session() as session:
        summary = stages.pre_allocate(session, cli.acting_user(session, as_user), plan_id)
    click.echo(_stage_line(summary))


@allocation.command(
    "true-up",
    help="Issue or claw back the final allocation less the pre-allocation of plan PLAN_ID; "
    "safe to run again (it finishes waiting claw-backs).",
)
@click.argument("plan_id", type=cli.ID)
@cli.AS_USER
@cli.reports_errors
def allocation_true_up(plan_id: int, as_user: str | None) -> None:
    from allocation.issuing import stages

    with cli.session() as session:
        summary = stages.true_up(session, cli.acting_user(session, as_user), plan_id)
    click.echo(_stage_line(summary))


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
@click.option("--plan", "plan_id", type=cli.ID, default=None, help="An approved plan.")
@click.option("--year", type=cli.YEAR, default=None, help="Required without --plan.")
@click.option("--unit-kind", default="allowance", show_default=True)
@click.option("--vintage", type=cli.YEAR, default=None, help="Default: the year.")
@click.option("--volume", type=click.IntRange(1), required=True)
@click.option("--reserve-price", required=True, help="CNY per unit, at most two places.")
@click.option("--bidder-limit", type=click.IntRange(1), required=True)
@click.option("--opens", required=True, help="ISO 8601; without an offset, Beijing time.")
@click.option("--closes", required=True, help="ISO 8601; without an offset, Beijing time.")
@cli.AS_USER
@cli.reports_errors
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
    with cli.session() as session:
        opened = auctions.open_auction(
            session,
            cli.acting_user(session, as_user),
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
@click.argument("auction_id", type=cli.ID)
@cli.AS_USER
@cli.reports_errors
def auction_clear(auction_id: int, as_user: str | None) -> None:
    from allocation import auctions

    with cli.session() as session:
        cleared = auctions.clear(session, cli.acting_user(session, as_user), auction_id)
        price = cleared.clearing_price if cleared.clearing_price is not None else "none"
        click.echo(f"auction {cleared.id} {cleared.status}: {cleared.sold} sold at {price}")


@auction.command("settle", help="Settle AUCTION_ID through the ledger; a repeat moves nothing.")
@click.argument("auction_id", type=cli.ID)
@cli.AS_USER
@cli.reports_errors
def auction_settle(auction_id: int, as_user: str | None) -> None:
    from allocation import auctions

    with cli.session() as session:
        summary = auctions.settle(session, cli.acting_user(session, as_user), auction_id)
    click.echo(
        f"settled {summary.settled} bid(s), {summary.units} units, {summary.amount_due} CNY "
        f"due; {summary.already_settled} were settled before"
    )


for _command in RESERVE_COMMANDS:
    allocation.add_command(_command)
