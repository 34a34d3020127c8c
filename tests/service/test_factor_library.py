"""The emission factor library service: versions, all-errors validation, files, freezing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.emitters.importing import UnreadableFile
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import PermissionDenied, RuleViolation, ValidationFailed
from carbon_market.kernel.pagination import PageRequest
from carbon_market.mrv.calculator.emissions import calculate, parse_request, result_as_json
from carbon_market.mrv.calculator.factor_sets import FactorLibrary, default_library
from carbon_market.mrv.factors import library as lib
from carbon_market.mrv.factors.models import EmissionFactor, EmissionFactorSet, FactorSetStatus
from carbon_market.mrv.factors.schemas import FactorRowSchema
from tests.factories import make_enterprise, make_user
from tests.factories.factors import small_rows, small_set

#: The issue's example input (issue 5, item 6).
EXAMPLE: dict[str, Any] = {
    "year": 2025,
    "streams": [
        {"kind": "fuel", "fuel": "natural_gas", "quantity": "1000", "unit": "10^4 Nm3"},
        {
            "kind": "fuel",
            "fuel": "raw_coal",
            "quantity": "5000",
            "unit": "t",
            "factors": {"ncv": "20.908", "carbon_content": "0.02618", "oxidation_rate": "0.94"},
            "pollutants": {"so2": "8.5", "nox": "4.2"},
        },
        {"kind": "electricity", "quantity": "10000", "unit": "MWh"},
        {"kind": "heat", "quantity": "50000", "unit": "GJ", "factors": {"heat": "0.11"}},
        {"kind": "process", "activity": "limestone", "quantity": "200", "unit": "t"},
    ],
}


@pytest.fixture
def regulator_actor(session: Session, regulator: Any) -> Actor:
    return actor_for(regulator)


def _create(session: Session, actor: Actor, **overrides: Any) -> EmissionFactorSet:
    body = small_set(**overrides)
    body["rows"] = [FactorRowSchema().load(row) for row in body["rows"]]
    return lib.create_factor_set(session, actor, **body)


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(EmissionFactorSet)) or 0,
        session.scalar(select(func.count()).select_from(EmissionFactor)) or 0,
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def _seeded(session: Session) -> EmissionFactorSet:
    found = session.scalar(select(EmissionFactorSet).where(EmissionFactorSet.name == "cn-default"))
    assert found is not None
    return found


def test_the_migration_seeds_cn_default_version_1_published_and_not_frozen(session: Session):
    seeded = _seeded(session)
    assert (seeded.version, seeded.status, seeded.is_frozen) == (1, "published", False)


def test_a_new_set_is_version_1_and_the_same_name_again_makes_version_2(
    session: Session, regulator_actor: Actor
):
    first = _create(session, regulator_actor)
    second = _create(session, regulator_actor)
    assert (first.name, first.version, second.version) == ("bj-test", 1, 2)
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "emission_factor_set")
    )
    assert list(events) == ["factor_set:create", "factor_set:create"]


def test_a_new_version_of_a_frozen_set_leaves_the_frozen_version_unchanged(
    session: Session, regulator_actor: Actor
):
    seeded = _seeded(session)
    lib.freeze_factor_set(session, regulator_actor, seeded.id)
    before = lib.export_factor_set(session, regulator_actor, seeded.id, fmt="csv").content
    rows = [FactorRowSchema().load(r) for r in small_rows(ncv="43.000")]
    newer = lib.create_factor_set(
        session, regulator_actor, name="cn-default", jurisdiction="CN",
        first_year=2022, last_year=2026, rows=rows,
    )  # fmt: skip
    assert newer.version == 2
    session.expire_all()
    old = lib.get_factor_set(session, regulator_actor, seeded.id)
    assert old.is_frozen
    assert len(old.factors) == 45
    assert lib.export_factor_set(session, regulator_actor, seeded.id, fmt="csv").content == before


def test_every_bad_row_is_reported_at_once_and_nothing_is_stored(
    session: Session, regulator_actor: Actor
):
    rows = [FactorRowSchema().load(r) for r in small_rows()]
    rows[9]["unit"] = "tCO2/kg"  # not a base unit (the process row, index 8 after the del)
    rows[2]["value"] = Decimal("1.5")  # an oxidation rate above 1
    rows[4]["unit"] = "kg/10^4 Nm3"  # diesel is measured in t
    rows.append(dict(rows[7]))  # the grid factor twice
    del rows[8]  # no heat factor
    before = _counts(session)
    with pytest.raises(ValidationFailed) as info:
        lib.create_factor_set(
            session, regulator_actor, name="bad", jurisdiction="CN",
            first_year=2025, last_year=2024, rows=rows,
        )  # fmt: skip
    pointers = {e.pointer for e in info.value.errors}
    assert pointers == {
        "#/last_year",
        "#/rows/8/unit",
        "#/rows/2/value",
        "#/rows/4/unit",
        "#/rows/9/parameter",
        "#/rows",
    }
    assert _counts(session) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_a_new_version_with_the_same_values(
    session: Session, regulator_actor: Actor, fmt: str
):
    seeded = _seeded(session)
    exported = lib.export_factor_set(session, regulator_actor, seeded.id, fmt=fmt)
    imported = lib.import_factor_set(
        session, regulator_actor, data=exported.content, filename=exported.filename
    )
    assert (imported.name, imported.version) == ("cn-default", 2)
    assert lib.factor_set_for(session, year=2025, name="cn-default", version=2) == (
        default_library().by_name("cn-default")
    )


def test_import_reports_every_bad_cell_with_its_spreadsheet_row_and_stores_nothing(
    session: Session, regulator_actor: Actor
):
    seeded = _seeded(session)
    text = lib.export_factor_set(session, regulator_actor, seeded.id, fmt="csv").content.decode()
    lines = text.splitlines()
    lines[1] = lines[1].replace(",389.31,", ",abc,")  # row 2: natural gas NCV
    lines[3] = lines[3].replace("cn-default,CN", "cn-default,US")  # row 4: another jurisdiction
    before = _counts(session)
    with pytest.raises(ValidationFailed) as info:
        lib.import_factor_set(
            session, regulator_actor, data="\n".join(lines).encode(), filename="f.csv"
        )
    assert {(e.pointer, e.row) for e in info.value.errors} >= {
        ("#/rows/2/value", 2),
        ("#/rows/4/jurisdiction", 4),
    }
    assert _counts(session) == before


def test_an_unreadable_import_file_is_refused(session: Session, regulator_actor: Actor):
    with pytest.raises(UnreadableFile):
        lib.import_factor_set(
            session, regulator_actor, data=b"PK\x03\x04garbage", filename="f.xlsx"
        )


@pytest.mark.parametrize(
    "role", [Role.ENTERPRISE, Role.VERIFIER, Role.FINANCE_OFFICER, Role.AUDITOR]
)
def test_non_regulators_may_read_but_not_create_freeze_or_import(session: Session, role: Role):
    enterprise = make_enterprise(session) if role is Role.ENTERPRISE else None
    actor = actor_for(make_user(session, role=role, enterprise=enterprise))
    seeded = _seeded(session)
    assert lib.get_factor_set(session, actor, seeded.id).version == 1
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        _create(session, actor)
    with pytest.raises(PermissionDenied):
        lib.freeze_factor_set(session, actor, seeded.id)
    with pytest.raises(PermissionDenied):
        lib.import_factor_set(session, actor, data=b"", filename="f.csv")
    assert _counts(session) == before
    assert not _seeded(session).is_frozen


def test_freezing_is_idempotent_and_a_draft_cannot_be_frozen(
    session: Session, regulator_actor: Actor
):
    seeded = _seeded(session)
    lib.freeze_factor_set(session, regulator_actor, seeded.id)
    lib.freeze_factor_set(session, regulator_actor, seeded.id)
    freezes = session.scalar(select(func.count()).where(AuditEvent.action == "factor_set:freeze"))
    assert freezes == 1
    draft = _create(session, regulator_actor, status=FactorSetStatus.DRAFT)
    with pytest.raises(RuleViolation):
        lib.freeze_factor_set(session, regulator_actor, draft.id)


def test_a_draft_is_never_the_default_until_it_is_published(
    session: Session, regulator_actor: Actor
):
    draft = _create(session, regulator_actor, status=FactorSetStatus.DRAFT)
    assert lib.factor_set_for(session, year=2025).name == "cn-default"
    lib.publish_factor_set(session, regulator_actor, draft.id)
    assert lib.factor_set_for(session, year=2025).name == "bj-test"
    assert lib.factor_set_for(session, year=2022).name == "cn-default"  # bj-test starts in 2025


def test_no_published_set_for_the_year_is_a_validation_error(session: Session):
    with pytest.raises(ValidationFailed) as info:
        lib.factor_set_for(session, year=2030)
    assert [e.pointer for e in info.value.errors] == ["#/year"]


def test_list_filters_by_name_and_year(session: Session, regulator_actor: Actor):
    _create(session, regulator_actor)
    page = PageRequest()
    by_year = lib.list_factor_sets(
        session, regulator_actor, filters=lib.FactorSetFilter(year=2023), page=page
    )
    assert [s.name for s in by_year.items] == ["cn-default"]
    by_name = lib.list_factor_sets(
        session, regulator_actor, filters=lib.FactorSetFilter(name="bj-test"), page=page
    )
    assert [(s.name, s.version) for s in by_name.items] == [("bj-test", 1)]


def test_the_database_default_set_calculates_the_issue_example_as_the_packaged_set(
    session: Session,
):
    # Same input, same formulas: the stored cn-default must give the packaged set's breakdown.
    stored = lib.factor_set_for(session, year=2025)
    from_db = calculate(parse_request(EXAMPLE, FactorLibrary((stored,))))
    packaged = calculate(parse_request(EXAMPLE, default_library()))
    assert _exact(result_as_json(from_db)) == _exact(result_as_json(packaged))


def _exact(value: Any) -> Any:
    """Decimal strings as Decimals: a stored factor reads back as 0.44 where the file says
    0.440, the same number."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value
