"""Bulk intake of projects and financings: all or nothing, every bad row at once, and a
second run of the same file refused row by row."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook

from tests.api.finance.conftest import PROJECTS
from tests.api.helpers import assert_problem, csv_text, multipart, row_counts, writes_nothing
from tests.factories import credit_code

PROJECT_IMPORT = "/api/v1/finance/projects/import"
FINANCING_IMPORT = "/api/v1/finance/financings/import"
PROJECT_COLUMNS = [
    "name",
    "sponsor_name",
    "sponsor_credit_code",
    "locality",
    "category",
    "subsector",
    "start_date",
    "total_investment",
    "expected_annual_reduction_t",
    "so2_kg",
]
FINANCING_COLUMNS = [
    "sponsor_credit_code",
    "project",
    "instrument",
    "institution",
    "committed",
    "rate",
    "start_date",
    "end_date",
    "disclosure_annual_reduction_t",
    "disclosure_method",
    "disclosure_date",
    "disbursed",
    "disbursed_on",
]


def project_rows(code: str) -> list[list[str]]:
    return [
        [
            "延庆风电",
            "延庆新能源",
            code,
            "yanqing",
            "mitigation",
            "renewable_energy",
            "2025-03-01",
            "120000000",
            "52000",
            "3100.5",
        ],
        [
            "通州超低能耗楼",
            "延庆新能源",
            code,
            "tongzhou",
            "both",
            "green_building",
            "2025-06-01",
            "45000000.50",
            "1800",
            "",
        ],
    ]


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    path: str,
    content: str | bytes,
    filename: str = "rows.csv",
) -> Any:
    return client.post(path, headers=headers, **multipart(file=(filename, content)))


def test_projects_import_registers_every_row_with_history(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    before = row_counts(app)

    response = upload(
        client, headers, PROJECT_IMPORT, csv_text(PROJECT_COLUMNS, project_rows(code))
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"projects_created": 2}
    after = row_counts(app)
    assert after["finance_project"] - before["finance_project"] == 2
    assert after["finance_project_status_change"] - before["finance_project_status_change"] == 2
    assert after["audit_event"] - before["audit_event"] == 2
    listed = client.get(PROJECTS, headers=headers).get_json()["items"]
    assert [(p["name"], p["total_investment"], p["co_benefits"]["so2"]) for p in listed] == [
        ("延庆风电", "120000000.00", "3100.500"),
        ("通州超低能耗楼", "45000000.50", None),
    ]


def test_the_same_projects_file_imported_twice_is_refused_the_second_time(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    content = csv_text(PROJECT_COLUMNS, project_rows(credit_code()))
    assert upload(client, headers, PROJECT_IMPORT, content).status_code == 201

    with writes_nothing(app):
        response = upload(client, headers, PROJECT_IMPORT, content)

    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/projects/rows/2/name", "#/projects/rows/3/name"},
    )
    assert {e["code"] for e in body["errors"]} == {"project.duplicate"}


def test_bad_project_rows_are_all_reported_and_nothing_is_imported(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    rows = project_rows(code)
    rows[0][3] = "atlantis"  # locality
    rows[0][7] = "-5"  # total_investment
    rows[1][5] = "shipbuilding"  # subsector
    rows.append(list(rows[1]))  # the same project twice in the file (row 4)

    with writes_nothing(app):
        response = upload(client, headers, PROJECT_IMPORT, csv_text(PROJECT_COLUMNS, rows))

    assert_problem(
        response,
        422,
        "validation-failed",
        pointers={
            "#/projects/rows/2/total_investment",
            "#/projects/rows/3/subsector",
            "#/projects/rows/4/name",
            "#/projects/rows/4/subsector",
        },
    )


def test_an_unknown_locality_is_reported_once_the_row_is_well_formed(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    rows = project_rows(credit_code())[:1]
    rows[0][3] = "atlantis"
    with writes_nothing(app):
        response = upload(client, headers, PROJECT_IMPORT, csv_text(PROJECT_COLUMNS, rows))
    body = assert_problem(
        response, 422, "validation-failed", pointers={"#/projects/rows/2/locality"}
    )
    assert body["errors"][0]["code"] == "catalogue.unknown"


def financing_rows(code: str) -> list[list[str]]:
    return [
        [
            code,
            "延庆风电",
            "carbon_reduction_support_tool",
            "农业银行延庆支行",
            "10000000",
            "0.0345",
            "2026-01-01",
            "2027-01-01",
            "52000",
            "风电上网电量×排放因子",
            "2026-01-10",
            "6000000",
            "2026-01-01",
        ],
        [
            code,
            "延庆风电",
            "grant",
            "延庆区发改委",
            "2000000",
            "",
            "2025-06-01",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]


def test_financings_import_attaches_to_registered_projects_with_first_disbursements(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    upload(client, headers, PROJECT_IMPORT, csv_text(PROJECT_COLUMNS, project_rows(code)))

    response = upload(
        client, headers, FINANCING_IMPORT, csv_text(FINANCING_COLUMNS, financing_rows(code))
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"financings_created": 2, "disbursements_created": 1}
    project = client.get(PROJECTS, headers=headers).get_json()["items"][0]
    loan, grant = client.get(f"{PROJECTS}/{project['id']}/financings", headers=headers).get_json()
    assert loan["disbursed"] == "6000000.00"
    # 6,000,000 × 0.0345 × 365/360 = 209,875.00; refinanced 60 % = 3,600,000.00
    assert loan["interest"] == "209875.00"
    assert loan["refinancing_amount"] == "3600000.00"
    assert loan["disclosure"]["annual_reduction_t"] == "52000.000"
    assert grant["instrument"] == "grant"


def test_bad_financing_rows_are_all_reported_and_a_rerun_is_refused(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    upload(client, headers, PROJECT_IMPORT, csv_text(PROJECT_COLUMNS, project_rows(code)))
    good = csv_text(FINANCING_COLUMNS, financing_rows(code))
    rows = financing_rows(code)
    rows[0][11] = "10000000.01"  # disbursed more than committed
    rows[1][1] = "不存在的项目"  # no such project
    rows.append(
        [code, "延庆风电", "equity", "某基金", "-3", "0.05", "2026-01-01", "", "", "", "", "", ""]
    )

    with writes_nothing(app):
        bad = upload(client, headers, FINANCING_IMPORT, csv_text(FINANCING_COLUMNS, rows))
    assert_problem(
        bad,
        422,
        "validation-failed",
        pointers={
            "#/financings/rows/2/disbursed",
            "#/financings/rows/3/project",
            "#/financings/rows/4/committed",
        },
    )

    assert upload(client, headers, FINANCING_IMPORT, good).status_code == 201
    with writes_nothing(app):
        again = upload(client, headers, FINANCING_IMPORT, good)
    body = assert_problem(again, 422, "validation-failed")
    assert {e["code"] for e in body["errors"]} == {"financing.duplicate"}


def test_an_xlsx_workbook_sheet_named_projects_is_read(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    workbook = Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "说明"
    notes.append(["填写说明"])
    sheet = workbook.create_sheet("projects")
    sheet.append(PROJECT_COLUMNS)
    for row in project_rows(credit_code()):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(client, headers, PROJECT_IMPORT, buffer.getvalue(), "library.xlsx")

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"projects_created": 2}


def test_an_unknown_column_is_reported_not_ignored(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    with writes_nothing(app):
        response = upload(
            client,
            headers,
            PROJECT_IMPORT,
            csv_text([*PROJECT_COLUMNS, "colour"], [[*project_rows(credit_code())[0], "green"]]),
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/projects/columns/colour"})
