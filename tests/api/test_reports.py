"""Emission reports over HTTP: the workflow, problem+json refusals that change nothing,
tenancy, and decimals as strings."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import Tenants, assert_problem, moves_nothing

R = "/api/v1/reports"
YEAR = 2025
#: Worked example (cn-default): natural gas 100 × 10^4 Nm3 → 100 × 389.31 × 0.01530 × 0.99
#: × 44/12 = 2162.188809 t; electricity 400 + 600 MWh by month × 0.5366 = 214.64 + 321.96 t;
#: reported co2_t = 2698.788809 t.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3"},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1, "evidence": "1月电费单"},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2, "evidence": "2月电费单"},
]


def _create(
    client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants, **extra: Any
) -> dict[str, Any]:
    body = {"enterprise": tenants.own.credit_code, "year": YEAR, "streams": STREAMS} | extra
    response = client.post(R, json=body, headers=bearer["enterprise_own"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _to_status(
    client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants, status: str
) -> int:
    """A report of ``own`` moved along the workflow up to ``status``."""
    report_id = int(_create(client, bearer, tenants)["id"])
    steps = [
        ("submitted", "submit", "enterprise_own", None),
        ("assigned", "assign", "regulator", {"verifier": "verifier"}),
        ("verified", "verify", "verifier", {"verified_co2_t": "2698.5", "opinion": "符合"}),
        ("approved", "approve", "regulator", None),
    ]
    for name, step, role, body in steps:
        if status == "draft":
            break
        response = client.post(f"{R}/{report_id}/{step}", json=body, headers=bearer[role])
        assert response.status_code == 200, response.get_data(as_text=True)
        if name == status:
            break
    return report_id


def test_the_whole_workflow_over_http(
    client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants
) -> None:
    created = _create(client, bearer, tenants)
    assert created["status"] == "draft"
    assert created["version"] == 1
    assert created["co2_t"] == "2698.788809"
    assert created["breakdown"]["co2_t"] == "2698.788809"
    assert created["streams"][1] == STREAMS[1]

    report_id = created["id"]
    for step, role, body in [
        ("submit", "enterprise_own", None),
        ("assign", "regulator", {"verifier": "verifier"}),
        ("verify", "verifier", {"verified_co2_t": "2698.5", "opinion": "数据真实"}),
        ("approve", "regulator", None),
    ]:
        response = client.post(f"{R}/{report_id}/{step}", json=body, headers=bearer[role])
        assert response.status_code == 200, response.get_data(as_text=True)

    shown = client.get(f"{R}/{report_id}", headers=bearer["enterprise_own"]).get_json()
    # obligation_t: the verified 2698.5 t rounded once, half up = 2699 t.
    assert (shown["status"], shown["verified_co2_t"], shown["obligation_t"]) == (
        "approved",
        "2698.500000",
        2699,
    )
    listed = client.get(f"{R}?year={YEAR}&status=approved", headers=bearer["auditor"]).get_json()
    assert [item["id"] for item in listed["items"]] == [report_id]


def test_a_returned_report_comes_back_editable_with_its_reasons(
    client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants
) -> None:
    report_id = _to_status(client, bearer, tenants, "submitted")
    response = client.post(
        f"{R}/{report_id}/return", json={"reasons": ["缺少月度凭证"]}, headers=bearer["regulator"]
    )
    assert response.get_json()["return_reasons"] == ["缺少月度凭证"]
    edited = client.put(
        f"{R}/{report_id}", json={"streams": STREAMS[:1]}, headers=bearer["enterprise_own"]
    )
    assert edited.status_code == 200
    assert edited.get_json()["co2_t"] == "2162.188809"


BAD_STREAMS = [
    ({"kind": "electricity", "quantity": "-1", "unit": "MWh"}, "#/streams/0/quantity"),
    ({"kind": "electricity", "quantity": "abc", "unit": "MWh"}, "#/streams/0/quantity"),
    ({"kind": "fuel", "fuel": "peat_moss", "quantity": "1", "unit": "t"}, "#/streams/0/fuel"),
    ({"kind": "heat", "quantity": "1", "unit": "parsec"}, "#/streams/0/unit"),
    ({"kind": "fuel", "fuel": "natural_gas", "quantity": "1", "unit": "GJ"}, "#/streams/0/unit"),
]


@pytest.mark.parametrize(("stream", "pointer"), BAD_STREAMS)
def test_bad_activity_data_is_a_problem_that_stores_nothing(
    app: Flask,
    client: FlaskClient,
    bearer: dict[str, dict[str, str]],
    tenants: Tenants,
    stream: dict[str, Any],
    pointer: str,
) -> None:
    body = {"enterprise": tenants.own.credit_code, "year": YEAR, "streams": [stream]}
    with moves_nothing(app):
        response = client.post(R, json=body, headers=bearer["enterprise_own"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})


def test_a_year_without_a_factor_set_is_a_problem(
    app: Flask, client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants
) -> None:
    body = {"enterprise": tenants.own.credit_code, "year": 2031, "streams": STREAMS}
    with moves_nothing(app):
        response = client.post(R, json=body, headers=bearer["enterprise_own"])
    assert_problem(response, 422, "validation-failed", pointers={"#/year"})


WRONG_STEPS = [
    # (status reached, role, step, body, expected status, slug)
    ("submitted", "enterprise_own", "submit", None, 409, "conflict"),
    (
        "assigned",
        "enterprise_own",
        "verify",
        {"verified_co2_t": "1", "opinion": "x"},
        403,
        "permission-denied",
    ),
    ("assigned", "regulator", "approve", None, 409, "conflict"),
    ("approved", "enterprise_own", "", {"streams": STREAMS}, 409, "conflict"),
    ("approved", "regulator", "return", {"reasons": ["x"]}, 409, "conflict"),
    (
        "submitted",
        "verifier",  # not assigned to this report
        "verify",
        {"verified_co2_t": "1", "opinion": "x"},
        404,
        "not-found",
    ),
    (
        "assigned",
        "verifier",
        "verify",
        {"verified_co2_t": "2000", "opinion": "偏差"},  # 25 % off and no reason
        422,
        "rule-violation",
    ),
]


@pytest.mark.parametrize(("status", "role", "step", "body", "expected", "slug"), WRONG_STEPS)
def test_a_step_out_of_turn_is_a_problem_that_changes_nothing(
    app: Flask,
    client: FlaskClient,
    bearer: dict[str, dict[str, str]],
    tenants: Tenants,
    status: str,
    role: str,
    step: str,
    body: Any,
    expected: int,
    slug: str,
) -> None:
    report_id = _to_status(client, bearer, tenants, status)
    before = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    url = f"{R}/{report_id}/{step}" if step else f"{R}/{report_id}"
    with moves_nothing(app):
        response = client.open(
            url, method="POST" if step else "PUT", json=body, headers=bearer[role]
        )
    assert_problem(response, expected, slug)
    assert client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json() == before


def test_another_enterprises_report_is_not_found_like_a_missing_one(
    client: FlaskClient, bearer: dict[str, dict[str, str]], tenants: Tenants
) -> None:
    report_id = _to_status(client, bearer, tenants, "draft")
    theirs = client.get(f"{R}/{report_id}", headers=bearer["enterprise_other"])
    missing = client.get(f"{R}/987654", headers=bearer["enterprise_other"])
    theirs_body = assert_problem(theirs, 404, "not-found")
    missing_body = assert_problem(missing, 404, "not-found")
    # The same words too: a different detail would tell that the id is taken.
    assert theirs_body["detail"] == f"emission report {report_id} does not exist"
    assert missing_body["detail"] == "emission report 987654 does not exist"
    listed = client.get(R, headers=bearer["enterprise_other"]).get_json()
    assert listed["items"] == []
