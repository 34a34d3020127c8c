"""Pre-allocation on last year's activity, then the true-up on verified data: the difference
issued or clawed back through the ledger, each stage idempotent and resumable."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from allocation.issuing import adjustments as adjusting
from allocation.issuing import stages
from allocation.models import AllocationAdjustment, Stage
from carbon_market.kernel.access.roles import Actor
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.output import Output
from tests.api.allocation.test_plans import STREAMS, approved_reports
from tests.api.helpers import OTHER_FUNDED, OWN_FUNDED, allowances, assert_problem, moves_nothing

P = "/api/v1/allocation/plans"
SYSTEM = Actor.system(name="system:test")
#: Budget 10,000 × (1 − 0.05 − 0.03) = 9,200: no scaling in these examples.
PLAN = {
    "year": 2025,
    "cap": 10000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "pre_allocation_share": "0.7",
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "power": {"method": "benchmark", "benchmarks": {"coal_unit": "0.8"}},
    },
}


def report_with_output(session: Any, credit_code: str, year: int, mwh: str) -> None:
    report = reports.create_report(
        session, SYSTEM, enterprise=credit_code, year=year, streams=STREAMS,
        output=Output(quantity=D(mwh), unit="MWh"),
    )  # fmt: skip
    reports.submit_report(session, SYSTEM, report.id)
    reports.assign_verifier(session, SYSTEM, report.id, verifier="verifier")
    reports.verify_report(session, SYSTEM, report.id, verified_co2_t=D("268.3"), opinion="ok")
    reports.approve_report(session, Actor.system(name="system:approver"), report.id)


@pytest.fixture
def approved_plan(client: Any, session: Any, tenants: Any, bearer: Any) -> int:
    """Approved early in 2025: ``other`` (cement) has verified 2022–2024; ``own`` (power,
    a ``coal_unit``) produced 1,000 MWh in 2024 and nothing of 2025 is verified yet."""
    approved_reports(session, tenants.other.credit_code, [2022, 2023, 2024])
    report_with_output(session, tenants.own.credit_code, 2024, "1000")
    plan_id: int = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    approved = client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    assert approved.status_code == 200, approved.get_data(as_text=True)
    return plan_id


def test_pre_allocation_then_true_up_issue_the_difference_and_claw_back_the_excess(
    client, session, tenants, bearer, approved_plan
):
    plan_id = approved_plan
    pre = client.post(f"{P}/{plan_id}/pre-allocate", headers=bearer["regulator"])
    assert pre.status_code == 200, pre.get_data(as_text=True)
    # By hand, on 2024's activity: own 1,000 MWh × 0.8 = 800 → floor(0.7 × 800) = 560;
    # other (268.3 + 268.3 + 268.3) / 3 × 0.97 = 260.251 → 260 → floor(0.7 × 260) = 182.
    assert pre.get_json() == {
        "plan_id": plan_id, "stage": "pre_allocation", "moved": 2, "issued": 742,
        "clawed_back": 0, "short": 0, "already_moved": 0,
    }  # fmt: skip
    with moves_nothing(client.application):
        again = client.post(f"{P}/{plan_id}/pre-allocate", headers=bearer["regulator"])
    assert (again.get_json()["moved"], again.get_json()["already_moved"]) == (0, 2)
    # Issuing all at once is no longer possible, nor is a second true-up path.
    assert_problem(
        client.post(f"{P}/{plan_id}/issue", headers=bearer["regulator"]), 409, "conflict"
    )

    # 2025 is verified: own produced only 600 MWh → 600 × 0.8 = 480, 80 below its 560.
    report_with_output(session, tenants.own.credit_code, 2025, "600")
    trued = client.post(f"{P}/{plan_id}/true-up", headers=bearer["regulator"])
    assert trued.status_code == 200, trued.get_data(as_text=True)
    # other: final 260 − 182 = +78 issued; own: 480 − 560 = −80 clawed back.
    assert trued.get_json() == {
        "plan_id": plan_id, "stage": "true_up", "moved": 2, "issued": 78, "clawed_back": 80,
        "short": 0, "already_moved": 0,
    }  # fmt: skip
    with moves_nothing(client.application):
        repeat = client.post(f"{P}/{plan_id}/true-up", headers=bearer["regulator"])
    assert repeat.get_json()["moved"] == 0
    regulator = bearer["regulator"]
    assert allowances(client, regulator, tenants.own_account)[0] == OWN_FUNDED + 560 - 80
    assert allowances(client, regulator, tenants.other_account)[0] == OTHER_FUNDED + 182 + 78
    assert client.get(f"{P}/{plan_id}", headers=regulator).get_json()["status"] == "issued"

    theirs = client.get(
        f"{P}/{plan_id}/adjustments?stage=true_up", headers=bearer["enterprise_own"]
    )
    assert [(a["basis"], a["quantity"]) for a in theirs.get_json()["items"]] == [(480, -80)]


def test_a_claw_back_the_account_cannot_cover_waits_and_a_rerun_finishes_it(
    client, session, tenants, bearer, approved_plan, actor_of, monkeypatch
):
    regulator = actor_of(tenants.users["regulator"])
    stages.pre_allocate(session, regulator, approved_plan)
    report_with_output(session, tenants.own.credit_code, 2025, "600")
    # As if own had sold all but 79 of its free allowances: the claw-back of 80 must wait.
    real = adjusting.available

    def scarce(session_: Any, number: str, vintage: int) -> int:
        return 79 if number == tenants.own_account else real(session_, number, vintage)

    monkeypatch.setattr(adjusting, "available", scarce)
    first = stages.true_up(session, regulator, approved_plan)
    monkeypatch.undo()
    assert (first.moved, first.issued, first.clawed_back, first.short) == (1, 78, 0, 1)
    assert client.get(f"{P}/{approved_plan}", headers=bearer["auditor"]).get_json()["status"] == (
        "approved"
    )

    second = stages.true_up(session, regulator, approved_plan)
    assert (second.moved, second.clawed_back, second.short, second.already_moved) == (1, 80, 0, 1)
    session.expire_all()
    pending = session.query(AllocationAdjustment).filter(
        AllocationAdjustment.stage == Stage.TRUE_UP, AllocationAdjustment.tx_id.is_(None),
        AllocationAdjustment.quantity != 0,
    )  # fmt: skip
    assert pending.count() == 0


def test_true_up_before_a_pre_allocation_and_a_plan_without_a_share_are_refused(
    client, tenants, bearer, approved_plan
):
    with moves_nothing(client.application):
        early = client.post(f"{P}/{approved_plan}/true-up", headers=bearer["regulator"])
    assert_problem(early, 409, "conflict")
    no_share = {k: v for k, v in PLAN.items() if k != "pre_allocation_share"} | {"year": 2026}
    no_share["base_years"] = [2023, 2024, 2025]
    other_id = client.post(P, json=no_share, headers=bearer["regulator"]).get_json()["id"]
    client.post(f"{P}/{other_id}/approve", headers=bearer["regulator_second"])
    with moves_nothing(client.application):
        refused = client.post(f"{P}/{other_id}/pre-allocate", headers=bearer["regulator"])
    assert_problem(refused, 409, "conflict")


def test_the_true_up_counts_what_the_reserve_gave_a_capacity_change(
    client, session, tenants, bearer, approved_plan
):
    plan_id = approved_plan
    client.post(f"{P}/{plan_id}/pre-allocate", headers=bearer["regulator"])
    url = f"{P}/{plan_id}/new-entrants"
    body = {"facility_id": tenants.facility_id, "output": "600", "start_date": "2025-07-01"}
    # own's unit was pre-allocated 560: a new entrant no more, but it may add capacity.
    assert_problem(client.post(url, json=body, headers=bearer["regulator"]), 409, "conflict")
    change = client.post(url, json=body | {"kind": "capacity_change"}, headers=bearer["regulator"])
    # 600 MWh × 0.8 = 480 a year, 6 months → 240 from the reserve.
    assert change.get_json()["quantity"] == 240
    # A pending record holds the true-up back: it would not know whether to count it.
    with moves_nothing(client.application):
        early = client.post(f"{P}/{plan_id}/true-up", headers=bearer["regulator"])
    assert_problem(early, 409, "conflict")
    approved = client.post(
        f"{url}/{change.get_json()['id']}/approve", headers=bearer["regulator_second"]
    )
    assert approved.get_json()["tx_id"] is not None
    # Verified 2025: 1,300 MWh (the added capacity included) × 0.8 = 1,040 final;
    # issued so far 560 + 240 = 800 → the true-up issues 240 more.
    report_with_output(session, tenants.own.credit_code, 2025, "1300")
    client.post(f"{P}/{plan_id}/true-up", headers=bearer["regulator"])
    theirs = client.get(
        f"{P}/{plan_id}/adjustments?stage=true_up", headers=bearer["enterprise_own"]
    )
    [row] = theirs.get_json()["items"]
    assert (row["basis"], row["quantity"], row["note"]) == (1040, 240, "less 240 from the reserve")
