"""``carbon-market db``: the database schema (Alembic migrations)."""

from __future__ import annotations

import sys

import click

from carbon_market.kernel import cli
from carbon_market.kernel.db import make_engine


@click.group(help="Database schema (Alembic migrations).")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate the database to REVISION (default: the newest).")
@click.argument("revision", default="head")
@cli.reports_errors
def db_upgrade(revision: str) -> None:
    from carbon_market.kernel import migrate

    migrate.upgrade(cli.config().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade", help="Migrate the database back to REVISION ('base' empties it).")
@click.argument("revision")
@cli.reports_errors
def db_downgrade(revision: str) -> None:
    from carbon_market.kernel import migrate

    migrate.downgrade(cli.config().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("current", help="Show the database's revision and the newest one.")
@cli.reports_errors
def db_current() -> None:
    from carbon_market.kernel import migrate

    config = cli.config()
    engine = make_engine(config.database_url)
    current = migrate.current_revisions(engine)
    engine.dispose()
    heads = migrate.head_revisions(config.database_url)
    click.echo(f"current: {', '.join(sorted(current)) or '(empty)'}")
    click.echo(f"head:    {', '.join(sorted(heads))}")
    if current != heads:
        sys.exit(1)
