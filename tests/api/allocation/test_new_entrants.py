"""New entrants and capacity changes: benchmark allocations from the plan's reserve, pro
rata by months operating, refused once the reserve is exhausted."""

from __future__ import annotations

from tests.api.helpers import OWN_FUNDED, allowances, assert_problem, moves_nothing

P = "/api/v1/allocation/plans"
#: Reserve: floor(10,000 × 0.05) = 500 allowances for new entrants.
PLAN = {
    "year": 2025,
    "cap": 10000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "power": {"method": "benchmark", "benchmarks": {"coal_unit": "0.8"}},
    },
}


def test_new_entrant_and_capacity_change_come_from_the_reserve_until_it_is_exhausted(
    client, tenants, bearer
):
    regulator = bearer["regulator"]
    plan_id = client.post(P, json=PLAN, headers=regulator).get_json()["id"]
    client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    url = f"{P}/{plan_id}/new-entrants"
    unit = tenants.facility_id  # own's coal_unit: no verified data, so no plan allocation

    # 1,000 MWh × 0.8 = 800 t a year; from 10 April: 9 months → 800 × 9/12 = 600 > 500.
    with moves_nothing(client.application):
        too_big = client.post(
            url, json={"facility_id": unit, "output": "1000", "start_date": "2025-04-10"},
            headers=regulator,
        )  # fmt: skip
    problem = assert_problem(too_big, 422, "rule-violation", pointers={"#/output"})
    assert "500 allowances left, 600 needed" in problem["detail"]

    # 600 MWh × 0.8 = 480 t a year; from 1 July: 6 months → 240. Reserve left: 260.
    entrant = client.post(
        url, json={"facility_id": unit, "output": "600", "start_date": "2025-07-01"},
        headers=regulator,
    )  # fmt: skip
    assert entrant.status_code == 201, entrant.get_data(as_text=True)
    body = entrant.get_json()
    assert (body["stage"], body["quantity"], body["note"]) == ("new_entrant", 240, "new_entrant")
    assert body["breakdown"]["months"] == 6
    assert body["breakdown"]["annual_allocation"] == "480.000000"
    assert body["tx_id"] is not None

    again = client.post(
        url, json={"facility_id": unit, "output": "600", "start_date": "2025-07-01"},
        headers=regulator,
    )  # fmt: skip
    assert_problem(again, 409, "conflict")
    # Added capacity 500 MWh a year from 1 October: 400 t × 3/12 = 100. Reserve left: 160.
    change = client.post(
        url,
        json={"facility_id": unit, "kind": "capacity_change", "output": "500",
              "start_date": "2025-10-01"},
        headers=regulator,
    )  # fmt: skip
    assert change.status_code == 201, change.get_data(as_text=True)
    assert change.get_json()["quantity"] == 100
    # 1,000 MWh from January: 800 > 160 left.
    exhausted = client.post(
        url,
        json={"facility_id": unit, "kind": "capacity_change", "output": "1000",
              "start_date": "2025-01-01"},
        headers=regulator,
    )  # fmt: skip
    assert_problem(exhausted, 422, "rule-violation", pointers={"#/output"})
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 240 + 100


def test_entrants_outside_a_benchmark_sector_or_the_plan_year_are_refused(client, tenants, bearer):
    regulator = bearer["regulator"]
    plan_id = client.post(P, json=PLAN, headers=regulator).get_json()["id"]
    url = f"{P}/{plan_id}/new-entrants"
    body = {"facility_id": tenants.facility_id, "output": "600", "start_date": "2025-07-01"}
    assert_problem(client.post(url, json=body, headers=regulator), 409, "conflict")  # a draft
    client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    with moves_nothing(client.application):
        kiln = client.post(
            url, json=body | {"facility_id": tenants.other_facility_id}, headers=regulator
        )
        last_year = client.post(url, json=body | {"start_date": "2024-12-01"}, headers=regulator)
        no_bench = client.post(url, json=body | {"category": "gas"}, headers=regulator)
        negative = client.post(url, json=body | {"output": "-1"}, headers=regulator)
    assert_problem(kiln, 422, "rule-violation", pointers={"#/facility_id"})
    assert_problem(last_year, 422, "validation-failed", pointers={"#/start_date"})
    assert_problem(no_bench, 422, "rule-violation", pointers={"#/category"})
    assert_problem(negative, 422, "validation-failed", pointers={"#/output"})
