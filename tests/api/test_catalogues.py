"""The sector and district catalogues: public reads with zh/en labels, regulator additions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import credit_code

SECTORS = "/api/v1/catalogues/sectors"
DISTRICTS = "/api/v1/catalogues/districts"
SEEDED_SECTORS = {
    "power",
    "heat",
    "cement",
    "petrochemical",
    "other_industry",
    "services",
    "transport",
}
BEIJING_DISTRICTS = {
    "dongcheng",
    "xicheng",
    "chaoyang",
    "haidian",
    "fengtai",
    "shijingshan",
    "mentougou",
    "fangshan",
    "tongzhou",
    "shunyi",
    "changping",
    "daxing",
    "huairou",
    "pinggu",
    "miyun",
    "yanqing",
    "bda",
}


def test_sector_catalogue_is_public_and_lists_the_seven_seeded_sectors(
    client: FlaskClient,
) -> None:
    response = client.get(SECTORS)  # no Authorization header
    assert response.status_code == 200
    sectors = response.get_json()
    assert {s["code"] for s in sectors} == SEEDED_SECTORS
    assert len(sectors) == 7
    assert all(s["is_active"] for s in sectors)


def test_district_catalogue_is_public_and_lists_sixteen_districts_and_the_bda(
    client: FlaskClient,
) -> None:
    response = client.get(DISTRICTS)
    assert response.status_code == 200
    districts = response.get_json()
    assert len(districts) == 17
    assert {d["code"] for d in districts} == BEIJING_DISTRICTS


@pytest.mark.parametrize(
    ("url", "code", "label_zh", "label_en"),
    [
        pytest.param(SECTORS, "power", "电力", "Power generation", id="sector-power"),
        pytest.param(SECTORS, "transport", "交通运输", "Transport", id="sector-transport"),
        pytest.param(
            DISTRICTS,
            "bda",
            "北京经济技术开发区",
            "Beijing Economic-Technological Development Area",
            id="district-bda",
        ),
        pytest.param(DISTRICTS, "haidian", "海淀区", "Haidian", id="district-haidian"),
    ],
)
def test_catalogue_entries_carry_chinese_and_english_labels(
    client: FlaskClient, url: str, code: str, label_zh: str, label_en: str
) -> None:
    entries = {e["code"]: e for e in client.get(url).get_json()}
    assert entries[code]["label_zh"] == label_zh
    assert entries[code]["label_en"] == label_en


@pytest.mark.parametrize("url", [SECTORS, DISTRICTS])
def test_every_catalogue_entry_has_both_labels(client: FlaskClient, url: str) -> None:
    for entry in client.get(url).get_json():
        assert entry["label_zh"].strip()
        assert entry["label_en"].strip()
        assert entry["label_zh"] != entry["label_en"]


def test_regulator_adds_a_sector_that_enterprises_can_then_register_in(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    steel = {"code": "steel", "label_zh": "钢铁", "label_en": "Iron and steel"}

    created = client.post(SECTORS, json=steel, headers=headers)
    listed = client.get(SECTORS).get_json()
    registered = client.post(
        "/api/v1/enterprises",
        json={
            "credit_code": credit_code(),
            "name": "首钢",
            "sector": "steel",
            "district": "shijingshan",
        },
        headers=headers,
    )

    assert created.status_code == 201
    assert created.get_json() == {**steel, "is_active": True}
    assert "steel" in {s["code"] for s in listed}
    assert registered.status_code == 201


def test_adding_an_existing_sector_is_409_and_writes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            SECTORS, json={"code": "power", "label_zh": "电", "label_en": "Power"}, headers=headers
        )
    assert_problem(response, 409, "conflict", pointers={"#/code"})


@pytest.mark.parametrize(
    ("entry", "pointers"),
    [
        pytest.param(
            {"code": "Steel Mill", "label_zh": "钢铁", "label_en": "Steel"},
            {"#/code"},
            id="code-not-lower-case-identifier",
        ),
        pytest.param({"code": "steel"}, {"#/label_zh", "#/label_en"}, id="labels-missing"),
        pytest.param(
            {"code": "steel", "label_zh": "钢铁", "label_en": "Steel", "is_active": False},
            {"#/is_active"},
            id="is-active-is-read-only",
        ),
    ],
)
def test_invalid_sector_is_refused_with_422_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    regulator: Any,
    entry: dict[str, Any],
    pointers: set[str],
) -> None:
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(SECTORS, json=entry, headers=headers)
    assert_problem(response, 422, "validation-failed", pointers=pointers)
