"""The ``carbon-market`` command line: users, tokens, imports and the database commands."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.entrypoints.cli import main
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.auth.passwords import verify_password
from carbon_market.kernel.errors import NotAuthenticated
from tests.factories import credit_code, make_enterprise, make_user

PASSWORD = "a-long-enough-password"


def assert_failed_cleanly(result, first_line_start="error: "):
    """Exit 1 through ``sys.exit`` (not a crash) with one ``error:`` line first on stderr."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.splitlines()[0].startswith(first_line_start), result.stderr
    assert result.stdout == ""


def count(fresh_session, model):
    with fresh_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def write_csv(path, header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# --- users create -------------------------------------------------------------------------


def test_users_create_reads_the_password_from_stdin_and_creates_a_regulator(run_cli, fresh_session):
    result = run_cli("users", "create", "alice", "--role", "regulator", input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created user alice (regulator)"
    with fresh_session() as session:
        user = session.scalar(select(User).where(User.name == "alice"))
    assert user.role is Role.REGULATOR
    assert user.enterprise_id is None
    assert verify_password(user.password_hash, PASSWORD)


def test_users_create_uses_only_the_first_line_of_stdin_without_its_line_ending(
    run_cli, fresh_session
):
    result = run_cli(
        "users", "create", "bob", "--role", "auditor", input=PASSWORD + "\r\nsecond line\n"
    )

    assert result.exit_code == 0, result.output
    with fresh_session() as session:
        user = session.scalar(select(User).where(User.name == "bob"))
    assert verify_password(user.password_hash, PASSWORD)


def test_users_create_binds_an_enterprise_user_by_credit_code_with_both_capabilities(
    run_cli, session, fresh_session
):
    enterprise = make_enterprise(session)

    result = run_cli(
        "users",
        "create",
        "ent-user",
        "--role",
        "enterprise",
        "--enterprise",
        enterprise.credit_code,
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    with fresh_session() as session:
        user = session.scalar(select(User).where(User.name == "ent-user"))
    assert user.enterprise_id == enterprise.id
    assert (user.can_initiate, user.can_approve) == (True, True)


def test_users_create_no_initiator_creates_an_approver_only_enterprise_user(
    run_cli, session, fresh_session
):
    enterprise = make_enterprise(session)

    result = run_cli(
        "users",
        "create",
        "approver",
        "--role",
        "enterprise",
        "--enterprise",
        enterprise.credit_code,
        "--no-initiator",
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    with fresh_session() as session:
        user = session.scalar(select(User).where(User.name == "approver"))
    assert (user.can_initiate, user.can_approve) == (False, True)


def test_users_create_for_an_enterprise_user_without_enterprise_fails_and_creates_nobody(
    run_cli, fresh_session
):
    result = run_cli("users", "create", "orphan", "--role", "enterprise", input=PASSWORD + "\n")

    assert_failed_cleanly(result, "error: Validation failed: ")
    assert "#/enterprise: required for role enterprise" in result.stderr
    assert count(fresh_session, User) == 0


def test_users_create_with_a_short_password_fails_and_creates_nobody(run_cli, fresh_session):
    result = run_cli("users", "create", "carol", "--role", "regulator", input="short\n")

    assert_failed_cleanly(result, "error: Validation failed: password too short")
    assert count(fresh_session, User) == 0


def test_users_create_refuses_an_unknown_role_with_a_usage_error(run_cli, fresh_session):
    result = run_cli("users", "create", "dave", "--role", "emperor", input=PASSWORD + "\n")

    assert result.exit_code == 2
    assert "emperor" in result.stderr
    assert count(fresh_session, User) == 0


# --- tokens create ------------------------------------------------------------------------


def test_tokens_create_prints_a_token_that_authenticates_as_the_user(
    run_cli, session, fresh_session
):
    user = make_user(session, role=Role.AUDITOR, name="tok-user")

    result = run_cli("tokens", "create", "tok-user", "--days", "7")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("cm_")
    assert len(result.stdout.splitlines()) == 1
    with fresh_session() as fresh:
        actor = auth_service.authenticate(fresh, token)
    assert (actor.name, actor.user_id, actor.role) == ("tok-user", user.id, Role.AUDITOR)


def test_tokens_create_for_an_unknown_user_fails_with_not_found(run_cli):
    result = run_cli("tokens", "create", "nobody")

    assert_failed_cleanly(result, "error: Not found: no user named 'nobody'")


def test_tokens_revoke_stops_a_token_from_authenticating(run_cli, session, fresh_session):
    make_user(session, role=Role.AUDITOR, name="revoked-user")
    token = run_cli("tokens", "create", "revoked-user").stdout.strip()
    with fresh_session() as fresh:
        token_id = auth_service.list_tokens(fresh, auth_service.authenticate(fresh, token))[0].id

    result = run_cli("tokens", "revoke", str(token_id))

    assert result.exit_code == 0, result.output
    with fresh_session() as fresh, pytest.raises(NotAuthenticated, match="revoked"):
        auth_service.authenticate(fresh, token)


# --- import -------------------------------------------------------------------------------

ENTERPRISE_HEADER = ["credit_code", "name", "sector", "district", "contact_name"]


@pytest.fixture
def importer(session):
    return make_user(session, role=Role.REGULATOR, name="importer")


def test_import_enterprises_as_a_regulator_imports_the_csv_and_prints_the_counts(
    run_cli, importer, tmp_path, fresh_session
):
    codes = [credit_code() for _ in range(3)]
    file = write_csv(
        tmp_path / "enterprises.csv",
        ENTERPRISE_HEADER,
        [[code, f"企业{i}", "power", "haidian", "王工"] for i, code in enumerate(codes)],
    )

    result = run_cli("import", "enterprises", str(file), "--as", "importer")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 3 enterprises and 0 facilities"
    with fresh_session() as session:
        assert set(session.scalars(select(Enterprise.credit_code))) == set(codes)


def test_import_enterprises_with_a_facilities_file_imports_both_in_one_run(
    run_cli, importer, tmp_path, fresh_session
):
    code = credit_code()
    enterprises = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[code, "甲", "heat", "tongzhou", ""]]
    )
    facilities = write_csv(
        tmp_path / "f.csv",
        ["credit_code", "name", "facility_type", "capacity", "capacity_unit"],
        [[code, "1号锅炉", "boiler", "58", "MWth"], [code, "2号锅炉", "boiler", "", ""]],
    )

    result = run_cli(
        "import",
        "enterprises",
        str(enterprises),
        "--facilities",
        str(facilities),
        "--as",
        "importer",
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 1 enterprises and 2 facilities"
    assert count(fresh_session, Facility) == 2


def test_import_facilities_adds_facilities_to_a_registered_enterprise(
    run_cli, importer, session, tmp_path, fresh_session
):
    enterprise = make_enterprise(session)
    file = write_csv(
        tmp_path / "f.csv",
        ["credit_code", "name", "facility_type"],
        [[enterprise.credit_code, "1号机组", "gas_unit"]],
    )

    result = run_cli("import", "facilities", str(file), "--as", "importer")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 0 enterprises and 1 facilities"
    with fresh_session() as fresh:
        assert fresh.scalar(select(Facility.enterprise_id)) == enterprise.id


def test_import_facilities_takes_category_and_cooling_and_refuses_unknown_ones(
    run_cli, importer, session, tmp_path, fresh_session
):
    enterprise = make_enterprise(session)
    header = ["credit_code", "name", "facility_type", "category", "cooling"]
    bad = write_csv(
        tmp_path / "bad.csv",
        header,
        [
            [enterprise.credit_code, "1号机组", "coal_unit", "coal_300mw_plus", "air"],
            [enterprise.credit_code, "2号机组", "coal_unit", "coal_300mw_plus", "river"],
        ],
    )
    good = write_csv(
        tmp_path / "good.csv",
        header,
        [[enterprise.credit_code, "1号机组", "coal_unit", "coal_300mw_plus", "air"]],
    )

    refused = run_cli("import", "facilities", str(bad), "--as", "importer")
    assert_failed_cleanly(refused, "error: Validation failed: ")
    assert refused.stderr.splitlines()[1:] == [
        "  facilities row 3, cooling: Must be one of: air, water."
    ]
    assert count(fresh_session, Facility) == 0

    imported = run_cli("import", "facilities", str(good), "--as", "importer")
    assert imported.exit_code == 0, imported.output
    with fresh_session() as fresh:
        stored = fresh.execute(select(Facility.category, Facility.cooling)).one()
    assert (stored.category, stored.cooling.value) == ("coal_300mw_plus", "air")


def test_import_of_a_bad_file_exits_1_lists_the_rows_and_imports_nothing(
    run_cli, importer, tmp_path, fresh_session
):
    rows = [[credit_code(), f"企业{i}", "power", "haidian", ""] for i in range(5)]
    rows[1][2] = "shipbuilding"  # row 3
    rows[3][0] = "91110000000000000X"  # row 5: a wrong check character
    file = write_csv(tmp_path / "bad.csv", ENTERPRISE_HEADER, rows)

    result = run_cli("import", "enterprises", str(file), "--as", "importer")

    assert_failed_cleanly(result, "error: Validation failed: ")
    assert "nothing was imported" in result.stderr.splitlines()[0]
    assert "enterprises row 3, sector: unknown sector 'shipbuilding'" in result.stderr
    assert "enterprises row 5, credit_code: check character should be" in result.stderr
    assert count(fresh_session, Enterprise) == 0


def test_import_errors_say_whether_a_row_is_in_the_enterprises_or_the_facilities_file(
    run_cli, importer, tmp_path, fresh_session
):
    code = credit_code()
    enterprises = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[code, "甲", "atlantis", "haidian", ""]]
    )
    facilities = write_csv(
        tmp_path / "f.csv",
        ["credit_code", "name", "facility_type", "capacity"],
        [[code, "1号机组", "coal_unit", "350"]],  # a capacity without its unit
    )

    result = run_cli(
        "import",
        "enterprises",
        str(enterprises),
        "--facilities",
        str(facilities),
        "--as",
        "importer",
    )

    # Both problems are on row 2 of their file: without the file's name they look alike.
    assert_failed_cleanly(result, "error: Validation failed: ")
    assert result.stderr.splitlines()[1:] == [
        "  enterprises row 2, sector: unknown sector 'atlantis'",
        "  facilities row 2, capacity_unit: capacity and capacity_unit must both be given "
        "or omitted",
    ]
    assert count(fresh_session, Facility) == 0


def test_import_of_a_file_that_is_not_csv_fails_as_unreadable(run_cli, importer, tmp_path):
    file = tmp_path / "enterprises.csv"
    file.write_bytes("credit_code,name\n企业,名称\n".encode("utf-16"))

    result = run_cli("import", "enterprises", str(file), "--as", "importer")

    assert_failed_cleanly(result, "error: File cannot be read: ")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.VERIFIER, Role.FINANCE_OFFICER])
