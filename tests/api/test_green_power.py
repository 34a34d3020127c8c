"""Green power over HTTP: problem+json refusals that change nothing, trade replays, a claim
showing in the report, and targets with their progress."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import Tenants, assert_problem, writes_nothing

GP = "/api/v1/green-power"
Bearer = dict[str, dict[str, str]]


def _plant(client: FlaskClient, bearer: Bearer, province: str = "hebei") -> int:
    body = {"name": f"{province} 风电", "kind": "wind", "capacity_mw": "100.5",
            "province": province, "grid_region": "north_china"}  # fmt: skip
    response = client.post(f"{GP}/plants", json=body, headers=bearer["regulator"])
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["capacity_mw"] == "100.500"
    return int(response.get_json()["id"])


def _trade(client: FlaskClient, bearer: Bearer, tenants: Tenants, plant: int, **extra: Any) -> Any:
    body = {"reference": "GT-1", "plant": plant, "buyer": tenants.own.credit_code,
            "period_start": "2025-04-01", "period_end": "2025-04-30", "mwh": "600",
            "price_cny_per_mwh": "372.50", "green_premium_cny_per_mwh": "8"} | extra  # fmt: skip
    return client.post(f"{GP}/trades", json=body, headers=bearer["regulator"])


def test_a_trade_reported_twice_is_recorded_once(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    plant = _plant(client, bearer)
    first = _trade(client, bearer, tenants, plant)
    assert first.status_code == 201
    with writes_nothing(app):
        again = _trade(client, bearer, tenants, plant)
        changed = _trade(client, bearer, tenants, plant, mwh="601")
        reversed_period = _trade(client, bearer, tenants, plant, reference="GT-2",
                                 period_start="2025-05-01")  # fmt: skip
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert_problem(changed, 409, "conflict", pointers={"#/mwh"})
    assert_problem(reversed_period, 422, "validation-failed", pointers={"#/period_end"})
    # The seller's own buyer list: own sees it, other does not.
    own = client.get(f"{GP}/trades", headers=bearer["enterprise_own"]).get_json()
    other = client.get(f"{GP}/trades", headers=bearer["enterprise_other"]).get_json()
    assert (own["page"]["total"], other["page"]["total"]) == (1, 0)


def test_overlapping_certificates_and_double_claims_are_problems_that_change_nothing(
    app: Flask, client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    plant = _plant(client, bearer)
    issue = {"plant": plant, "generation_year": 2025, "serial_start": 1, "serial_end": 500,
             "holder": tenants.own.credit_code}  # fmt: skip
    assert (
        client.post(f"{GP}/certificates", json=issue, headers=bearer["regulator"]).status_code
        == 201
    )
    claim = {"enterprise": tenants.own.credit_code, "year": 2025, "serial_start": 1,
             "serial_end": 100, "purpose": "2025年用电"}  # fmt: skip
    made = client.post(f"{GP}/claims", json=claim, headers=bearer["enterprise_own"])
    assert made.status_code == 201
    assert made.get_json()["mwh"] == 100

    with writes_nothing(app):
        overlap = client.post(
            f"{GP}/certificates", json=issue | {"serial_start": 400, "serial_end": 600},
            headers=bearer["regulator"],
        )  # fmt: skip
        twice = client.post(
            f"{GP}/claims", json=claim | {"serial_start": 50, "serial_end": 150},
            headers=bearer["enterprise_own"],
        )  # fmt: skip
        too_many = client.post(
            f"{GP}/claims", json=claim | {"serial_start": 401, "serial_end": 700},
            headers=bearer["enterprise_own"],
        )  # fmt: skip
        for_other = client.post(
            f"{GP}/claims", json=claim | {"enterprise": tenants.other.credit_code},
            headers=bearer["enterprise_own"],
        )  # fmt: skip
    assert_problem(overlap, 409, "conflict", pointers={"#/serial_start"})
    assert_problem(twice, 409, "conflict", pointers={"#/serial_start"})
    assert_problem(too_many, 422, "rule-violation", pointers={"#/serial_start"})
    assert_problem(for_other, 404, "not-found")

    blocks = client.get(f"{GP}/certificates", headers=bearer["enterprise_own"]).get_json()
    assert [
        (b["serial_start"], b["serial_end"], b["mwh"], b["status"]) for b in blocks["items"]
    ] == [
        (1, 100, 100, "claimed"),
        (101, 500, 400, "active"),
    ]


def test_a_claim_shows_in_the_report_breakdown(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    plant = _plant(client, bearer)
    client.post(
        f"{GP}/certificates",
        json={"plant": plant, "generation_year": 2025, "serial_start": 1001,
              "serial_end": 1400, "holder": tenants.own.credit_code},
        headers=bearer["regulator"],
    )  # fmt: skip
    report = client.post(
        "/api/v1/reports",
        json={"enterprise": tenants.own.credit_code, "year": 2025,
              "streams": [{"kind": "electricity", "quantity": "1000", "unit": "MWh"}]},
        headers=bearer["enterprise_own"],
    ).get_json()  # fmt: skip
    assert report["co2_t"] == "536.600000"  # 1000 × 0.5366
    client.post(
        f"{GP}/claims",
        json={"enterprise": tenants.own.credit_code, "year": 2025, "serial_start": 1001,
              "serial_end": 1400, "purpose": "外购电力抵扣"},
        headers=bearer["enterprise_own"],
    )  # fmt: skip
    shown = client.get(f"/api/v1/reports/{report['id']}", headers=bearer["regulator"]).get_json()
    # (1000 − 400) MWh × 0.5366 = 321.96 t
    assert shown["co2_t"] == "321.960000"
    green = shown["breakdown"]["green_power"]
    assert green["claimed_mwh"] == "400"
    assert [(c["serial_start"], c["serial_end"]) for c in green["certificates"]] == [(1001, 1400)]


def test_targets_show_progress_rounded_half_up(
    client: FlaskClient, bearer: Bearer, tenants: Tenants
) -> None:
    plant = _plant(client, bearer, "inner_mongolia")
    assert _trade(client, bearer, tenants, plant, mwh="600.125").status_code == 201
    target = {"name": "2025年外调绿电", "metric": "green_power_imported_mwh", "year": 2025,
              "target_value": "1000"}  # fmt: skip
    created = client.post(f"{GP}/targets", json=target, headers=bearer["regulator"])
    assert created.status_code == 201
    # 600.125 ÷ 1000 × 100 = 60.0125 % → 60.01 (two places, half up)
    assert (created.get_json()["achieved"], created.get_json()["progress_pct"]) == (
        "600.125",
        "60.01",
    )
    listed = client.get(f"{GP}/targets?year=2025", headers=bearer["finance_officer"]).get_json()
    assert [t["progress_pct"] for t in listed["items"]] == ["60.01"]
