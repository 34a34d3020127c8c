"""The all-or-nothing bulk import of enterprises and facilities (read_batch, then import)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from carbon_market.emitters import bulk, importing
from carbon_market.emitters import service as emitters
from carbon_market.emitters.enums import CapacityUnit, Cooling, EnterpriseStatus
from carbon_market.emitters.models import Enterprise, EnterpriseStatusChange, Facility
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import PermissionDenied, ValidationFailed
from carbon_market.ledger.accounts.numbers import is_valid_account_number
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account
from tests.factories import credit_code, make_enterprise, make_user

ENTERPRISE_HEADER = ["credit_code", "name", "name_en", "sector", "district", "contact_name"]
FACILITY_HEADER = ["credit_code", "name", "facility_type", "capacity", "capacity_unit"]


def csv_bytes(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def enterprise_row(code, name="示例企业", sector="power", district="chaoyang", contact="张工"):
    return [code, name, "", sector, district, contact]


def read(enterprises=None, facilities=None):
    return importing.read_batch(
        io.BytesIO(enterprises) if enterprises is not None else None,
        "enterprises.csv",
        io.BytesIO(facilities) if facilities is not None else None,
        "facilities.csv",
    )


@pytest.fixture
def as_regulator(regulator):
    return actor_for(regulator)


def run_import(session, actor, batch, progress=None):
    return bulk.import_enterprises(session, actor, batch=batch, progress=progress)


def rejected(session, actor, batch):
    """Run an import that must fail; return its ValidationFailed."""
    with pytest.raises(ValidationFailed) as caught:
        run_import(session, actor, batch)
    assert "nothing was imported" in caught.value.detail
    return caught.value


# --- a good import ------------------------------------------------------------------------


@pytest.fixture
def three_codes():
    return [credit_code() for _ in range(3)]


@pytest.fixture
def good_batch(three_codes):
    a, b, c = three_codes
    enterprises = csv_bytes(
        ENTERPRISE_HEADER,
        [
            [a, "北京甲热电有限公司", "Jia Thermal Power", "power", "chaoyang", "王工"],
            [b, "北京乙水泥有限公司", "", "cement", "fangshan", ""],
            [c.lower(), "北京丙石化有限公司", "", "petrochemical", "bda", "李工"],
        ],
    )
    facilities = csv_bytes(
        FACILITY_HEADER,
        [
            [a, "1号机组", "coal_unit", "350", "MW"],
            [a, "2号机组", "coal_unit", "350.125", "MW"],
            [b, "1号窑", "kiln", "", ""],
        ],
    )
    return read(enterprises, facilities)


def test_import_creates_the_enterprises_and_facilities_and_returns_the_counts(
    session, as_regulator, good_batch, three_codes
):
    result = run_import(session, as_regulator, good_batch)

    assert result == {"enterprises_created": 3, "facilities_created": 3}
    stored = {e.credit_code: e for e in session.scalars(select(Enterprise))}
    assert set(stored) == set(three_codes)  # the lower-case code was normalised
    a, b, _c = three_codes
    assert stored[a].name_en == "Jia Thermal Power"
    assert stored[b].name_en is None
    assert stored[a].contacts == [{"name": "王工", "title": None, "phone": None, "email": None}]
    assert stored[b].contacts == []


def test_imported_facilities_belong_to_their_enterprise_with_exact_capacities(
    session, as_regulator, good_batch, three_codes
):
    run_import(session, as_regulator, good_batch)

    a, b, _c = three_codes
    rows = session.execute(
        select(Enterprise.credit_code, Facility.name, Facility.capacity, Facility.capacity_unit)
        .join(Facility, Facility.enterprise_id == Enterprise.id)
        .order_by(Facility.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        (a, "1号机组", Decimal("350.000"), CapacityUnit.MW),
        (a, "2号机组", Decimal("350.125"), CapacityUnit.MW),
        (b, "1号窑", None, None),
    ]


def test_imported_enterprises_are_registered_like_one_registered_by_hand(
    session, as_regulator, good_batch
):
    run_import(session, as_regulator, good_batch)

    enterprises = session.scalars(select(Enterprise)).all()
    for enterprise in enterprises:
        assert enterprise.status is EnterpriseStatus.REGISTERED
        assert enterprise.status_effective_from == date(2026, 6, 1)  # today in Beijing
        accounts = session.scalars(
            select(Account).where(Account.enterprise_id == enterprise.id)
        ).all()
        assert len(accounts) == 1
        assert accounts[0].kind is AccountKind.ENTERPRISE_COMPLIANCE
        assert is_valid_account_number(accounts[0].number)
        history = session.scalars(
            select(EnterpriseStatusChange).where(
                EnterpriseStatusChange.enterprise_id == enterprise.id
            )
        ).all()
        assert [(h.from_status, h.to_status) for h in history] == [
            (None, EnterpriseStatus.REGISTERED)
        ]
        assert history[0].changed_by == "regulator"


def test_import_writes_one_audit_event_per_enterprise_and_per_facility_by_the_importer(
    session, as_regulator, good_batch, regulator
):
    run_import(session, as_regulator, good_batch)

    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events].count("enterprise:register") == 3
    assert [e.action for e in events].count("facility:create") == 3
    assert {e.actor_user_id for e in events} == {regulator.id}
    facility_event = next(e for e in events if e.action == "facility:create")
    assert facility_event.after["capacity"] == "350"
    assert facility_event.after["capacity_unit"] == "MW"


def test_imported_facilities_keep_their_benchmark_category_and_cooling(
    session, as_regulator, regulator
):
    enterprise = make_enterprise(session)
    facilities = csv_bytes(
        ["credit_code", "name", "facility_type", "category", "cooling"],
        [
            [enterprise.credit_code, "1号机组", "coal_unit", "coal_300mw_plus", "water"],
            [enterprise.credit_code, "2号机组", "gas_unit", "gas", ""],
            [enterprise.credit_code, "1号锅炉", "boiler", "", ""],
        ],
    )

    run_import(session, as_regulator, read(facilities=facilities))

    stored = session.execute(
        select(Facility.name, Facility.category, Facility.cooling).order_by(Facility.id)
    ).all()
    assert [tuple(r) for r in stored] == [
        ("1号机组", "coal_300mw_plus", Cooling.WATER),
        ("2号机组", "gas", None),
        ("1号锅炉", None, None),
    ]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "facility:create").order_by(AuditEvent.id)
    ).first()
    assert (event.after["category"], event.after["cooling"]) == ("coal_300mw_plus", "water")


def test_an_unknown_category_or_cooling_imports_nothing(session, as_regulator, row_counts):
    enterprise = make_enterprise(session)
    facilities = csv_bytes(
        ["credit_code", "name", "facility_type", "category", "cooling"],
        [
            [enterprise.credit_code, "1号机组", "coal_unit", "coal_300mw_plus", "air"],  # good
            [enterprise.credit_code, "2号机组", "coal_unit", "nuclear", "air"],
            [enterprise.credit_code, "3号机组", "coal_unit", "gas", "seawater"],
        ],
    )
    before = row_counts()

    error = rejected(session, as_regulator, read(facilities=facilities))

    assert [e.pointer for e in error.errors] == [
        "#/facilities/rows/3/category",
        "#/facilities/rows/4/cooling",
    ]
    assert row_counts() == before


def test_imported_account_numbers_are_all_different(session, as_regulator, good_batch):
    run_import(session, as_regulator, good_batch)

    numbers = session.scalars(
        select(Account.number).where(Account.enterprise_id.is_not(None))
    ).all()
    assert len(numbers) == len(set(numbers)) == 3


def test_import_reads_an_xlsx_workbook_with_enterprises_and_facilities_sheets(
    session, as_regulator
):
    code = credit_code()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "enterprises"
    sheet.append(["credit_code", "name", "sector", "district", "status_effective_from"])
    sheet.append([code, "北京丁热力有限公司", "heat", "haidian", "2026-01-15"])
    facilities = workbook.create_sheet("facilities")
    facilities.append(["credit_code", "name", "facility_type", "commissioned_on"])
    facilities.append([code, "1号锅炉", "boiler", "2010-10-01"])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)

    result = run_import(session, as_regulator, importing.read_batch(data, "registry.xlsx"))

    assert result == {"enterprises_created": 1, "facilities_created": 1}
    enterprise = session.scalar(select(Enterprise))
    assert enterprise.status_effective_from == date(2026, 1, 15)
    assert session.scalar(select(Facility.commissioned_on)) == date(2010, 10, 1)


# --- all or nothing -----------------------------------------------------------------------


def test_one_bad_row_among_many_imports_nothing_and_lists_every_bad_row(
    session, as_regulator, row_counts
):
    make_enterprise(session)  # something already in the database that must stay untouched
    codes = [credit_code() for _ in range(8)]
    rows = [enterprise_row(code) for code in codes]
    rows[1][0] = codes[1][:-1] + ("0" if codes[1][-1] != "0" else "1")  # check char wrong
    rows[4][3] = "shipbuilding"  # unknown sector
    rows[7][4] = "atlantis"  # unknown district
    before = row_counts()

    error = rejected(session, as_regulator, read(csv_bytes(ENTERPRISE_HEADER, rows)))

    # Spreadsheet rows: the header is row 1, so list index i is row i + 2.
    assert [(e.row, e.column) for e in error.errors] == [
        (3, "credit_code"),
        (6, "sector"),
        (9, "district"),
    ]
    assert [e.pointer for e in error.errors] == [
        "#/enterprises/rows/3/credit_code",
        "#/enterprises/rows/6/sector",
        "#/enterprises/rows/9/district",
    ]
    assert row_counts() == before


def test_every_problem_of_one_row_is_reported_not_only_the_first(session, as_regulator):
    rows = [enterprise_row("not-a-code", name="", sector="Power!", district="nowhere")]

    error = rejected(session, as_regulator, read(csv_bytes(ENTERPRISE_HEADER, rows)))

    assert {e.column for e in error.errors if e.row == 2} == {"credit_code", "name", "sector"}


def test_a_blank_line_in_a_csv_still_counts_as_a_row_in_error_row_numbers(session, as_regulator):
    good, bad = credit_code(), credit_code()
    data = (
        b"credit_code,name,sector,district\n"
        + f"{good},甲,power,chaoyang\n".encode()
        + b"\n"  # row 3: a spreadsheet shows it as an empty row
        + f"{bad},乙,shipbuilding,chaoyang\n".encode()  # row 4
    )

    error = rejected(session, as_regulator, read(data))

    assert [(e.row, e.column) for e in error.errors] == [(4, "sector")]


def test_a_credit_code_already_registered_in_the_database_is_reported_by_row(
    session, as_regulator, row_counts
):
    existing = make_enterprise(session)
    rows = [enterprise_row(credit_code()), enterprise_row(existing.credit_code)]
    before = row_counts()

    error = rejected(session, as_regulator, read(csv_bytes(ENTERPRISE_HEADER, rows)))

    assert [(e.pointer, e.code) for e in error.errors] == [
        ("#/enterprises/rows/3/credit_code", "credit_code.duplicate")
    ]
    assert row_counts() == before


def test_a_credit_code_repeated_within_the_file_names_the_first_row(session, as_regulator):
    code = credit_code()
    rows = [enterprise_row(code), enterprise_row(credit_code()), enterprise_row(code.lower())]

    error = rejected(session, as_regulator, read(csv_bytes(ENTERPRISE_HEADER, rows)))

    assert [(e.row, e.code) for e in error.errors] == [(4, "import.duplicate_row")]
    assert "row 2" in error.errors[0].detail


def test_a_facility_for_an_enterprise_neither_in_the_file_nor_the_database_is_reported(
    session, as_regulator, row_counts
):
    in_file, nowhere = credit_code(), credit_code()
    enterprises = csv_bytes(ENTERPRISE_HEADER, [enterprise_row(in_file)])
    facilities = csv_bytes(
        FACILITY_HEADER,
        [[in_file, "1号机组", "coal_unit", "", ""], [nowhere, "1号机组", "coal_unit", "", ""]],
    )
    before = row_counts()

    error = rejected(session, as_regulator, read(enterprises, facilities))

    assert [(e.pointer, e.code) for e in error.errors] == [
        ("#/facilities/rows/3/credit_code", "import.unknown_enterprise")
    ]
    assert row_counts() == before


def test_errors_in_both_files_are_reported_together(session, as_regulator):
    enterprises = csv_bytes(ENTERPRISE_HEADER, [enterprise_row(credit_code(), sector="nope")])
    facilities = csv_bytes(FACILITY_HEADER, [[credit_code(), "1号机组", "coal_unit", "10", ""]])

    error = rejected(session, as_regulator, read(enterprises, facilities))

    assert {e.pointer for e in error.errors} == {
        "#/enterprises/rows/2/sector",
        "#/facilities/rows/2/credit_code",
        "#/facilities/rows/2/capacity_unit",
    }


def test_an_unknown_column_and_a_missing_required_column_are_reported_not_ignored(
    session, as_regulator
):
    data = csv_bytes(
        ["credit_code", "name", "sector", "distrct"], [[credit_code(), "甲", "power", "x"]]
    )

    error = rejected(session, as_regulator, read(data))

    assert {(e.pointer, e.code) for e in error.errors} == {
        ("#/enterprises/columns/distrct", "import.unknown_column"),
        ("#/enterprises/columns/district", "import.missing_column"),
    }


def test_a_file_that_is_not_utf8_csv_is_refused_as_unreadable():
    with pytest.raises(importing.UnreadableFile):
        read("credit_code,name\n甲,乙\n".encode("gb18030"))


# --- facilities of enterprises already registered -----------------------------------------


def test_facilities_only_import_adds_facilities_to_registered_enterprises(
    session, as_regulator, system
):
    first, second = make_enterprise(session), make_enterprise(session)
    facilities = csv_bytes(
        FACILITY_HEADER,
        [
            [first.credit_code, "1号锅炉", "boiler", "29", "MWth"],
            [second.credit_code, "1号锅炉", "boiler", "", ""],
            [second.credit_code, "2号锅炉", "boiler", "14.5", "MWth"],
        ],
    )

    result = run_import(session, as_regulator, read(facilities=facilities))

    assert result == {"enterprises_created": 0, "facilities_created": 3}
    owners = session.execute(select(Facility.enterprise_id, Facility.name).order_by(Facility.id))
    assert [tuple(r) for r in owners] == [
        (first.id, "1号锅炉"),
        (second.id, "1号锅炉"),
        (second.id, "2号锅炉"),
    ]


def test_facilities_only_import_refuses_a_name_the_enterprise_already_uses(
    session, system, as_regulator, row_counts
):
    enterprise = make_enterprise(session)
    emitters.add_facility(session, system, enterprise.id, name="1号锅炉", facility_type="boiler")
    facilities = csv_bytes(
        FACILITY_HEADER,
        [
            [enterprise.credit_code, "2号锅炉", "boiler", "", ""],
            [enterprise.credit_code, "1号锅炉", "boiler", "", ""],
        ],
    )
    before = row_counts()

    error = rejected(session, as_regulator, read(facilities=facilities))

    assert [(e.pointer, e.code) for e in error.errors] == [
        ("#/facilities/rows/3/name", "import.duplicate_facility")
    ]
    assert row_counts() == before


# --- who may import, and progress ---------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.AUDITOR, Role.VERIFIER])
def test_only_regulators_may_import(session, good_batch, role, row_counts):
    enterprise = make_enterprise(session) if role is Role.ENTERPRISE else None
    actor = actor_for(make_user(session, role=role, enterprise=enterprise))
    before = row_counts()

    with pytest.raises(PermissionDenied):
        run_import(session, actor, good_batch)

    assert row_counts() == before


def test_progress_is_reported_per_chunk_with_increasing_counts_up_to_the_total(
    session, as_regulator
):
    # Two and a half chunks of enterprises and one facility each: three calls per stage.
    size = bulk.CHUNK * 2 + bulk.CHUNK // 2
    codes = [credit_code() for _ in range(size)]
    enterprises = csv_bytes(ENTERPRISE_HEADER, [enterprise_row(c) for c in codes])
    facilities = csv_bytes(FACILITY_HEADER, [[c, "1号机组", "coal_unit", "", ""] for c in codes])
    calls = []

    result = run_import(
        session,
        as_regulator,
        read(enterprises, facilities),
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )

    assert result == {"enterprises_created": size, "facilities_created": size}
    for stage in ("enterprises", "facilities"):
        assert [(done, total) for s, done, total in calls if s == stage] == [
            (bulk.CHUNK, size),
            (bulk.CHUNK * 2, size),
            (size, size),
        ]
    assert calls[0][0] == "enterprises"
    assert calls[-1][0] == "facilities"


def test_a_failed_import_reports_no_progress(session, as_regulator):
    calls = []
    rows = [enterprise_row(credit_code(), sector="nope")]

    with pytest.raises(ValidationFailed):
        run_import(
            session,
            as_regulator,
            read(csv_bytes(ENTERPRISE_HEADER, rows)),
            progress=lambda *args: calls.append(args),
        )

    assert calls == []


def test_a_capacity_beyond_what_is_stored_is_a_row_error_not_a_crash(
    session, as_regulator, row_counts
):
    enterprise = make_enterprise(session)
    facilities = csv_bytes(
        FACILITY_HEADER,
        [
            [enterprise.credit_code, "1号机组", "coal_unit", "350", "MW"],  # good
            [enterprise.credit_code, "2号机组", "coal_unit", "99999999999999999999", "MW"],
        ],
    )
    before = row_counts()

    error = rejected(session, as_regulator, read(facilities=facilities))

    assert [e.pointer for e in error.errors] == ["#/facilities/rows/3/capacity"]
    assert row_counts() == before
