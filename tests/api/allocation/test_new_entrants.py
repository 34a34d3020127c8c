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


def approve(client, bearer, url: str, record_id: int) -> dict:
    response = client.post(f"{url}/{record_id}/approve", headers=bearer["regulator_second"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


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
    # Pending: nothing has moved yet.
    assert (body["status"], body["tx_id"]) == ("pending", None)
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED

    again = client.post(
        url, json={"facility_id": unit, "output": "600", "start_date": "2025-07-01"},
        headers=regulator,
    )  # fmt: skip
    assert_problem(again, 409, "conflict")  # the pending record counts as an allocation
    # Added capacity 500 MWh a year from 1 October: 400 t × 3/12 = 100. Reserve left: 160
    # (the pending 240 counts already).
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

    approved = approve(client, bearer, url, body["id"])
    assert (approved["status"], approved["decided_by"]) == ("approved", "regulator-2")
    assert approved["tx_id"] is not None
    approve(client, bearer, url, change.get_json()["id"])
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 240 + 100
    with moves_nothing(client.application):
        repeat = approve(client, bearer, url, body["id"])  # a repeat moves nothing
    assert repeat["tx_id"] == approved["tx_id"]


def test_the_recorder_cannot_decide_on_its_own_record_and_refusals_change_nothing(
    client, tenants, bearer
):
    regulator = bearer["regulator"]
    plan_id = client.post(P, json=PLAN, headers=regulator).get_json()["id"]
    client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    url = f"{P}/{plan_id}/new-entrants"
    body = {"facility_id": tenants.facility_id, "output": "600", "start_date": "2025-07-01"}
    record_id = client.post(url, json=body, headers=regulator).get_json()["id"]
    with moves_nothing(client.application):
        own = client.post(f"{url}/{record_id}/approve", headers=regulator)
        own_reject = client.post(f"{url}/{record_id}/reject", json={}, headers=regulator)
        missing = client.post(f"{url}/999999/approve", headers=bearer["regulator_second"])
        # A new-entrant record is no capacity reduction: its id under the other collection
        # is not found.
        wrong_kind = client.post(
            f"{P}/{plan_id}/capacity-reductions/{record_id}/approve",
            headers=bearer["regulator_second"],
        )
        enterprise = client.post(f"{url}/{record_id}/approve", headers=bearer["enterprise_own"])
    assert_problem(own, 422, "four-eyes")
    assert_problem(own_reject, 422, "four-eyes")
    assert_problem(missing, 404, "not-found")
    assert_problem(wrong_kind, 404, "not-found")
    assert_problem(enterprise, 403, "permission-denied")

    rejected = client.post(
        f"{url}/{record_id}/reject", json={"reason": "not commissioned"},
        headers=bearer["regulator_second"],
    )  # fmt: skip
    assert rejected.status_code == 200, rejected.get_data(as_text=True)
    assert (rejected.get_json()["status"], rejected.get_json()["reason"]) == (
        "rejected", "not commissioned",
    )  # fmt: skip
    with moves_nothing(client.application):
        late = client.post(f"{url}/{record_id}/approve", headers=bearer["regulator_second"])
    assert_problem(late, 409, "conflict")
    # A rejected record gives its share of the reserve back and is no allocation: the
    # facility can be recorded again, for the whole 500 of the reserve.
    # 625 MWh × 0.8 = 500 t a year, from January: 500.
    whole = client.post(
        url, json=body | {"output": "625", "start_date": "2025-01-01"}, headers=regulator
    )
    assert whole.status_code == 201, whole.get_data(as_text=True)
    assert whole.get_json()["quantity"] == 500
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED


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


def test_figures_and_ids_past_what_is_stored_are_refused_with_pointers(client, tenants, bearer):
    # A facility id past 64 bits once overflowed the driver, and an output of 1e30 the
    # Decimal context of the pro-rata step: both were 500s. Outputs and heat are bounded
    # like a report's (below 10**12).
    regulator = bearer["regulator"]
    plan_id = client.post(P, json=PLAN, headers=regulator).get_json()["id"]
    client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    unit = tenants.facility_id
    body = {"facility_id": unit, "output": "600", "start_date": "2025-07-01"}
    reduction = {"facility_id": unit, "output": "600", "effective_date": "2025-07-01"}
    with moves_nothing(client.application):
        responses = {
            (collection, name): client.post(
                f"{P}/{plan_id}/{collection}", json=payload | change, headers=regulator
            )
            for collection, payload in (
                ("new-entrants", body), ("capacity-reductions", reduction),
            )
            for name, change in (
                ("facility_id", {"facility_id": 2**63}),
                ("output", {"output": "1000000000000"}),
                ("heat_supplied_gj", {"heat_supplied_gj": "1e30"}),
            )
        }  # fmt: skip
        huge_output = client.post(
            f"{P}/{plan_id}/new-entrants", json=body | {"output": "1e30"}, headers=regulator
        )
        compared = client.get(
            f"/api/v1/allocation/compare?a={2**63}&b={plan_id}", headers=regulator
        )
    for (_, name), response in responses.items():
        assert_problem(response, 422, "validation-failed", pointers={f"#/{name}"})
    assert_problem(huge_output, 422, "validation-failed", pointers={"#/output"})
    assert_problem(compared, 422, "validation-failed", pointers={"#/query/a"})
