"""The schema is made only by migrations, and the migrations make exactly the models' schema.

Runs on whichever database the suite runs on: SQLite by default, PostgreSQL when
DATABASE_URL points there (CI runs both).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, make_url, text

import carbon_market.entrypoints.models  # noqa: F401  (registers every table)
from carbon_market.kernel import migrate
from carbon_market.kernel.db import Base, make_engine
from tests.conftest import ON_POSTGRES, PG_URL


@pytest.fixture
def empty_database(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    base = make_url(PG_URL)
    url = base.set(database=f"{base.database}_mig_{worker}").render_as_string(hide_password=False)
    migrate.create_postgres_database(url)
    yield url
    migrate.drop_postgres_database(url)


def _schema_differences(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(diffs)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_from_empty_gives_exactly_the_models_schema(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _schema_differences(empty_database) == []
    assert _tables(empty_database) == set(Base.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_removes_every_table_and_upgrade_again_restores_them(
    empty_database: str,
) -> None:
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert _schema_differences(empty_database) == []


def test_upgrade_seeds_the_sector_and_district_catalogues(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        sectors = set(conn.execute(text("SELECT code FROM sector")).scalars())
        districts = set(conn.execute(text("SELECT code FROM district")).scalars())
    engine.dispose()
    assert sectors == {
        "power",
        "heat",
        "cement",
        "petrochemical",
        "other_industry",
        "services",
        "transport",
    }
    assert len(districts) == 17
    assert {"dongcheng", "yanqing", "bda"} <= districts


def test_readiness_reports_a_database_behind_head_as_not_at_head(empty_database: str) -> None:
    engine = make_engine(empty_database)
    assert not migrate.is_at_head(engine)
    migrate.upgrade(empty_database)
    assert migrate.is_at_head(engine)
    engine.dispose()


def test_every_revision_has_a_downgrade_that_runs(empty_database: str) -> None:
    # Walk up one revision at a time and back down one at a time, so that a later revision's
    # downgrade is exercised against exactly the schema its upgrade produced.
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(empty_database))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        migrate.upgrade(empty_database, revision)
    for _ in revisions:
        migrate.downgrade(empty_database, "-1")
    assert _tables(empty_database) <= {"alembic_version"}


def test_upgrade_seeds_the_packaged_cn_default_factor_set_exactly(empty_database: str) -> None:
    # The migration inlines the rows; a changed data file needs a new revision (a new version).
    from carbon_market.mrv.calculator.factor_sets import default_library
    from carbon_market.mrv.factors.rows import SetHeader, read_factor_file, to_factor_set

    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        header = conn.execute(
            text(
                "SELECT name, jurisdiction, first_year, last_year, version, status, is_frozen "
                "FROM emission_factor_set"
            )
        ).one()
        rows = conn.execute(
            text("SELECT category, code, parameter, value, unit, source FROM emission_factor")
        ).all()
    engine.dispose()
    assert tuple(header[4:]) == (1, "published", False)
    csv_text = "set,jurisdiction,first_year,last_year,category,code,parameter,value,unit,source\n"
    lines = [[*header[:4], c, code, p, _unscaled(v), u, s] for c, code, p, v, u, s in rows]
    data = (csv_text + "".join(_csv_line(line) for line in lines)).encode()
    parsed = read_factor_file(data, "seed.csv")
    assert parsed.errors == []
    seeded = to_factor_set(SetHeader(*header[:4]), [row for _, row in parsed.rows])
    assert seeded == default_library().by_name("cn-default")
    assert dict(seeded.sources) == dict(default_library().by_name("cn-default").sources)


def _unscaled(value: int) -> str:
    """The stored integer (ScaledDecimal(6)) as the decimal it stands for."""
    from decimal import Decimal

    return format(Decimal(value).scaleb(-6), "f")


def _csv_line(cells: list[object]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def test_upgrade_seeds_the_climate_finance_subsector_catalogue(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, label_zh, is_active FROM finance_subsector")).all()
    engine.dispose()
    codes = {code for code, _, _ in rows}
    assert {
        "renewable_energy",
        "energy_efficiency",
        "green_building",
        "clean_transport",
        "carbon_sink",
        "low_carbon_industry",
    } <= codes
    assert all(label and active for _, label, active in rows)
