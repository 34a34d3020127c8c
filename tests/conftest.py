"""Test fixtures: one fresh database per test, on SQLite (default) or PostgreSQL.

``DATABASE_URL=postgresql+psycopg://...`` runs the suite on PostgreSQL: each xdist worker gets
its own database (``<name>_<worker>``), migrated once; every test commits for real and the
tables are emptied afterwards (the catalogues excepted). Otherwise, SQLite: a template
database is migrated once per worker and copied for each test, so triggers and constraints
come from the migrations and commits are real.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from carbon_market import create_app
from carbon_market.entrypoints.features import wire
from carbon_market.kernel import migrate
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.clock import FixedClock
from carbon_market.kernel.config import Config
from carbon_market.kernel.db import Base
from tests.factories import bind_factories, make_user

# The features subscribe to each other's events once per process, as every entry point does
# before its first unit of work: services called straight from a test publish them too.
wire()

PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
#: Catalogue tables are seeded by the migration and kept between tests.
KEPT_TABLES = {
    "alembic_version",
    "sector",
    "district",
    "unit_kind",
    "ledger_chain_head",
    "emission_factor_set",
    "emission_factor",
    "finance_subsector",
}
#: The factor set the migration seeds; tests' own sets are deleted after each test.
SEEDED_BY = "migration:0003"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def database_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A migrated database: a file to copy (SQLite) or the worker's database (PostgreSQL)."""
    worker = _worker_id(request)
    if ON_POSTGRES:
        base = make_url(PG_URL)
        url = base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)
        migrate.create_postgres_database(url)
        migrate.upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    # Fold the WAL back into the main file so that a plain copy carries everything.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return str(path)


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    emptied = [t for t in Base.metadata.sorted_tables if t.name not in KEPT_TABLES]
    with engine.begin() as conn:
        government = (
            conn.execute(
                text(
                    "SELECT number, kind, holder_name, status, opened_at FROM account "
                    "WHERE enterprise_id IS NULL AND number LIKE 'BJ__0000000001__'"
                )
            )
            .mappings()
            .all()
        )
        # DELETE, not TRUNCATE: on tables this small TRUNCATE's fixed cost per table made
        # the reset 1 s a test, DELETE takes 0.05 s. Replica mode skips the triggers that
        # guard the audit log and the postings, and the foreign-key triggers with them, so
        # the order of the tables does not matter.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in emptied:
            conn.execute(table.delete())
        # RESTART IDENTITY's part: the used sequences of the emptied tables start again.
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', s.schemaname, s.sequencename), s.start_value, "
                "false) FROM pg_sequences s "
                "JOIN pg_class seq ON seq.relname = s.sequencename AND seq.relkind = 'S' "
                "JOIN pg_depend d ON d.objid = seq.oid AND d.deptype IN ('a', 'i') "
                "JOIN pg_class owner ON owner.oid = d.refobjid "
                "WHERE s.last_value IS NOT NULL AND owner.relname = ANY(:tables)"
            ),
            {"tables": [table.name for table in emptied]},
        )
        conn.execute(
            text(
                "DELETE FROM sector WHERE code NOT IN ("
                "'power','heat','cement','petrochemical','other_industry',"
                "'services','transport')"
            )
        )
        conn.execute(
            text(
                "DELETE FROM unit_kind WHERE code NOT IN "
                "('allowance','ccer','local_offset','ccer_outside')"
            )
        )
        conn.execute(text("UPDATE unit_kind SET validity_years = NULL"))
        conn.execute(
            text(
                "DELETE FROM finance_subsector WHERE code NOT IN ("
                "'renewable_energy','energy_efficiency','green_building','clean_transport',"
                "'carbon_sink','low_carbon_industry','waste_management','climate_resilience')"
            )
        )
        conn.execute(
            text("UPDATE ledger_chain_head SET seq = (id - 1) * :span, hash = :genesis"),
            {"genesis": "0" * 64, "span": 10**15},
        )
        _reset_factor_library(conn)
        # The government's accounts come from the migration; put them back as they were.
        conn.execute(
            text(
                "INSERT INTO account (number, kind, holder_name, status, opened_at) "
                "VALUES (:number, :kind, :holder_name, :status, :opened_at)"
            ),
            [dict(row) for row in government],
        )
    engine.dispose()


def _reset_factor_library(conn: Any) -> None:
    """Back to the seeded cn-default set: the sets tests made go, the seeded one thaws."""
    seeded = {"seeded": SEEDED_BY}
    conn.execute(
        text(
            "DELETE FROM emission_factor WHERE set_id IN "
            "(SELECT id FROM emission_factor_set WHERE created_by <> :seeded)"
        ),
        seeded,
    )
    conn.execute(text("DELETE FROM emission_factor_set WHERE created_by <> :seeded"), seeded)
    conn.execute(
        text(
            "UPDATE emission_factor_set SET is_frozen = false, frozen_at = NULL, "
            "status = 'published'"
        )
    )


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if ON_POSTGRES:
        yield database_template
        _truncate_pg(database_template)
        return
    path = tmp_path / "test.db"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def clock() -> FixedClock:
    # 2026-06-01 10:00 in Beijing: a working day of the compliance year.
    return FixedClock(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        env="testing",
        instance_path=tmp_path / "instance",
    )


@pytest.fixture
def app(config: Config, clock: FixedClock) -> Iterator[Flask]:
    app = create_app(config, clock=clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["carbon_market.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["carbon_market.session_factory"]() as session:
        bind_factories(session)
        yield session


@pytest.fixture
def system() -> Actor:
    return Actor.system(name="system:test", request_id="test")


@dataclass
class AuthActions:
    """Log users in for API tests: ``auth.headers(user)`` gives a Bearer header."""

    session: Session

    def headers(self, user: Any) -> dict[str, str]:
        _record, token = auth_service.issue_token(
            self.session, Actor.system(), user_name=user.name, ttl_days=1
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(session: Session) -> AuthActions:
    return AuthActions(session)


@pytest.fixture
def regulator(session: Session) -> Any:
    return make_user(session, role=Role.REGULATOR, name="regulator")


@pytest.fixture
def auditor(session: Session) -> Any:
    return make_user(session, role=Role.AUDITOR, name="auditor")


@pytest.fixture
def actor_of() -> Callable[[Any], Actor]:
    return auth_service.actor_for
