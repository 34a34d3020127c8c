"""``carbon-market trades``: the exchange's end-of-day file and the T+1 settlement run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from carbon_market.kernel import cli


@click.group(help="Trades: the exchange's end-of-day file and the T+1 settlement run.")
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
@cli.reports_errors
def trades_import(file: Path, as_user: str | None) -> None:
    from carbon_market.trading.intake import trade_file as trade_bulk

    with file.open("rb") as fh:
        table = trade_bulk.read_table(fh, file.name)
    with cli.session() as session:
        actor = cli.acting_user(session, as_user)
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
@cli.reports_errors
def trades_settle_due() -> None:
    from carbon_market.trading.service import settle_due

    with cli.session() as session:
        result = settle_due(session, cli.system_actor())
    click.echo(f"settled {result['settled']} trades, rejected {result['rejected']}")
