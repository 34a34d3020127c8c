"""The installed ``carbon-market`` console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.auth.passwords import verify_password

SCRIPT = Path(sys.executable).parent / "carbon-market"


@pytest.fixture
def script_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CARBON_", "SECRET_KEY"))
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    env["CARBON_MARKET_INSTANCE"] = str(tmp_path / "instance")
    return env


def run_script(env, *args, stdin=""):
    return subprocess.run(
        [str(SCRIPT), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


def test_console_script_migrates_a_fresh_database_and_creates_a_user_from_stdin(
    script_env, tmp_path
):
    assert SCRIPT.is_file(), "the carbon-market entry point is not installed in the venv"

    upgraded = run_script(script_env, "db", "upgrade")
    created = run_script(
        script_env, "users", "create", "first", "--role", "regulator", stdin="first-password-1\n"
    )

    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == "database at head"
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created user first (regulator)"
    engine = create_engine(script_env["DATABASE_URL"])
    with engine.connect() as conn:
        role, password_hash = conn.execute(
            select(User.role, User.password_hash).where(User.name == "first")
        ).one()
    engine.dispose()
    assert role is Role.REGULATOR
    assert verify_password(password_hash, "first-password-1")
    # With no SECRET_KEY in the environment the CLI generated one in the instance folder.
    assert (tmp_path / "instance" / "secret_key").is_file()


def test_the_command_line_does_not_load_the_web_layer_migrations_or_pandas_to_start():
    # Every run of the CLI paid ~1.2 s for Flask, every blueprint, Alembic, pandas and an
    # argon2 hash made at import time, before doing anything; the commands that need them
    # import them themselves.
    heavy = (
        "carbon_market.entrypoints.app",
        "flask",
        "alembic",
        "pandas",
        "carbon_market.entrypoints.models",
    )
    probe = (
        "import sys, carbon_market.entrypoints.cli, carbon_market.kernel.auth.passwords as p; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules)); "
        "print(p.dummy_hash.cache_info().currsize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split("\n")[:2] == ["[]", "0"]


def test_a_command_in_its_own_process_has_every_model_mapped(script_env):
    # The CLI no longer imports the app, which registered every model. A command's session
    # must still know them all, or a query reaching a relationship whose target was never
    # imported fails at run time: a command's first session (kernel.cli.session) maps them all.
    import carbon_market.entrypoints.models  # noqa: F401  (the whole schema, in this process)
    from carbon_market.kernel.db import Base

    probe = (
        "from sqlalchemy.orm import configure_mappers; import carbon_market.entrypoints.cli; "
        "from carbon_market.kernel.cli import session as _session; "
        "from carbon_market.kernel.db import Base\n"
        "with _session():\n    configure_mappers(); print(len(Base.metadata.tables))"
    )
    assert run_script(script_env, "db", "upgrade").returncode == 0

    done = subprocess.run(
        [sys.executable, "-c", probe], env=script_env, capture_output=True, text=True, timeout=120
    )
    verified = run_script(script_env, "ledger", "verify")

    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(Base.metadata.tables)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ledger verified: 0 transactions")
