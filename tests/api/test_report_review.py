"""Reports over HTTP: PATCH, the output and its intensities, the monthly series, review
flags and the ``flagged`` filter."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.helpers import Tenants, assert_problem

R = "/api/v1/reports"
#: cn-default: natural gas 100 × 10^4 Nm3 = 2162.188809 t (whole year); electricity by
#: month 400 MWh × 0.5366 = 214.64 t and 600 MWh × 0.5366 = 321.96 t; total 2698.788809 t.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3"},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2},
]
OUTPUT = {"quantity": "1200", "unit": "t clinker", "value_10k_cny": "4500"}
Bearer = dict[str, dict[str, str]]


def _create(client: FlaskClient, bearer: Bearer, tenants: Tenants, **extra: Any) -> Any:
    body = {"enterprise": tenants.own.credit_code, "year": 2025, "streams": STREAMS} | extra
    response = client.post(R, json=body, headers=bearer["enterprise_own"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_output_intensity_and_monthly_series_in_the_response(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    created = _create(client, bearer, tenants, output=OUTPUT)
    assert created["output"] == OUTPUT
    # 2698.788809 t ÷ 1200 t clinker = 2.24899067… → 2.248991 t/t;
    # ÷ 4500 × 10^4 CNY = 0.59973084… → 0.599731 t per 10^4 CNY (six places, half up).
    assert created["intensity"] == {
        "basis": "reported",
        "co2_t_per_output_unit": "2.248991",
        "output_unit": "t clinker",
        "co2_t_per_10k_cny": "0.599731",
    }
    assert created["monthly"] == {
        "months": [{"month": 1, "co2_t": "214.640000"}, {"month": 2, "co2_t": "321.960000"}],
        "annual_co2_t": "2162.188809",
    }
    assert created["flags"] == []
    assert created["flag_count"] == 0

    report_id = created["id"]
    for step, role, body in [
        ("submit", "enterprise_own", None),
        ("assign", "regulator", {"verifier": "verifier"}),
        ("verify", "verifier", {"verified_co2_t": "2400", "opinion": "核减", "reason": "重复计量"}),
    ]:
        response = client.post(f"{R}/{report_id}/{step}", json=body, headers=bearer[role])
        assert response.status_code == 200, response.get_data(as_text=True)
    # Once verified, the intensities use the verified 2400 t: 2400 ÷ 1200 = 2.000000;
    # 2400 ÷ 4500 = 0.5333… → 0.533333.
    verified = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    assert verified["intensity"]["basis"] == "verified"
    assert verified["intensity"]["co2_t_per_output_unit"] == "2.000000"
    assert verified["intensity"]["co2_t_per_10k_cny"] == "0.533333"


def test_patch_changes_only_what_it_names_and_put_replaces_everything(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    report_id = _create(client, bearer, tenants, output=OUTPUT)["id"]
    own = bearer["enterprise_own"]

    patched = client.patch(f"{R}/{report_id}", json={"streams": STREAMS[:1]}, headers=own)
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert (patched.get_json()["co2_t"], patched.get_json()["output"]) == ("2162.188809", OUTPUT)

    patched = client.patch(f"{R}/{report_id}", json={"output": None}, headers=own)
    assert patched.get_json()["output"] is None
    assert patched.get_json()["intensity"] is None
    assert patched.get_json()["co2_t"] == "2162.188809"

    client.patch(f"{R}/{report_id}", json={"output": OUTPUT}, headers=own)
    put = client.put(f"{R}/{report_id}", json={"streams": STREAMS}, headers=own)
    assert put.get_json()["output"] is None  # PUT without output clears it
    assert put.get_json()["co2_t"] == "2698.788809"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "#"),
        ({"output": {"quantity": "10"}}, "#/output/unit"),
        ({"output": {"unit": "t"}}, "#/output/unit"),
        ({"output": {}}, "#/output/quantity"),
        ({"output": {"value_10k_cny": "0"}}, "#/output/value_10k_cny"),
        ({"output": {"value_10k_cny": "1.0000001"}}, "#/output/value_10k_cny"),
        ({"output": {"quantity": "-5", "unit": "t"}}, "#/output/quantity"),
        ({"streams": []}, "#/streams"),
    ],
)
def test_a_bad_patch_is_a_problem_that_changes_nothing(
    client: FlaskClient,
    bearer: Bearer,
    tenants: Tenants,
    body: dict[str, Any],
    pointer: str,
) -> None:
    report_id = _create(client, bearer, tenants, output=OUTPUT)["id"]
    before = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    response = client.patch(f"{R}/{report_id}", json=body, headers=bearer["enterprise_own"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})
    assert client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json() == before


def test_patching_a_submitted_report_is_a_conflict(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    report_id = _create(client, bearer, tenants)["id"]
    client.post(f"{R}/{report_id}/submit", headers=bearer["enterprise_own"])
    response = client.patch(
        f"{R}/{report_id}", json={"output": OUTPUT}, headers=bearer["enterprise_own"]
    )
    assert_problem(response, 409, "conflict")
    shown = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    assert shown["output"] is None


def test_flags_are_shown_and_the_list_filters_on_them(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    # Raw coal with a supplied NCV of 40 GJ/t: above the expected 11.5–32.2 GJ/t.
    odd = {"kind": "fuel", "fuel": "raw_coal", "quantity": "10", "unit": "t",
           "factors": {"ncv": "40"}}  # fmt: skip
    created = _create(client, bearer, tenants, streams=[*STREAMS, odd])
    assert created["flag_count"] == 1
    (flag,) = created["flags"]
    assert (flag["code"], flag["pointer"], flag["value"]) == (
        "fuel_range",
        "#/streams/3/factors/ncv",
        "40",
    )

    flagged = client.get(f"{R}?flagged=true", headers=bearer["regulator"]).get_json()
    assert [r["id"] for r in flagged["items"]] == [created["id"]]
    unflagged = client.get(f"{R}?flagged=false", headers=bearer["regulator"]).get_json()
    assert created["id"] not in [r["id"] for r in unflagged["items"]]
