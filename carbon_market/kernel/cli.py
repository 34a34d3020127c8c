"""What every ``carbon-market`` command stands on: sessions, the acting user, one-line errors.

The commands are thin callers of the same services as the API. Each feature keeps its own
command group (its ``cli.py``, named in its manifest) and builds it from the pieces here; the
entry point (``carbon_market.entrypoints.cli``) gathers the groups under ``carbon-market``.

Bootstrap commands (``db``, ``users create``, ``tokens create``) act as the system operator:
whoever can run them already holds the database credentials (:func:`system_actor`). Domain
commands act as a named user (``--as NAME`` or ``CARBON_MARKET_USER``, :data:`AS_USER`) and
obey that user's role, as the API would (:func:`acting_user`). Errors print one line,
``error: <title>: <detail>``, to stderr and exit 1 (:func:`reports_errors`).

Heavy modules (Alembic, pandas, the web layer) are imported inside the commands that use
them, so that every command starts in well under a second.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.config import Config, ConfigError, load_config
from carbon_market.kernel.db import make_engine, make_session_factory
from carbon_market.kernel.errors import DomainError, NotFound
from carbon_market.kernel.events import Hook
from carbon_market.kernel.types import MAX_ID

P = ParamSpec("P")
R = TypeVar("R")

#: A row id as the database stores it: a larger number is a usage error (exit 2), not an
#: overflow in the driver.
ID = click.IntRange(1, MAX_ID)
#: A year or vintage (the columns are 32-bit on PostgreSQL; the services check the range
#: that makes sense).
YEAR = click.IntRange(1, 9999)

AS_USER = click.option(
    "--as",
    "as_user",
    envvar="CARBON_MARKET_USER",
    help="The user to act as (a regulator); or set CARBON_MARKET_USER.",
)

#: Readies the process for a command's first session: every model mapped (a query may reach
#: any relationship) and the features wired to each other's events. The entry point answers
#: it (``carbon_market.entrypoints.cli``); a feature's commands cannot import the entry point.
prepare: Hook[Callable[[], None]] = Hook("ready the process for a command's first session")


def fail(message: str) -> None:
    """Print ``error: <message>`` on stderr and exit 1."""
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
            fail(f"configuration: {exc}")
            raise AssertionError("unreachable") from exc

    return wrapper


def config() -> Config:
    return load_config()


@contextmanager
def sessions() -> Iterator[sessionmaker[Session]]:
    """A session factory on the configured database, for the time of a command (a job run or
    the scheduler open several sessions); the engine is disposed of afterwards."""
    prepare.get()()
    settings = config()
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine, config=settings)
    finally:
        engine.dispose()


@contextmanager
def session() -> Iterator[Session]:
    """One session for a command: its services are the units of work."""
    with sessions() as factory, factory() as opened:
        yield opened


def request_id() -> str:
    return f"cli-{uuid.uuid4().hex[:16]}"


def system_actor() -> Actor:
    """The system operator at the machine, named after the login user."""
    return Actor.system(name=f"system:{os.environ.get('USER', 'cli')}", request_id=request_id())


def acting_user(session: Session, name: str | None) -> Actor:
    """The active user ``name`` (``--as``), as the actor of a domain command."""
    from carbon_market.kernel.auth.models import User
    from carbon_market.kernel.auth.service import actor_for

    if not name:
        raise click.UsageError("name the user to act as with --as NAME or CARBON_MARKET_USER")
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not user.is_active:
        raise NotFound(f"no active user named {name!r}")
    return actor_for(user, request_id())


def read_password() -> str:
    """Prompted for twice on a terminal; otherwise the first line of stdin."""
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")
