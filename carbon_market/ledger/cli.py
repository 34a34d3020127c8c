"""``carbon-market ledger``: verify the ledger, and run what is due by hand."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from carbon_market.kernel import cli
from carbon_market.ledger.models import LedgerTransaction


@click.group(help="The registry ledger.")
def ledger() -> None:
    pass


@ledger.command(
    "verify",
    help="Recompute every holding from postings, check that every "
    "transaction balances, and walk the hash chain. Exits 1 naming the first "
    "bad transaction.",
)
@cli.reports_errors
def ledger_verify() -> None:
    from carbon_market.ledger.verify import verify_ledger

    with cli.session() as session:
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
@cli.reports_errors
def ledger_run_due() -> None:
    from carbon_market.ledger.transactions import run_due

    with cli.session() as session:
        result = run_due(session, cli.system_actor())
    click.echo(
        f"released {result['released']} delayed and expired {result['expired']} pending transfers"
    )