def test_import_by_a_non_regulator_fails_with_permission_denied(
    run_cli, session, tmp_path, fresh_session, role
):
    make_user(session, role=role, name="not-a-regulator")
    file = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[credit_code(), "甲", "power", "haidian", ""]]
    )

    result = run_cli("import", "enterprises", str(file), "--as", "not-a-regulator")

    assert_failed_cleanly(result, "error: Permission denied: ")
    assert count(fresh_session, Enterprise) == 0


def test_import_by_an_enterprise_user_fails_with_permission_denied(
    run_cli, session, tmp_path, fresh_session
):
    make_user(session, role=Role.ENTERPRISE, name="ent", enterprise=make_enterprise(session))
    file = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[credit_code(), "甲", "power", "haidian", ""]]
    )

    result = run_cli("import", "enterprises", str(file), "--as", "ent")

    assert_failed_cleanly(result, "error: Permission denied: ")
    assert count(fresh_session, Enterprise) == 1  # only the one made above


def test_import_as_a_user_who_does_not_exist_fails_with_not_found(run_cli, tmp_path):
    file = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[credit_code(), "甲", "power", "haidian", ""]]
    )

    result = run_cli("import", "enterprises", str(file), "--as", "ghost")

    assert_failed_cleanly(result, "error: Not found: no active user named 'ghost'")


def test_import_without_naming_the_acting_user_is_a_usage_error(run_cli, tmp_path):
    file = write_csv(
        tmp_path / "e.csv", ENTERPRISE_HEADER, [[credit_code(), "甲", "power", "haidian", ""]]
    )

    result = run_cli("import", "enterprises", str(file))

    assert result.exit_code == 2
    assert "--as NAME" in result.stderr


# --- db -----------------------------------------------------------------------------------


def test_db_current_exits_0_and_shows_the_same_revision_as_head_on_a_migrated_database(
    run_cli,
):
    result = run_cli("db", "current")

    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert lines["current"].strip() == lines["head"].strip() != "(empty)"


def test_db_current_exits_1_on_an_empty_database(cli_env, tmp_path):
    env = {**cli_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}

    result = CliRunner().invoke(main, ["db", "current"], env=env)

    assert result.exit_code == 1
    assert "current: (empty)" in result.stdout
