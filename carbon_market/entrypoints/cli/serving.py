"""``carbon-market quickstart`` and ``serve``: set up and serve the platform."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel import cli
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.db import make_engine


def _has_regulator(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.role == Role.REGULATOR).limit(1)) is not None


@click.command(
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
@cli.reports_errors
def quickstart(ctx: click.Context, regulator_name: str, host: str, port: int) -> None:
    from carbon_market.kernel import migrate

    config = cli.config()
    migrate.upgrade(config.database_url)
    click.echo(f"database ready: {config.database_url}")
    with cli.session() as session:
        if not _has_regulator(session):
            click.echo(f"creating the first regulator, {regulator_name!r}")
            auth_service.create_user(
                session,
                cli.system_actor(),
                name=regulator_name,
                role=Role.REGULATOR,
                password=cli.read_password(),
            )
    click.echo('log in: POST /api/v1/auth/login {"name": ..., "password": ...}')
    ctx.invoke(serve, host=host, port=port, workers=2)


@click.command(help="Serve the platform with gunicorn (bound to 127.0.0.1 unless told).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@cli.reports_errors
def serve(host: str, port: int, workers: int) -> None:
    from carbon_market.entrypoints.server import run_gunicorn
    from carbon_market.kernel import migrate

    config = cli.config()
    engine = make_engine(config.database_url)
    at_head = migrate.is_at_head(engine)
    engine.dispose()
    if not at_head:
        cli.fail("the database is not at the newest migration; run 'carbon-market db upgrade'")
    click.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    run_gunicorn(f"{host}:{port}", workers)
