"""Facilities over HTTP: create, list, read, correct; exact capacities; per-enterprise names."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from tests.api.helpers import assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import make_enterprise

BOILER = {
    "name": "2号燃气锅炉",
    "facility_type": "gas_boiler",
    "capacity": "116.500",
    "capacity_unit": "MWth",
    "commissioned_on": "2015-11-01",
}


def facilities_url(enterprise_id: int) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/facilities"


@pytest.fixture
def enterprise(session: Session) -> Enterprise:
    return make_enterprise(session)


@pytest.fixture
def headers(auth: AuthActions, regulator: Any) -> dict[str, str]:
    return auth.headers(regulator)


def test_regulator_adds_a_facility_and_gets_it_back_exactly(
    client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    response = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers)

    assert response.status_code == 201
    created = response.get_json()
    assert isinstance(created["id"], int)
    assert created["enterprise_id"] == enterprise.id
    for field, value in BOILER.items():
        assert created[field] == value
    fetched = client.get(f"{facilities_url(enterprise.id)}/{created['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == created


def test_facility_list_is_paginated_and_holds_only_that_enterprises_facilities(
    client: FlaskClient, session: Session, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    other = make_enterprise(session)
    for n in range(3):
        client.post(
            facilities_url(enterprise.id), json={**BOILER, "name": f"锅炉{n}"}, headers=headers
        )
    client.post(facilities_url(other.id), json=BOILER, headers=headers)

    response = client.get(
        facilities_url(enterprise.id), query_string={"page_size": 2}, headers=headers
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["page"] == {"page": 1, "page_size": 2, "total": 3, "pages": 2}
    assert [f["name"] for f in body["items"]] == ["锅炉0", "锅炉1"]
    assert {f["enterprise_id"] for f in body["items"]} == {enterprise.id}


def test_patch_changes_only_the_given_fields(
    client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    created = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers).get_json()
    url = f"{facilities_url(enterprise.id)}/{created['id']}"

    response = client.patch(url, json={"capacity": "120.125"}, headers=headers)

    assert response.status_code == 200
    patched = response.get_json()
    assert patched["capacity"] == "120.125"
    assert patched["name"] == BOILER["name"]
    assert patched["capacity_unit"] == "MWth"
    assert patched["commissioned_on"] == "2015-11-01"


def test_facility_for_nonexistent_enterprise_is_404_and_writes_nothing(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    with writes_nothing(app):
        response = client.post(facilities_url(987654), json=BOILER, headers=headers)
    assert_problem(response, 404, "not-found")


def test_facility_read_through_another_enterprises_url_is_404(
    client: FlaskClient, session: Session, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    other = make_enterprise(session)
    created = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers).get_json()

    response = client.get(f"{facilities_url(other.id)}/{created['id']}", headers=headers)

    assert_problem(response, 404, "not-found")


def test_duplicate_facility_name_within_an_enterprise_is_409_and_writes_nothing(
    app: Flask, client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    client.post(facilities_url(enterprise.id), json=BOILER, headers=headers)
    with writes_nothing(app):
        response = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers)
    assert_problem(response, 409, "conflict", pointers={"#/name"})


def test_same_facility_name_in_two_enterprises_is_allowed(
    client: FlaskClient, session: Session, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    other = make_enterprise(session)
    first = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers)
    second = client.post(facilities_url(other.id), json=BOILER, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)


def test_renaming_a_facility_to_a_name_already_used_is_409(
    app: Flask, client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    client.post(facilities_url(enterprise.id), json=BOILER, headers=headers)
    other = client.post(
        facilities_url(enterprise.id), json={**BOILER, "name": "3号锅炉"}, headers=headers
    ).get_json()
    with writes_nothing(app):
        response = client.patch(
            f"{facilities_url(enterprise.id)}/{other['id']}",
            json={"name": BOILER["name"]},
            headers=headers,
        )
    assert_problem(response, 409, "conflict", pointers={"#/name"})


@pytest.mark.parametrize(
    ("changes", "pointers"),
    [
        pytest.param({"capacity_unit": None}, {"#/capacity_unit"}, id="capacity-without-unit"),
        pytest.param({"capacity": None}, {"#/capacity"}, id="unit-without-capacity"),
        pytest.param({"capacity": "1.2345"}, {"#/capacity"}, id="four-decimal-places"),
        pytest.param({"capacity": "-1"}, {"#/capacity"}, id="negative-capacity"),
        # Beyond what the scaled-integer column stores: refused, rather than a 500.
        pytest.param({"capacity": "1E12"}, {"#/capacity"}, id="capacity-beyond-storage"),
        pytest.param({"name": " \t "}, {"#/name"}, id="blank-name"),
        pytest.param({"capacity_unit": "horsepower"}, {"#/capacity_unit"}, id="unknown-unit"),
        pytest.param({"facility_type": "Coal Unit"}, {"#/facility_type"}, id="type-not-a-code"),
        pytest.param({"enterprise_id": 2}, {"#/enterprise_id"}, id="owner-cannot-be-sent"),
    ],
)
def test_invalid_facility_is_refused_with_422_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    enterprise: Enterprise,
    headers: dict[str, str],
    changes: dict[str, Any],
    pointers: set[str],
) -> None:
    with writes_nothing(app):
        response = client.post(
            facilities_url(enterprise.id), json={**BOILER, **changes}, headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers=pointers)


def test_capacity_with_four_decimal_places_is_refused_not_rounded_on_patch_either(
    client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    created = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers).get_json()
    url = f"{facilities_url(enterprise.id)}/{created['id']}"

    response = client.patch(url, json={"capacity": "99.9995"}, headers=headers)

    assert_problem(response, 422, "validation-failed", pointers={"#/capacity"})
    assert client.get(url, headers=headers).get_json()["capacity"] == "116.500"


@pytest.mark.parametrize(
    ("sent", "returned"),
    [("0.001", "0.001"), ("350", "350.000"), ("12345.678", "12345.678"), ("7.5", "7.500")],
)
def test_capacity_is_kept_exactly_and_shown_at_three_places_on_create_and_read(
    client: FlaskClient, enterprise: Enterprise, headers: dict[str, str], sent: str, returned: str
) -> None:
    created = client.post(
        facilities_url(enterprise.id), json={**BOILER, "capacity": sent}, headers=headers
    )
    assert created.status_code == 201
    fetched = client.get(
        f"{facilities_url(enterprise.id)}/{created.get_json()['id']}", headers=headers
    )
    assert created.get_json()["capacity"] == returned
    assert fetched.get_json()["capacity"] == returned


def test_removing_capacity_on_patch_needs_the_unit_removed_too(
    client: FlaskClient, enterprise: Enterprise, headers: dict[str, str]
) -> None:
    created = client.post(facilities_url(enterprise.id), json=BOILER, headers=headers).get_json()
    url = f"{facilities_url(enterprise.id)}/{created['id']}"

    refused = client.patch(url, json={"capacity": None}, headers=headers)
    accepted = client.patch(url, json={"capacity": None, "capacity_unit": None}, headers=headers)

    assert_problem(refused, 422, "validation-failed", pointers={"#/capacity"})
    assert accepted.status_code == 200
    assert accepted.get_json()["capacity"] is None
    assert accepted.get_json()["capacity_unit"] is None
