"""POST /api/v1/imports/enterprises: all-or-nothing CSV/XLSX imports with every error at once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy.orm import Session

from carbon_market.ledger.accounts.numbers import is_valid_account_number
from tests.api.helpers import assert_problem, csv_text, multipart, writes_nothing
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise

IMPORTS = "/api/v1/imports/enterprises"
ENTERPRISES = "/api/v1/enterprises"
COLUMNS = ["credit_code", "name", "name_en", "sector", "district", "contact_name", "contact_email"]
FACILITY_COLUMNS = ["credit_code", "name", "facility_type", "capacity", "capacity_unit"]


@pytest.fixture
def headers(auth: AuthActions, regulator: Any) -> dict[str, str]:
    return auth.headers(regulator)


def with_wrong_check_character(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def test_csv_import_registers_every_row_with_accounts_and_contacts(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    codes = [credit_code(), credit_code()]
    upload = csv_text(
        COLUMNS,
        [
            [
                codes[0],
                "北京庚热电有限公司",
                "Geng Power",
                "power",
                "chaoyang",
                "吴工",
                "wu@example.com",
            ],
            [codes[1], "北京辛水泥有限公司", "", "cement", "bda", "", ""],
        ],
    )

    response = client.post(IMPORTS, headers=headers, **multipart(file=("企业.csv", upload)))

    assert response.status_code == 201
    assert response.get_json() == {"enterprises_created": 2, "facilities_created": 0}
    items = client.get(ENTERPRISES, headers=headers).get_json()["items"]
    assert [e["credit_code"] for e in items] == codes
    assert all(e["status"] == "registered" for e in items)
    assert all(is_valid_account_number(e["account_number"]) for e in items)
    assert len({e["account_number"] for e in items}) == 2
    assert items[0]["contacts"] == [
        {"name": "吴工", "title": None, "phone": None, "email": "wu@example.com"}
    ]
    assert items[1]["contacts"] == []
    assert items[1]["name_en"] is None


def test_import_with_a_facilities_csv_creates_facilities_for_new_and_existing_enterprises(
    client: FlaskClient, session: Session, headers: dict[str, str]
) -> None:
    existing = make_enterprise(session)
    new_code = credit_code()
    enterprises = csv_text(COLUMNS[:5], [[new_code, "北京壬热力有限公司", "", "heat", "daxing"]])
    facilities = csv_text(
        FACILITY_COLUMNS,
        [
            [new_code, "1号锅炉", "gas_boiler", "58.125", "MWth"],
            [existing.credit_code, "2号机组", "coal_unit", "", ""],
        ],
    )

    response = client.post(
        IMPORTS,
        headers=headers,
        **multipart(file=("e.csv", enterprises), facilities=("f.csv", facilities)),
    )

    assert response.status_code == 201
    assert response.get_json() == {"enterprises_created": 1, "facilities_created": 2}
    new_id = client.get(ENTERPRISES, query_string={"q": new_code}, headers=headers).get_json()[
        "items"
    ][0]["id"]
    boiler = client.get(f"{ENTERPRISES}/{new_id}/facilities", headers=headers).get_json()
    assert [(f["name"], f["capacity"], f["capacity_unit"]) for f in boiler["items"]] == [
        ("1号锅炉", "58.125", "MWth")
    ]
    unit = client.get(f"{ENTERPRISES}/{existing.id}/facilities", headers=headers).get_json()
    assert [f["name"] for f in unit["items"]] == ["2号机组"]


def test_xlsx_workbook_with_enterprises_and_facilities_sheets_is_imported(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "enterprises"
    sheet.append(COLUMNS[:5])
    sheet.append([code, "北京癸石化有限公司", "Gui Petrochemical", "petrochemical", "fangshan"])
    facilities = workbook.create_sheet("facilities")
    facilities.append(FACILITY_COLUMNS)
    facilities.append([code, "常减压装置", "distillation", "800", "t/d"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = client.post(
        IMPORTS, headers=headers, **multipart(file=("registry.xlsx", buffer.getvalue()))
    )

    assert response.status_code == 201
    assert response.get_json() == {"enterprises_created": 1, "facilities_created": 1}


def test_import_is_audited_under_the_request_that_made_it(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    upload = csv_text(COLUMNS[:5], [[credit_code(), "北京子热电有限公司", "", "power", "pinggu"]])
    response = client.post(
        IMPORTS,
        headers={**headers, "X-Request-ID": "import-7"},
        **multipart(file=("e.csv", upload)),
    )
    events = client.get(
        "/api/v1/audit-events", query_string={"entity_type": "enterprise"}, headers=headers
    ).get_json()["items"]

    assert response.status_code == 201
    assert [(e["action"], e["actor_name"], e["request_id"]) for e in events] == [
        ("enterprise:register", "regulator", "import-7")
    ]
    assert events[0]["after"]["name"] == "北京子热电有限公司"


def test_file_with_bad_rows_is_refused_listing_every_bad_row_and_imports_nothing(
    app: Flask, client: FlaskClient, session: Session, headers: dict[str, str]
) -> None:
    registered = make_enterprise(session).credit_code
    good = credit_code()
    upload = csv_text(
        COLUMNS[:5],
        [
            [good, "正常企业", "", "power", "chaoyang"],  # row 2: fine on its own
            [with_wrong_check_character(credit_code()), "校验错", "", "power", "chaoyang"],
            [credit_code(), "行业错", "", "steel_mill", "chaoyang"],  # row 4
            [credit_code(), "区县错", "", "power", "pudong"],  # row 5
            [good, "重复行", "", "power", "chaoyang"],  # row 6 repeats row 2
            [registered, "已登记", "", "power", "chaoyang"],  # row 7
            [credit_code(), "", "", "power", "chaoyang"],  # row 8: no name
        ],
    )

    with writes_nothing(app):
        response = client.post(IMPORTS, headers=headers, **multipart(file=("e.csv", upload)))

    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={
            "#/enterprises/rows/3/credit_code",
            "#/enterprises/rows/4/sector",
            "#/enterprises/rows/5/district",
            "#/enterprises/rows/6/credit_code",
            "#/enterprises/rows/7/credit_code",
            "#/enterprises/rows/8/name",
        },
    )
    for error in body["errors"]:
        assert error["pointer"] == f"#/enterprises/rows/{error['row']}/{error['column']}"
        assert error["detail"]
    assert [e["row"] for e in body["errors"]] == [3, 4, 5, 6, 7, 8]
    assert "nothing was imported" in body["detail"]


def test_bad_facility_rows_refuse_the_whole_batch_including_good_enterprises(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    code = credit_code()
    enterprises = csv_text(COLUMNS[:5], [[code, "北京丑热电有限公司", "", "power", "shunyi"]])
    facilities = csv_text(
        FACILITY_COLUMNS,
        [
            [code, "1号机组", "coal_unit", "350.1234", "MW"],  # row 2: four places
            [credit_code(), "孤儿机组", "coal_unit", "", ""],  # row 3: no such enterprise
            [code, "2号机组", "coal_unit", "300", ""],  # row 4: capacity without unit
        ],
    )

    with writes_nothing(app):
        response = client.post(
            IMPORTS,
            headers=headers,
            **multipart(file=("e.csv", enterprises), facilities=("f.csv", facilities)),
        )

    assert_problem(
        response,
        422,
        "validation-failed",
        pointers={
            "#/facilities/rows/2/capacity",
            "#/facilities/rows/3/credit_code",
            "#/facilities/rows/4/capacity_unit",
        },
    )


POWER_COLUMNS = ["credit_code", "name", "facility_type", "category", "cooling"]


def test_facility_category_and_cooling_are_imported_and_shown_like_the_facility_endpoints(
    client: FlaskClient, session: Session, headers: dict[str, str]
) -> None:
    existing = make_enterprise(session)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "facilities"
    sheet.append(POWER_COLUMNS)
    sheet.append([existing.credit_code, "1号机组", "coal_unit", "coal_300mw_below", "air"])
    sheet.append([existing.credit_code, "2号机组", "gas_unit", "gas", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = client.post(
        IMPORTS, headers=headers, **multipart(file=("units.xlsx", buffer.getvalue()))
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    listed = client.get(f"{ENTERPRISES}/{existing.id}/facilities", headers=headers).get_json()
    assert [(f["name"], f["category"], f["cooling"]) for f in listed["items"]] == [
        ("1号机组", "coal_300mw_below", "air"),
        ("2号机组", "gas", None),
    ]


def test_an_unknown_category_or_cooling_is_a_row_error_and_imports_nothing(
    app: Flask, client: FlaskClient, session: Session, headers: dict[str, str]
) -> None:
    code = make_enterprise(session).credit_code
    facilities = csv_text(
        POWER_COLUMNS,
        [
            [code, "1号机组", "coal_unit", "coal_300mw_plus", "water"],  # row 2: fine
            [code, "2号机组", "coal_unit", "coal_1000mw", "water"],  # row 3
            [code, "3号机组", "coal_unit", "coal_300mw_plus", "hybrid"],  # row 4
        ],
    )
    enterprises = csv_text(
        COLUMNS[:5], [[credit_code(), "北京寅热电有限公司", "", "power", "miyun"]]
    )

    with writes_nothing(app):
        response = client.post(
            IMPORTS,
            headers=headers,
            **multipart(file=("e.csv", enterprises), facilities=("f.csv", facilities)),
        )

    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/facilities/rows/3/category", "#/facilities/rows/4/cooling"},
    )
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "category"), (4, "cooling")]
    assert "coal_300mw_plus" in body["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("header", "pointers"),
    [
        pytest.param(
            [*COLUMNS[:5], "colour"], {"#/enterprises/columns/colour"}, id="unknown-column"
        ),
        pytest.param(
            ["credit_code", "name", "sector"],
            {"#/enterprises/columns/district"},
            id="missing-required-column",
        ),
    ],
)
def test_header_problems_are_reported_per_column_and_import_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    header: list[str],
    pointers: set[str],
) -> None:
    row = [credit_code(), "企业", "", "power", "chaoyang", "green"][: len(header)]
    with writes_nothing(app):
        response = client.post(
            IMPORTS, headers=headers, **multipart(file=("e.csv", csv_text(header, [row])))
        )
    assert_problem(response, 422, "validation-failed", pointers=pointers)


def test_file_that_is_not_utf8_csv_is_an_unreadable_file_problem(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    gbk = csv_text(COLUMNS[:5], [[credit_code(), "北京企业", "", "power", "chaoyang"]]).encode(
        "gbk"
    )
    with writes_nothing(app):
        response = client.post(IMPORTS, headers=headers, **multipart(file=("e.csv", gbk)))
    body = assert_problem(response, 422, "unreadable-file")
    assert "e.csv" in body["detail"]


def test_import_without_a_file_is_a_422_problem(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.post(IMPORTS, headers=headers, data={}, content_type="multipart/form-data")
    assert_problem(response, 422, "validation-failed", pointers={"#/files/file"})


def test_upload_larger_than_the_json_limit_is_accepted(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # Uploads have their own, larger limit: 1.2 MiB of padding (trimmed on reading) is fine.
    padded_name = "北京寅热电有限公司" + " " * (1200 * 1024)
    upload = csv_text(COLUMNS[:5], [[credit_code(), padded_name, "", "power", "huairou"]])

    response = client.post(IMPORTS, headers=headers, **multipart(file=("e.csv", upload)))

    assert response.status_code == 201
    listed = client.get(ENTERPRISES, headers=headers).get_json()["items"]
    assert [e["name"] for e in listed] == ["北京寅热电有限公司"]
