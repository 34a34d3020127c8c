"""Facility lines in the report workbook: the ``facilities`` sheet of the template carries
one row per facility with its line's figures, an upload files them as the JSON API's
``facilities`` member, bad cells come back with sheet, row and column, and workbooks made
before the sheet had figure columns still work (and say nothing about lines)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import Tenants, assert_problem, moves_nothing
from tests.api.test_report_xlsx import Bearer, R, _draft, _fill, _put, _template, _upload

UNIT_1 = "1号燃煤机组"  # the Tenants fixture's facility of ``own``
UNIT_2 = "2号燃气机组"
STREAM = {"kind": "electricity", "quantity": "400", "unit": "MWh"}


def _second_facility(client: FlaskClient, bearer: Bearer, tenants: Tenants) -> int:
    """Give ``own`` a second facility (so that its reports need lines for allocation)."""
    response = client.post(
        f"/api/v1/enterprises/{tenants.own.id}/facilities",
        json={"name": UNIT_2, "facility_type": "gas_unit"},
        headers=bearer["regulator"],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def _fill_facilities(workbook: Any, rows: dict[int, dict[str, Any]]) -> None:
    """Type ``rows`` (sheet row -> {column: value}) into the facilities sheet, as a user
    types into its unlocked figure cells (openpyxl writes to locked ones too)."""
    sheet = workbook["facilities"]
    header = [cell.value for cell in sheet[1]]
    for number, values in rows.items():
        for name, value in values.items():
            sheet.cell(row=number, column=header.index(name) + 1).value = value


def _lines(client: FlaskClient, bearer: Bearer, report_id: int) -> list[dict[str, Any]]:
    shown = client.get(f"{R}/{report_id}", headers=bearer["enterprise_own"])
    assert shown.status_code == 200
    return shown.get_json()["facilities"]  # type: ignore[no-any-return]


def _line(facility: int, output: str | None = None, **figures: str | None) -> dict[str, Any]:
    """A line as the report API shows it (every figure, None when not filed)."""
    return {
        "facility": facility,
        "output": output,
        "heat_supply_ratio": figures.get("heat_supply_ratio"),
        "load_rate": figures.get("load_rate"),
        "heat_supplied_gj": figures.get("heat_supplied_gj"),
        "verified_co2_t": None,
    }


def _old_style(workbook: Any, streams: dict[int, dict[str, Any]]) -> bytes:
    """The workbook as templates made it before facility lines (a facilities sheet with
    only the facility's name, id and type), with ``streams`` typed in."""
    sheet = workbook["facilities"]
    sheet.delete_cols(4, 4)
    return _fill(workbook, streams)


# --- the round trip ------------------------------------------------------------------------


def test_a_filled_facilities_sheet_is_filed_as_the_reports_facility_lines(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    second = _second_facility(client, bearer, tenants)
    workbook = _template(client, bearer, tenants)
    names = [row[0] for row in workbook["facilities"].iter_rows(min_row=2, values_only=True)]
    assert names == [UNIT_1, UNIT_2]
    _fill_facilities(
        workbook,
        {
            # Text cells, as the template formats them; a number cell for unit 2's output.
            2: {"output": "1000", "heat_supply_ratio": "0", "load_rate": "0.78"},
            3: {"output": 2000, "heat_supply_ratio": "0.2", "heat_supplied_gj": "500.5"},
        },
    )
    data = _fill(workbook, {2: STREAM})

    response = _upload(client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == [
        _line(tenants.facility_id, "1000", heat_supply_ratio="0", load_rate="0.78"),
        _line(second, "2000", heat_supply_ratio="0.2", heat_supplied_gj="500.5"),
    ]


def test_a_facility_with_no_figures_gets_no_line(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    second = _second_facility(client, bearer, tenants)
    workbook = _template(client, bearer, tenants)
    _fill_facilities(workbook, {3: {"load_rate": "0.9"}})  # unit 1 (row 2) left empty

    response = _upload(
        client,
        bearer["enterprise_own"],
        _fill(workbook, {2: STREAM}),
        enterprise=tenants.own.credit_code,
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == [_line(second, load_rate="0.9")]


def test_a_drafts_lines_download_with_it_and_upload_back_and_can_be_edited(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    lines = [{"facility": tenants.facility_id, "output": "1200.5", "load_rate": "0.82"}]
    patched = client.patch(
        f"{R}/{draft['id']}", json={"facilities": lines}, headers=bearer["enterprise_own"]
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    filed = patched.get_json()["facilities"]

    workbook = _template(client, bearer, tenants, report=draft["id"])
    row = next(workbook["facilities"].iter_rows(min_row=2, values_only=True))
    assert row == (UNIT_1, tenants.facility_id, "coal_unit", "1200.5", None, "0.82", None)
    unchanged = _put(client, bearer["enterprise_own"], draft["id"], _fill(workbook, {}))
    assert unchanged.status_code == 200, unchanged.get_data(as_text=True)
    assert unchanged.get_json()["facilities"] == filed

    _fill_facilities(workbook, {2: {"load_rate": "0.75", "heat_supplied_gj": "30"}})
    edited = _put(client, bearer["enterprise_own"], draft["id"], _fill(workbook, {}))

    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["facilities"] == [
        _line(tenants.facility_id, "1200.5", load_rate="0.75", heat_supplied_gj="30")
    ]


def test_emptying_the_figures_of_a_downloaded_draft_removes_its_lines(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    lines = [{"facility": tenants.facility_id, "output": "10"}]
    client.patch(f"{R}/{draft['id']}", json={"facilities": lines}, headers=bearer["regulator"])
    workbook = _template(client, bearer, tenants, report=draft["id"])
    _fill_facilities(workbook, {2: {"output": None}})

    response = _put(client, bearer["enterprise_own"], draft["id"], _fill(workbook, {}))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == []


# --- workbooks made before the sheet had figures ------------------------------------------


def test_an_old_workbook_without_figure_columns_files_a_report_without_lines(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    data = _old_style(_template(client, bearer, tenants), {2: STREAM})

    response = _upload(client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == []


def test_a_workbook_without_a_facilities_sheet_files_a_report_without_lines(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    workbook = _template(client, bearer, tenants)
    del workbook["facilities"]

    response = _upload(
        client,
        bearer["enterprise_own"],
        _fill(workbook, {2: STREAM}),
        enterprise=tenants.own.credit_code,
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == []


def test_an_old_workbook_put_on_a_draft_keeps_its_lines(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    lines = [{"facility": tenants.facility_id, "output": "10"}]
    client.patch(f"{R}/{draft['id']}", json={"facilities": lines}, headers=bearer["regulator"])
    data = _old_style(_template(client, bearer, tenants, report=draft["id"]), {})

    response = _put(client, bearer["enterprise_own"], draft["id"], data)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["facilities"] == [_line(tenants.facility_id, "10")]


# --- bad input -----------------------------------------------------------------------------


def test_every_bad_cell_of_the_facilities_sheet_is_reported_with_the_streams_and_nothing_saved(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    _second_facility(client, bearer, tenants)
    workbook = _template(client, bearer, tenants)
    _fill_facilities(
        workbook,
        {
            # Reader: a negative output; the schema: r above 1, F with seven places.
            2: {"output": "-5", "heat_supply_ratio": "1.2", "load_rate": "0.1234567"},
            # Reader: not a number.
            3: {"heat_supplied_gj": "lots"},
            # Rows a user added: an id that is not the enterprise's, unit 1 a second time
            # (by name, with no id), and figures for nobody.
            4: {"facility": "X", "id": tenants.other_facility_id, "output": "1"},
            5: {"facility": UNIT_1, "output": "2"},
            6: {"output": "3"},
        },
    )
    data = _fill(workbook, {2: {"kind": "electricity", "quantity": "1", "unit": "parsec"}})

    with moves_nothing(app):
        response = _upload(
            client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code
        )

    cells = {
        (2, "output"),
        (2, "heat_supply_ratio"),
        (2, "load_rate"),
        (3, "heat_supplied_gj"),
        (4, "id"),
        (5, "facility"),
        (6, "id"),
    }
    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={f"#/facilities/rows/{row}/{column}" for row, column in cells}
        | {"#/streams/rows/2/unit"},
    )
    located = [(e["sheet"], e["row"], e["column"]) for e in body["errors"]]
    # Sorted by sheet, row, then the sheet's column order.
    assert located == [
        ("facilities", 2, "output"),
        ("facilities", 2, "heat_supply_ratio"),
        ("facilities", 2, "load_rate"),
        ("facilities", 3, "heat_supplied_gj"),
        ("facilities", 4, "id"),
        ("facilities", 5, "facility"),
        ("facilities", 6, "id"),
        ("streams", 2, "unit"),
    ]
    reasons = {(e["row"], e["column"]): e["detail"] for e in body["errors"] if e["row"] != 2}
    assert "has a line on row 2 already" in reasons[(5, "facility")]
    assert "not the id of a facility" in reasons[(4, "id")]
    details = {e["column"]: e["detail"] for e in body["errors"] if e["row"] == 2}
    assert "negative" in details["output"]
    assert "6 decimal places" in details["load_rate"]


def test_an_unknown_column_on_the_facilities_sheet_is_refused_on_row_one(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    workbook = _template(client, bearer, tenants)
    workbook["facilities"]["H1"] = "load rate"  # a misspelt column would be data lost
    workbook["facilities"]["H2"] = "0.8"
    data = _fill(workbook, {2: STREAM})

    with moves_nothing(app):
        response = _upload(
            client, bearer["enterprise_own"], data, enterprise=tenants.own.credit_code
        )

    body = assert_problem(
        response, 422, "validation-failed", pointers={"#/facilities/rows/1/load rate"}
    )
    assert body["errors"][0]["code"] == "import.unknown_column"


def test_bad_figures_put_on_a_draft_change_neither_its_lines_nor_its_streams(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    draft = _draft(client, bearer, tenants)
    lines = [{"facility": tenants.facility_id, "output": "10"}]
    client.patch(f"{R}/{draft['id']}", json={"facilities": lines}, headers=bearer["regulator"])
    workbook = _template(client, bearer, tenants, report=draft["id"])
    _fill_facilities(workbook, {2: {"load_rate": "82"}})  # a percentage, not a fraction
    data = _fill(workbook, {3: {"quantity": "1000"}})

    with moves_nothing(app):
        response = _put(client, bearer["enterprise_own"], draft["id"], data)

    assert_problem(response, 422, "validation-failed", pointers={"#/facilities/rows/2/load_rate"})
    assert _lines(client, bearer, draft["id"]) == [_line(tenants.facility_id, "10")]
    shown = client.get(f"{R}/{draft['id']}", headers=bearer["enterprise_own"]).get_json()
    assert shown["streams"] == draft["streams"]
