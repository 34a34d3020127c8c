"""Run the ``carbon-market`` command line in-process against the test's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from carbon_market.entrypoints.cli import main
from carbon_market.kernel.db import make_engine, make_session_factory


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str | None]:
    return {
        "DATABASE_URL": database_url,
        "CARBON_MARKET_INSTANCE": str(tmp_path),
        # Whatever the developer's shell says, the tests name the acting user themselves.
        "CARBON_MARKET_USER": None,
    }


@pytest.fixture
def run_cli(cli_env: dict[str, str | None]) -> Callable[..., Result]:
    """``run_cli("users", "create", ..., input="...")``; stderr is kept apart (click 8.2+)."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, env=cli_env)

    return run


@pytest.fixture
def fresh_session(database_url: str) -> Callable[[], AbstractContextManager[Session]]:
    """A session on its own engine and the system clock, to see what the CLI committed."""

    @contextmanager
    def open_session() -> Iterator[Session]:
        engine = make_engine(database_url)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()

    return open_session
