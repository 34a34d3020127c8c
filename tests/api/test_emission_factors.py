"""The emission factor library over HTTP: list, detail, create, import, export, freeze."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import assert_problem, moves_nothing, multipart
from tests.factories.factors import small_set

URL = "/api/v1/emission-factors"


@pytest.fixture
def reg(auth: Any, regulator: Any) -> dict[str, str]:
    return auth.headers(regulator)


def _seeded_id(client: FlaskClient, headers: dict[str, str]) -> int:
    body = client.get(f"{URL}?name=cn-default", headers=headers).get_json()
    return int(body["items"][0]["id"])


def test_list_is_a_paginated_envelope_filtered_by_year(client: FlaskClient, reg: dict[str, str]):
    response = client.get(f"{URL}?year=2025&page_size=10", headers=reg)
    assert response.status_code == 200
    body = response.get_json()
    assert [(s["name"], s["version"], s["status"]) for s in body["items"]] == [
        ("cn-default", 1, "published")
    ]
    assert body["page"] == {"page": 1, "page_size": 10, "total": 1, "pages": 1}
    assert client.get(f"{URL}?year=2030", headers=reg).get_json()["page"]["total"] == 0


def test_detail_lists_every_factor_with_its_value_as_an_exact_decimal_string(
    client: FlaskClient, reg: dict[str, str]
):
    body = client.get(f"{URL}/{_seeded_id(client, reg)}", headers=reg).get_json()
    assert len(body["factors"]) == 45
    carbon = next(
        f
        for f in body["factors"]
        if (f["code"], f["parameter"]) == ("natural_gas", "carbon_content")
    )
    assert carbon["value"] == "0.0153"
    assert carbon["unit"] == "tC/GJ"
    assert carbon["source"].startswith("GB/T 32150-2015")


def test_posting_rows_creates_a_set_and_posting_again_makes_version_2(
    client: FlaskClient, reg: dict[str, str]
):
    first = client.post(URL, json=small_set(), headers=reg)
    second = client.post(URL, json=small_set(), headers=reg)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert (first.get_json()["version"], second.get_json()["version"]) == (1, 2)
    assert len(second.get_json()["factors"]) == 10


def test_bad_rows_are_all_reported_as_pointers_and_nothing_is_stored(
    app: Flask, client: FlaskClient, reg: dict[str, str]
):
    body = small_set()
    body["rows"][2]["value"] = "1.2"  # oxidation rate above 1
    body["rows"][7]["unit"] = "tCO2/GJ"  # the grid factor is per MWh
    body["rows"][0]["value"] = "1.1234567"  # more places than the column keeps
    with moves_nothing(app):
        shape = client.post(URL, json=body, headers=reg)
    assert_problem(shape, 422, "validation-failed", pointers={"#/rows/0/value"})
    body["rows"][0]["value"] = "42.652"
    with moves_nothing(app):
        rules = client.post(URL, json=body, headers=reg)
    assert_problem(rules, 422, "validation-failed", pointers={"#/rows/2/value", "#/rows/7/unit"})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_round_trips_the_values(
    client: FlaskClient, reg: dict[str, str], fmt: str
):
    set_id = _seeded_id(client, reg)
    exported = client.get(f"{URL}/{set_id}/export?format={fmt}", headers=reg)
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].endswith(f'cn-default-v1.{fmt}"')
    upload = multipart(file=(f"cn-default.{fmt}", exported.get_data()))
    imported = client.post(f"{URL}/import", headers=reg, **upload)
    assert imported.status_code == 201, imported.get_data(as_text=True)
    assert imported.get_json()["version"] == 2
    original = client.get(f"{URL}/{set_id}", headers=reg).get_json()["factors"]
    assert imported.get_json()["factors"] == original


def test_import_of_a_file_with_a_bad_cell_points_at_its_row_and_column(
    app: Flask, client: FlaskClient, reg: dict[str, str]
):
    text = client.get(f"{URL}/{_seeded_id(client, reg)}/export", headers=reg).get_data(True)
    lines = text.splitlines()
    lines[1] = lines[1].replace(",fuel,", ",coal,")  # row 2: an unknown category
    with moves_nothing(app):
        response = client.post(
            f"{URL}/import", headers=reg, **multipart(file=("f.csv", "\n".join(lines)))
        )
    body = assert_problem(response, 422, "validation-failed", pointers={"#/rows/2/category"})
    assert body["errors"][0]["row"] == 2


def test_freezing_marks_the_set_frozen_and_a_draft_cannot_be_frozen(
    app: Flask, client: FlaskClient, reg: dict[str, str]
):
    frozen = client.post(f"{URL}/{_seeded_id(client, reg)}/freeze", headers=reg)
    assert frozen.status_code == 200
    assert frozen.get_json()["is_frozen"] is True
    draft = client.post(URL, json=small_set(status="draft"), headers=reg).get_json()
    with moves_nothing(app):
        refused = client.post(f"{URL}/{draft['id']}/freeze", headers=reg)
    assert_problem(refused, 422, "rule-violation")


def test_publishing_a_published_set_is_a_conflict(
    app: Flask, client: FlaskClient, reg: dict[str, str]
):
    with moves_nothing(app):
        response = client.post(f"{URL}/{_seeded_id(client, reg)}/publish", headers=reg)
    assert_problem(response, 409, "conflict")


def test_an_unknown_set_is_not_found(client: FlaskClient, reg: dict[str, str]):
    assert_problem(client.get(f"{URL}/987654", headers=reg), 404, "not-found")


def test_non_regulators_get_403_when_they_post_rows(
    app: Flask,
    client: FlaskClient,
    tenants: Any,
    headers_for: Callable[[str], dict[str, str]],
):
    for role in ("enterprise_own", "verifier", "finance_officer", "auditor"):
        headers = headers_for(role)  # issuing the token writes a row: outside the block
        with moves_nothing(app):
            response = client.post(URL, json=small_set(), headers=headers)
        assert_problem(response, 403, "permission-denied")
