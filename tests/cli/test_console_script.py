"""The installed ``carbon-market`` console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from carbon_market.auth.models import User
from carbon_market.auth.passwords import verify_password
from carbon_market.auth.roles import Role

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
