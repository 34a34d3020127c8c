"""Capacity reductions and closures between true-ups: allowances back to the reserve by the
benchmark, pro rata by months, with four eyes; the true-up never claws them back twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from allocation.issuing import adjustments as adjusting
from allocation.issuing import stages
from allocation.models import Stage
from allocation.reserve import decisions, reductions
from allocation.rules.inputs import BenchmarkInputs
from carbon_market.kernel.audit.models import AuditEvent
from tests.api.allocation.test_true_up import P, report_with_output
from tests.api.allocation.test_true_up import approved_plan as approved_plan
from tests.api.helpers import OTHER_FUNDED, OWN_FUNDED, allowances, assert_problem, moves_nothing

JULY_CLOSURE = {"kind": "closure", "output": "1000", "effective_date": "2025-07-01"}


def _record(client: Any, bearer: Any, plan_id: int, body: dict[str, Any]) -> Any:
    return client.post(f"{P}/{plan_id}/capacity-reductions", json=body, headers=bearer["regulator"])


def test_a_closure_returns_its_months_and_the_true_up_does_not_claw_them_back_twice(
    client, session, tenants, bearer, approved_plan
):
    plan_id = approved_plan
    regulator = bearer["regulator"]
    client.post(f"{P}/{plan_id}/pre-allocate", headers=regulator)
    # own's coal_unit was pre-allocated floor(0.7 × 1,000 MWh × 0.8) = 560.
    # It closes from 1 July: 1,000 MWh × 0.8 = 800 t a year; July to December is 6 months:
    # 800 × 6/12 = 400 to give back.
    recorded = _record(client, bearer, plan_id, JULY_CLOSURE | {"facility_id": tenants.facility_id})
    assert recorded.status_code == 201, recorded.get_data(as_text=True)
    body = recorded.get_json()
    assert (body["stage"], body["quantity"], body["note"], body["status"]) == (
        "capacity_reduction", -400, "closure", "pending",
    )  # fmt: skip
    assert (body["breakdown"]["months"], body["breakdown"]["given_so_far"]) == (6, 560)
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 560

    url = f"{P}/{plan_id}/capacity-reductions/{body['id']}"
    with moves_nothing(client.application):
        own = client.post(f"{url}/approve", headers=regulator)
    assert_problem(own, 422, "four-eyes")
    approved = client.post(f"{url}/approve", headers=bearer["regulator_second"])
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["tx_id"] is not None
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 560 - 400

    # Verified 2025: it ran half the year, 500 MWh × 0.8 = 400 final. Issued so far
    # 560 − 400 = 160, so the true-up issues 240 (without the reduction it would claw back
    # 560 − 400 = 160 more and leave the unit with 0).
    report_with_output(session, tenants.own.credit_code, 2025, "500")
    trued = client.post(f"{P}/{plan_id}/true-up", headers=regulator)
    assert trued.get_json()["clawed_back"] == 0
    theirs = client.get(
        f"{P}/{plan_id}/adjustments?stage=true_up", headers=bearer["enterprise_own"]
    )
    [row] = theirs.get_json()["items"]
    assert (row["basis"], row["quantity"], row["note"]) == (
        400, 240, "plus 400 returned by capacity reductions",
    )  # fmt: skip
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 400
    assert allowances(client, regulator, tenants.other_account)[0] == OTHER_FUNDED + 182 + 78
    # The final allocation counts every change of capacity: no record after it.
    with moves_nothing(client.application):
        late = _record(client, bearer, plan_id, JULY_CLOSURE | {"facility_id": tenants.facility_id})
    assert_problem(late, 409, "conflict")


def test_a_reduction_the_account_cannot_cover_is_owed_and_collected_by_the_true_up(
    client, session, tenants, bearer, approved_plan, actor_of, monkeypatch
):
    first_regulator = actor_of(tenants.users["regulator"])
    second = actor_of(tenants.users["regulator_second"])
    stages.pre_allocate(session, first_regulator, approved_plan)
    # 300 MWh removed from 1 October: 300 × 0.8 = 240 a year × 3/12 = 60.
    row = reductions.record_reduction(
        session, first_regulator, approved_plan,
        inputs=BenchmarkInputs(facility_id=tenants.facility_id, output=D("300")),
        effective_date=date(2025, 10, 1),
    )  # fmt: skip
    assert row.quantity == -60
    real = decisions.available

    def scarce(session_: Any, number: str, vintage: int) -> int:
        return 59 if number == tenants.own_account else real(session_, number, vintage)

    monkeypatch.setattr(decisions, "available", scarce)
    approved = decisions.approve_record(
        session, second, approved_plan, row.id, stage=Stage.CAPACITY_REDUCTION
    )
    # Approved, but the units are owed: no transaction yet.
    assert (approved.status, approved.tx_id) == ("approved", None)
    event = session.query(AuditEvent).filter(
        AuditEvent.action == "allocation_plan:capacity_reduction_approve"
    ).one()  # fmt: skip
    assert event.after["owed"] is True

    # Verified 2025: 940 MWh × 0.8 = 752 final; given 560 − 60 = 500 → +252.
    report_with_output(session, tenants.own.credit_code, 2025, "940")
    monkeypatch.setattr(adjusting, "available", scarce)
    first = stages.true_up(session, first_regulator, approved_plan)
    monkeypatch.undo()
    # own +252 and other +78 issued; the owed 60 still short, so the plan is not issued.
    assert (first.issued, first.clawed_back, first.short) == (330, 0, 1)
    plan = client.get(f"{P}/{approved_plan}", headers=bearer["auditor"]).get_json()
    assert plan["status"] == "approved"
    again = stages.true_up(session, first_regulator, approved_plan)
    assert (again.moved, again.clawed_back, again.short) == (1, 60, 0)
    plan = client.get(f"{P}/{approved_plan}", headers=bearer["auditor"]).get_json()
    assert plan["status"] == "issued"
    # 560 + 252 − 60 = 752, the final allocation.
    assert allowances(client, bearer["regulator"], tenants.own_account)[0] == OWN_FUNDED + 752


def test_bad_reductions_are_refused_and_change_nothing(
    client, session, tenants, bearer, approved_plan
):
    plan_id = approved_plan
    facility = tenants.facility_id
    with moves_nothing(client.application):
        # Approved, not pre-allocated: own's unit had no verified output, so no allocation.
        nothing = _record(client, bearer, plan_id, JULY_CLOSURE | {"facility_id": facility})
    assert_problem(nothing, 409, "conflict")
    client.post(f"{P}/{plan_id}/pre-allocate", headers=bearer["regulator"])
    with moves_nothing(client.application):
        kiln = _record(
            client, bearer, plan_id, JULY_CLOSURE | {"facility_id": tenants.other_facility_id}
        )
        last_year = _record(
            client, bearer, plan_id,
            JULY_CLOSURE | {"facility_id": facility, "effective_date": "2024-12-01"},
        )  # fmt: skip
        negative = _record(
            client, bearer, plan_id, JULY_CLOSURE | {"facility_id": facility, "output": "-5"}
        )
        bad_kind = _record(
            client, bearer, plan_id, JULY_CLOSURE | {"facility_id": facility, "kind": "sale"}
        )
        # 1 MWh × 0.8 × 1/12 = 0.066667: less than one allowance.
        tiny = _record(
            client, bearer, plan_id,
            {"facility_id": facility, "output": "1", "effective_date": "2025-12-01"},
        )  # fmt: skip
        enterprise = client.post(
            f"{P}/{plan_id}/capacity-reductions",
            json=JULY_CLOSURE | {"facility_id": facility},
            headers=bearer["enterprise_own"],
        )
    assert_problem(kiln, 422, "rule-violation", pointers={"#/facility_id"})
    assert_problem(last_year, 422, "validation-failed", pointers={"#/effective_date"})
    assert_problem(negative, 422, "validation-failed", pointers={"#/output"})
    assert_problem(bad_kind, 422, "validation-failed", pointers={"#/kind"})
    assert_problem(tiny, 422, "rule-violation", pointers={"#/output"})
    assert_problem(enterprise, 403, "permission-denied")

    # Closed from January: 800 × 12/12 = 800, but the plan gave it only 560: capped.
    whole = _record(
        client,
        bearer,
        plan_id,
        JULY_CLOSURE | {"facility_id": facility, "effective_date": "2025-01-01"},
    )
    assert whole.status_code == 201, whole.get_data(as_text=True)
    assert (whole.get_json()["quantity"], whole.get_json()["breakdown"]["capped_at"]) == (-560, 560)
    with moves_nothing(client.application):
        twice = _record(client, bearer, plan_id, JULY_CLOSURE | {"facility_id": facility})
    assert_problem(twice, 409, "conflict")
