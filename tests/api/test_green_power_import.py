"""Bulk intake of green trades and certificates: all or nothing, every bad row at once,
a trade file imported twice changing nothing."""

from __future__ import annotations

import io

import openpyxl
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import Tenants, assert_problem, csv_text, multipart, writes_nothing

GP = "/api/v1/green-power"
Bearer = dict[str, dict[str, str]]
TRADE_COLUMNS = [
    "reference",
    "plant",
    "buyer",
    "period_start",
    "period_end",
    "mwh",
    "price_cny_per_mwh",
    "green_premium_cny_per_mwh",
]


def _plant(client: FlaskClient, bearer: Bearer) -> None:
    body = {
        "name": "张北风电",
        "kind": "wind",
        "capacity_mw": "100",
        "province": "hebei",
        "grid_region": "north_china",
    }
    assert client.post(f"{GP}/plants", json=body, headers=bearer["regulator"]).status_code == 201


def _trades(tenants: Tenants, *rows: list[str]) -> str:
    code = tenants.own.credit_code
    default = [
        ["GT-1", "张北风电", code, "2025-01-01", "2025-01-31", "300.5", "372", "8"],
        ["GT-2", "张北风电", code, "2025-02-01", "2025-02-28", "200", "365.5", "8"],
    ]
    return csv_text(TRADE_COLUMNS, list(rows) or default)


def test_a_trade_file_is_recorded_once_and_its_certificates_follow(
    client: FlaskClient, bearer: Bearer, tenants: Tenants, app: Flask
) -> None:
    _plant(client, bearer)
    upload = _trades(tenants)
    first = client.post(
        f"{GP}/trades/import", headers=bearer["regulator"], **multipart(file=("trades.csv", upload))
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json() == {"kind": "trades", "rows": 2, "unchanged": 0}
    with writes_nothing(app):
        again = client.post(
            f"{GP}/trades/import",
            headers=bearer["regulator"],
            **multipart(file=("trades.csv", upload)),
        )
    assert again.get_json() == {"kind": "trades", "rows": 2, "unchanged": 2}

    # Certificates as a workbook: 300 for GT-1 (300.5 MWh), and 100 held by the plant.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "certificates"
    sheet.append(["plant", "generation_year", "serial_start", "serial_end", "holder", "trade"])
    sheet.append(["张北风电", "2025", "1", "300", None, "GT-1"])
    sheet.append(["张北风电", "2025", "301", "400", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    issued = client.post(
        f"{GP}/certificates/import",
        headers=bearer["regulator"],
        **multipart(file=("certificates.xlsx", buffer.getvalue())),
    )
    assert issued.status_code == 201, issued.get_data(as_text=True)
    assert issued.get_json()["rows"] == 2
    own = client.get(f"{GP}/certificates", headers=bearer["enterprise_own"]).get_json()
    assert [(b["serial_start"], b["serial_end"]) for b in own["items"]] == [(1, 300)]


def test_every_bad_row_is_reported_and_nothing_is_recorded(
    client: FlaskClient, bearer: Bearer, tenants: Tenants, app: Flask
) -> None:
    _plant(client, bearer)
    code = tenants.own.credit_code
    upload = _trades(
        tenants,
        ["GT-1", "张北风电", code, "2025-01-01", "2025-01-31", "300", "372", "8"],
        ["GT-2", "无此电站", code, "2025-01-01", "2025-01-31", "300", "372", "8"],  # row 3
        ["GT-3", "张北风电", code, "2025-03-01", "2025-02-01", "300", "372", "8"],  # row 4
        ["GT-4", "张北风电", code, "2025-01-01", "2025-01-31", "-5", "372", "8"],  # row 5
        ["GT-1", "张北风电", code, "2025-01-01", "2025-01-31", "300", "372", "8"],  # row 6
    )
    with writes_nothing(app):
        response = client.post(
            f"{GP}/trades/import",
            headers=bearer["regulator"],
            **multipart(file=("trades.csv", upload)),
        )
    # Shape errors come first and alone: the negative MWh and the repeated reference.
    body = assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/trades/rows/5/mwh", "#/trades/rows/6/reference"},
    )
    assert {(e["row"], e["column"]) for e in body["errors"]} == {(5, "mwh"), (6, "reference")}

    shaped = _trades(
        tenants,
        *[
            r
            for i, r in enumerate(
                [
                    ["GT-1", "张北风电", code, "2025-01-01", "2025-01-31", "300", "372", "8"],
                    ["GT-2", "无此电站", code, "2025-01-01", "2025-01-31", "300", "372", "8"],
                    ["GT-3", "张北风电", code, "2025-03-01", "2025-02-01", "300", "372", "8"],
                ]
            )
        ],
    )
    with writes_nothing(app):
        response = client.post(
            f"{GP}/trades/import",
            headers=bearer["regulator"],
            **multipart(file=("trades.csv", shaped)),
        )
    assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/trades/rows/3/plant", "#/trades/rows/4/period_end"},
    )


def test_overlapping_rows_of_one_certificate_file_are_caught(
    client: FlaskClient, bearer: Bearer, app: Flask
) -> None:
    _plant(client, bearer)
    upload = csv_text(
        ["plant", "generation_year", "serial_start", "serial_end"],
        [["张北风电", "2025", "1", "100"], ["张北风电", "2025", "90", "150"]],
    )
    with writes_nothing(app):
        response = client.post(
            f"{GP}/certificates/import",
            headers=bearer["regulator"],
            **multipart(file=("certificates.csv", upload)),
        )
    assert_problem(
        response, 422, "validation-failed", pointers={"#/certificates/rows/3/serial_start"}
    )


def test_only_regulators_import(client: FlaskClient, bearer: Bearer, tenants: Tenants) -> None:
    _plant(client, bearer)
    for role in ("finance_officer", "enterprise_own", "auditor"):
        response = client.post(
            f"{GP}/trades/import",
            headers=bearer[role],
            **multipart(file=("trades.csv", _trades(tenants))),
        )
        assert_problem(response, 403, "permission-denied")
