"""The Excel round trip of emission reports over HTTP: download a template, fill it in with
openpyxl as a user would in Excel, upload it; every bad cell comes back at once with its
sheet, row and column, and nothing is saved."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from carbon_market.mrv.xlsx.layout import COLUMNS
from tests.api.helpers import Tenants, assert_problem, moves_nothing, multipart, row_counts

R = "/api/v1/reports"
TEMPLATE = f"{R}/template"
UPLOAD = f"{R}/upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEAR = 2025
Bearer = dict[str, dict[str, str]]


def _get_template(
    client: FlaskClient, headers: dict[str, str], tenants: Tenants, **query: Any
) -> TestResponse:
    params = {"enterprise": tenants.own.credit_code, "year": YEAR} | query
    return client.get(TEMPLATE, query_string=params, headers=headers)


def _template(client: FlaskClient, bearer: Bearer, tenants: Tenants, **query: Any) -> Any:
    response = _get_template(client, bearer["enterprise_own"], tenants, **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _fill(workbook: Any, rows: dict[int, dict[str, Any]]) -> bytes:
    """Type ``rows`` (sheet row number -> {column name: value}) into the streams sheet."""
    sheet = workbook["streams"]
    header = [cell.value for cell in sheet[1]]
    for number, values in rows.items():
        for name, value in values.items():
            sheet.cell(row=number, column=header.index(name) + 1, value=value)
    return _save(workbook)


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(
    client: FlaskClient, headers: dict[str, str], data: bytes, *, enterprise: str, year: int = YEAR
) -> TestResponse:
    form = {"enterprise": enterprise, "year": str(year)}
    return client.post(UPLOAD, headers=headers, **multipart(form, file=("report.xlsx", data)))


def _put(client: FlaskClient, headers: dict[str, str], report_id: int, data: bytes) -> TestResponse:
    return client.put(
        f"{R}/{report_id}/upload", headers=headers, **multipart(file=("report.xlsx", data))
    )


def _reports(app: Flask) -> int:
    return row_counts(app)["emission_report"]


# --- the template ---------------------------------------------------------------------------


def test_the_template_lists_the_enterprises_facilities_and_the_years_codes_and_units(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    response = _get_template(client, bearer["enterprise_own"], tenants)

    assert response.status_code == 200
    assert response.mimetype == XLSX
    filename = f"report-{tenants.own.credit_code}-{YEAR}.xlsx"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["streams", "facilities", "codes", "about"]
    streams = workbook["streams"]
    assert [cell.value for cell in streams[1]] == list(COLUMNS)
    assert streams.max_row == 1  # nothing to fill in but the header
    assert streams.column_dimensions["E"].number_format == "@"  # quantity stays text
    checked = {str(v.sqref): v.type for v in streams.data_validations.dataValidation}
    assert checked == {
        "A2:A2001": "list",  # facility
        "B2:B2001": "whole",  # month
        "C2:C2001": "list",  # kind
        "D2:D2001": "list",  # code
        "F2:F2001": "list",  # unit
    }
    facilities = workbook["facilities"]
    assert [cell.value for cell in facilities[1]] == [
        "facility",
        "id",
        "facility_type",
        "output",
        "heat_supply_ratio",
        "load_rate",
        "heat_supplied_gj",
    ]
    rows = list(facilities.iter_rows(min_row=2, values_only=True))
    assert rows == [("1号燃煤机组", tenants.facility_id, "coal_unit", None, None, None, None)]
    # The sheet is protected but for the figures: the facility's name and id stay put.
    assert facilities.protection.sheet
    assert facilities["B2"].protection.locked
    assert not facilities["D2"].protection.locked
    assert facilities["F2"].number_format == "@"  # load_rate stays text
    codes = workbook["codes"]
    kinds_and_codes = {(row[0], row[1]) for row in codes.iter_rows(min_row=2, values_only=True)}
    assert {("fuel", "natural_gas"), ("fuel", "raw_coal"), ("process", "limestone")} <= (
        kinds_and_codes
    )
    units = {row[6] for row in codes.iter_rows(min_row=2, values_only=True)}
    assert {"t", "10^4 Nm3", "Nm3", "MWh", "GJ"} <= units
    about = dict(workbook["about"].iter_rows(min_row=2, max_row=6, values_only=True))
    assert about["credit_code"] == tenants.own.credit_code
    assert about["year"] == YEAR
    assert str(about["factor_set"]).startswith("cn-default v")


def test_a_regulator_downloads_any_enterprises_template(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    response = _get_template(client, bearer["regulator"], tenants)
    assert response.status_code == 200
    assert response.mimetype == XLSX


# --- upload: a new draft --------------------------------------------------------------------


def test_a_filled_template_is_filed_as_a_draft_with_the_figures_computed_by_hand(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    workbook = _template(client, bearer, tenants)
    data = _fill(
        workbook,
        {
            2: {
                "facility": "1号燃煤机组",
                "kind": "fuel",
                "code": "natural_gas",
                "quantity": "1000",
                "unit": "10^4 Nm3",
                "evidence": "燃气账单",
            },
            # row 3 is left blank: not a stream
            4: {"kind": "electricity", "quantity": 400, "unit": "MWh", "month": 3},
            5: {"kind": "heat", "quantity": 12.5, "unit": "GJ"},  # a number cell, not text
        },
    )

    response = _upload(client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code)

    assert response.status_code == 201, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["status"], report["year"], report["version"]) == ("draft", YEAR, 1)
    # Natural gas: 1000 × 10^4 Nm3 × 389.31 GJ/10^4 Nm3 × 0.01530 tC/GJ × 0.99 × 44/12
    #            = 5896.87857 tC × 44/12 = 21 621.888090 t;
    # electricity: 400 MWh × 0.5366 = 214.64 t; heat: 12.5 GJ × 0.11 = 1.375 t;
    # total 21 621.888090 + 214.64 + 1.375 = 21 837.903090 t.
    assert [s["co2_t"] for s in report["breakdown"]["streams"]] == [
        "21621.888090",
        "214.640000",
        "1.375000",
    ]
    assert report["co2_t"] == "21837.903090"
    assert report["streams"] == [
        {
            "kind": "fuel",
            "fuel": "natural_gas",
            "quantity": "1000",
            "unit": "10^4 Nm3",
            "facility": tenants.facility_id,
            "evidence": "燃气账单",
        },
        {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 3},
        {"kind": "heat", "quantity": "12.5", "unit": "GJ"},
    ]


#: (row, cells, column the error must name). Rows 2-14 each hold one mistake; row 10 is
#: blank and row 15 is good. The reader finds some, the calculator and the report service
#: the others, addressed to ``#/streams/<i>/...`` and mapped back to the row and column.
BAD_ROWS: list[tuple[int, dict[str, Any], str | None]] = [
    (2, {"kind": "fuel", "code": "natural_gas", "quantity": "abc", "unit": "10^4 Nm3"}, "quantity"),
    (3, {"kind": "electricity", "quantity": "10", "unit": "parsec"}, "unit"),
    (4, {"kind": "steam", "quantity": "1", "unit": "t"}, "kind"),
    (5, {"facility": "3号机组", "kind": "electricity", "quantity": "1", "unit": "MWh"}, "facility"),
    (6, {"month": 13, "kind": "electricity", "quantity": "1", "unit": "MWh"}, "month"),
    (7, {"kind": "electricity", "quantity": "-5", "unit": "MWh"}, "quantity"),
    (8, {"kind": "fuel", "code": "natural_gas", "quantity": "1", "unit": "t"}, "unit"),
    (9, {"kind": "fuel", "code": "peat", "quantity": "1", "unit": "t"}, "code"),
    (11, {"kind": "electricity", "quantity": "1.1234567", "unit": "MWh"}, "quantity"),
    (
        12,
        {
            "kind": "fuel",
            "code": "natural_gas",
            "quantity": "1",
            "unit": "10^4 Nm3",
            "oxidation_rate": "1.5",
        },
        "oxidation_rate",
    ),
    (13, {"kind": "electricity", "code": "grid", "quantity": "1", "unit": "MWh"}, "code"),
    (14, {"kind": "heat", "unit": "GJ"}, "quantity"),
    (15, {"kind": "electricity", "quantity": "5", "unit": "MWh", "month": 1}, None),
]


def test_every_bad_cell_is_reported_with_its_sheet_row_and_column_and_nothing_is_saved(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    data = _fill(_template(client, bearer, tenants), {row: cells for row, cells, _ in BAD_ROWS})
    expected = {(row, column) for row, _, column in BAD_ROWS if column}
    before = _reports(app)

    with moves_nothing(app):
        response = _upload(
            client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code
        )

    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={f"#/streams/rows/{row}/{column}" for row, column in expected},
    )
    assert {(e["sheet"], e["row"], e["column"]) for e in body["errors"]} == {
        ("streams", row, column) for row, column in expected
    }
    reasons = {(e["row"], e["column"]): e["detail"] for e in body["errors"]}
    assert "'abc' is not a number" in reasons[(2, "quantity")]
    assert "10^4 Nm3" in reasons[(8, "unit")]  # the units that fit natural gas
    assert "at most 6 decimal places" in reasons[(11, "quantity")]
    assert [e["row"] for e in body["errors"]] == sorted(e["row"] for e in body["errors"])
    assert _reports(app) == before


def test_header_problems_are_reported_on_row_one(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "streams"
    sheet.append(["kind", "code", "amount", "unit", "colour"])
    sheet.append(["electricity", None, "10", "MWh", "blue"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    with moves_nothing(app):
        response = _upload(
            client,
            bearer["enterprise_own"],
            buffer.getvalue(),
            enterprise=tenants.own.credit_code,
        )

    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={
            "#/streams/rows/1/amount",
            "#/streams/rows/1/colour",
            "#/streams/rows/1/quantity",
        },
    )
    assert {e["code"] for e in body["errors"]} == {
        "import.unknown_column",
        "import.missing_column",
    }


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"kind,quantity,unit\nelectricity,10,MWh\n", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, ".xls"),
        (_zip_of_text(), "KeyError"),
        (b"PK\x03\x04 damaged", "damaged"),
    ],
    ids=["csv", "old-xls", "zip-without-a-workbook", "damaged-zip"],
)
def test_a_file_that_is_not_an_xlsx_workbook_is_refused_as_unreadable(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants, content: bytes, reason: str
) -> None:
    with moves_nothing(app):
        response = _upload(
            client, bearer["enterprise_own"], content, enterprise=tenants.own.credit_code
        )
    body = assert_problem(response, 422, "unreadable-file", pointers={"#/files/file"})
    assert reason in body["detail"]


def test_a_workbook_without_a_streams_sheet_or_without_streams_is_refused(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    empty = _fill(_template(client, bearer, tenants), {})
    renamed = _template(client, bearer, tenants)
    renamed["streams"].title = "data"
    headers = bearer["enterprise_own"]
    credit = tenants.own.credit_code
    with moves_nothing(app):
        no_streams = _upload(client, headers, empty, enterprise=credit)
        no_sheet = _upload(client, headers, _save(renamed), enterprise=credit)
    for response, code in ((no_streams, "import.empty"), (no_sheet, "import.missing_sheet")):
        body = assert_problem(response, 422, "validation-failed", pointers={"#/streams"})
        assert body["errors"][0]["code"] == code
        assert body["errors"][0]["sheet"] == "streams"


def test_a_workbook_made_for_another_year_is_refused_on_its_about_sheet(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    data = _fill(
        _template(client, bearer, tenants),
        {2: {"kind": "electricity", "quantity": "10", "unit": "MWh"}},
    )
    with moves_nothing(app):
        response = _upload(
            client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code, year=2026
        )
    body = assert_problem(response, 422, "validation-failed", pointers={"#/about/rows/4/value"})
    assert body["errors"][0]["sheet"] == "about"


def test_the_form_fields_beside_the_file_are_required(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    data = _fill(_template(client, bearer, tenants), {})
    with moves_nothing(app):
        response = client.post(
            UPLOAD,
            headers=bearer["enterprise_own"],
            **multipart({"enterprise": tenants.own.credit_code}, file=("r.xlsx", data)),
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/files/year"})


# --- tenancy and roles ----------------------------------------------------------------------


def test_another_enterprises_user_finds_neither_the_template_nor_the_upload_target(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    data = _fill(
        _template(client, bearer, tenants),
        {2: {"kind": "electricity", "quantity": "10", "unit": "MWh"}},
    )
    headers = bearer["enterprise_other"]
    with moves_nothing(app):
        template = _get_template(client, headers, tenants)
        upload = _upload(client, headers, data, enterprise=tenants.own.credit_code)
    assert_problem(template, 404, "not-found")
    assert_problem(upload, 404, "not-found")


@pytest.mark.parametrize("role", ["verifier", "auditor", "finance_officer"])
def test_roles_that_do_not_file_reports_are_refused_the_template_and_the_upload(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants, role: str
) -> None:
    data = _fill(
        _template(client, bearer, tenants),
        {2: {"kind": "electricity", "quantity": "10", "unit": "MWh"}},
    )
    with moves_nothing(app):
        template = _get_template(client, bearer[role], tenants)
        upload = _upload(client, bearer[role], data, enterprise=tenants.own.credit_code)
    assert_problem(template, 403, "permission-denied")
    assert_problem(upload, 403, "permission-denied")


# --- the round trip of an existing draft -----------------------------------------------------


def _draft(client: FlaskClient, bearer: Bearer, tenants: Tenants) -> dict[str, Any]:
    streams = [
        {
            "kind": "fuel",
            "fuel": "natural_gas",
            "quantity": "100",
            "unit": "10^4 Nm3",
            "facility": tenants.facility_id,
            "month": 1,
            "evidence": "1月燃气账单",
            "factors": {"ncv": "390"},
            "pollutants": {"so2": "0.5"},
        },
        {"kind": "electricity", "quantity": "400.5", "unit": "MWh", "month": 2},
    ]
    body = {"enterprise": tenants.own.credit_code, "year": YEAR, "streams": streams}
    response = client.post(R, json=body, headers=bearer["enterprise_own"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_a_draft_downloaded_with_its_streams_uploads_back_unchanged(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    workbook = _template(client, bearer, tenants, report=draft["id"])
    sheet = workbook["streams"]
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert first["facility"] == "1号燃煤机组"
    assert (first["quantity"], first["ncv"], first["so2"]) == ("100", "390", "0.5")  # text
    assert dict(workbook["about"].iter_rows(min_row=2, values_only=True))["report"] == draft["id"]

    response = _put(client, bearer["enterprise_own"], draft["id"], _fill(workbook, {}))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["streams"] == draft["streams"]
    assert response.get_json()["co2_t"] == draft["co2_t"]


def test_an_edited_draft_workbook_replaces_the_streams_and_the_figures(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    workbook = _template(client, bearer, tenants, report=draft["id"])
    # Electricity 400.5 → 1000 MWh: 1000 × 0.5366 = 536.6 t instead of 214.9083 t.
    data = _fill(workbook, {3: {"quantity": "1000"}})

    response = _put(client, bearer["regulator"], draft["id"], data)

    assert response.status_code == 200, response.get_data(as_text=True)
    updated = response.get_json()
    assert updated["breakdown"]["streams"][1]["co2_t"] == "536.600000"
    assert updated["streams"][1]["quantity"] == "1000"
    assert updated["streams"][0] == draft["streams"][0]


def test_a_submitted_report_cannot_be_replaced_by_a_workbook(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    data = _fill(_template(client, bearer, tenants, report=draft["id"]), {})
    submitted = client.post(f"{R}/{draft['id']}/submit", headers=bearer["enterprise_own"])
    assert submitted.status_code == 200
    with moves_nothing(app):
        response = _put(client, bearer["enterprise_own"], draft["id"], data)
    assert_problem(response, 409, "conflict")


def test_bad_cells_of_an_uploaded_draft_change_nothing(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    data = _fill(_template(client, bearer, tenants, report=draft["id"]), {3: {"unit": "GJ"}})
    with moves_nothing(app):
        response = _put(client, bearer["enterprise_own"], draft["id"], data)
    assert_problem(response, 422, "validation-failed", pointers={"#/streams/rows/3/unit"})
    shown = client.get(f"{R}/{draft['id']}", headers=bearer["enterprise_own"]).get_json()
    assert shown["streams"] == draft["streams"]


def test_a_template_for_a_report_of_another_year_is_refused(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    response = _get_template(
        client, bearer["enterprise_own"], tenants, year=2024, report=draft["id"]
    )
    assert_problem(response, 422, "validation-failed", pointers={"#/query/report"})


def test_another_enterprises_user_cannot_replace_or_prefill_from_a_draft(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    data = _fill(_template(client, bearer, tenants, report=draft["id"]), {})
    headers = bearer["enterprise_other"]
    with moves_nothing(app):
        replaced = _put(client, headers, draft["id"], data)
    assert_problem(replaced, 404, "not-found")
    query = {"enterprise": tenants.other.credit_code, "year": YEAR, "report": draft["id"]}
    prefilled = client.get(TEMPLATE, query_string=query, headers=headers)
    assert_problem(prefilled, 404, "not-found")
