"""Allocation plans over HTTP and issuing through the ledger: the workflow end to end."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from allocation.issuing import whole as issuing
from allocation.models import AllocationResult
from carbon_market.kernel.access.roles import Actor
from carbon_market.mrv.reports import workflow as reports
from tests.api.helpers import OTHER_FUNDED, allowances, assert_problem, moves_nothing
from tests.factories import make_enterprise

P = "/api/v1/allocation/plans"
SYSTEM = Actor.system(name="system:test")
#: 500 MWh × 0.5366 t/MWh = 268.3 t a year, verified as filed.
STREAMS = [{"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}]
PLAN = {
    "year": 2025,
    "cap": 1000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "power": {"method": "benchmark", "benchmarks": {"coal_300mw_plus": "0.7950"}},
    },
}


def approved_reports(session: Any, credit_code: str, years: list[int]) -> None:
    for year in years:
        report = reports.create_report(
            session, SYSTEM, enterprise=credit_code, year=year, streams=STREAMS
        )
        reports.submit_report(session, SYSTEM, report.id)
        reports.assign_verifier(session, SYSTEM, report.id, verifier="verifier")
        reports.verify_report(session, SYSTEM, report.id, verified_co2_t=D("268.3"), opinion="ok")
        reports.approve_report(session, Actor.system(name="system:approver"), report.id)


def test_plan_is_drafted_approved_by_a_second_regulator_and_issued_once(
    client, session, tenants, bearer
):
    approved_reports(session, tenants.other.credit_code, [2022, 2023, 2024])
    created = client.post(P, json=PLAN, headers=bearer["regulator"])
    assert created.status_code == 201, created.get_data(as_text=True)
    plan_id = created.get_json()["id"]

    # The author may not approve; a second regulator may.
    own = client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator"])
    assert_problem(own, 422, "four-eyes")
    approved = client.post(f"{P}/{plan_id}/approve", headers=bearer["regulator_second"])
    assert approved.status_code == 200, approved.get_data(as_text=True)
    # The cement kiln: mean 268.3 × 0.97 = 260.251 → 260 (no scaling: budget 920).
    assert approved.get_json()["total_allocation"] == 260

    results = client.get(f"{P}/{plan_id}/results", headers=bearer["regulator"]).get_json()
    by_facility = {r["facility_id"]: r for r in results["items"]}
    assert by_facility[tenants.other_facility_id]["allocation"] == 260
    assert by_facility[tenants.other_facility_id]["free_allocation"] == "260.251000"
    assert by_facility[tenants.facility_id]["allocation"] is None
    assert by_facility[tenants.facility_id]["note"] == "no benchmark for category 'coal_unit'"
    # An enterprise sees only its own facilities' results.
    theirs = client.get(f"{P}/{plan_id}/results", headers=bearer["enterprise_own"]).get_json()
    assert [r["facility_id"] for r in theirs["items"]] == [tenants.facility_id]

    edited = client.put(f"{P}/{plan_id}", json=PLAN, headers=bearer["regulator"])
    assert_problem(edited, 409, "conflict")

    first = client.post(f"{P}/{plan_id}/issue", headers=bearer["regulator"])
    assert first.get_json() == {
        "plan_id": plan_id, "issued": 1, "units": 260, "already_issued": 0, "batches": 1,
    }  # fmt: skip
    with moves_nothing(client.application):
        again = client.post(f"{P}/{plan_id}/issue", headers=bearer["regulator"])
    assert again.get_json()["issued"] == 0
    assert again.get_json()["already_issued"] == 1
    assert allowances(client, bearer["regulator"], tenants.other_account)[0] == OTHER_FUNDED + 260
    plan = client.get(f"{P}/{plan_id}", headers=bearer["regulator"]).get_json()
    assert plan["status"] == "issued"


def test_a_bad_plan_is_refused_with_every_pointer_and_nothing_is_written(client, tenants, bearer):
    bad = {
        **PLAN,
        "reserve_share": "0.99",
        "sectors": {"steel": {"method": "benchmark"}, "cement": {"method": "grandfather"}},
    }
    with moves_nothing(client.application):
        response = client.post(P, json=bad, headers=bearer["regulator"])
    assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/auction_share", "#/sectors/steel/benchmarks", "#/sectors/cement/method"},
    )
    unknown_sector = {**PLAN, "sectors": {"steel": {"method": "historical_emissions",
                                                    "control_factor": "1"}}}  # fmt: skip
    response = client.post(P, json=unknown_sector, headers=bearer["regulator"])
    assert_problem(response, 422, "validation-failed", pointers={"#/sectors/steel"})


def test_copy_makes_next_years_draft_and_dry_run_computes_without_storing(
    client, session, tenants, bearer
):
    approved_reports(session, tenants.other.credit_code, [2022, 2023, 2024])
    plan_id = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    copied = client.post(f"{P}/{plan_id}/copy", json={}, headers=bearer["regulator"])
    assert copied.status_code == 201
    assert copied.get_json()["document"]["base_years"] == [2023, 2024, 2025]

    with moves_nothing(client.application):
        run = client.post(f"{P}/{plan_id}/compute", headers=bearer["auditor"])
    assert run.get_json()["summary"]["total_allocation"] == 260
    compared = client.get(
        f"/api/v1/allocation/compare?a={plan_id}&b={copied.get_json()['id']}",
        headers=bearer["regulator"],
    ).get_json()
    kiln = next(r for r in compared if r["facility_id"] == tenants.other_facility_id)
    # The copy's base years 2023–2025 have two approved years: still 268.3 → 260.
    assert (kiln["allocation_a"], kiln["allocation_b"], kiln["difference"]) == (260, 260, 0)


def test_issuing_resumes_after_a_failure_half_way_without_issuing_anything_twice(
    session, tenants, regulator, actor_of, monkeypatch
):
    second = make_enterprise(session, name="北京丙水泥有限公司", sector="cement")
    from carbon_market.emitters import service as emitters

    emitters.add_facility(session, SYSTEM, second.id, name="2号回转窑", facility_type="kiln")
    for enterprise in (tenants.other, second):
        approved_reports(session, enterprise.credit_code, [2022, 2023, 2024])
    from allocation import service

    plan = service.create_plan(session, SYSTEM, document=PLAN)
    service.approve_plan(session, actor_of(regulator), plan.id)
    real = issuing.ledger.request_transfer
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(issuing.ledger, "request_transfer", crash_on_second)
    with pytest.raises(RuntimeError):
        issuing.issue_plan(session, actor_of(regulator), plan.id, batch_size=1)
    issued = session.scalars(
        select(AllocationResult.issued_tx_id).where(AllocationResult.allocation > 0)
    ).all()
    assert sorted(tx is not None for tx in issued) == [False, True]

    monkeypatch.setattr(issuing.ledger, "request_transfer", real)
    resumed = issuing.issue_plan(session, actor_of(regulator), plan.id, batch_size=1)
    assert (resumed.issued, resumed.already_issued) == (1, 1)
    session.expire_all()
    txs = session.scalars(
        select(AllocationResult.issued_tx_id).where(AllocationResult.allocation > 0)
    ).all()
    assert len(set(txs)) == 2
    assert None not in txs


def test_the_database_keeps_one_adopted_plan_per_year(client, session, bearer):
    # Two drafts of 2025; the first approved. Marking the second approved behind the
    # service's back (as a concurrent approval would) is refused by the partial index.
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    first = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    second = client.post(P, json=PLAN | {"name": "备选方案"}, headers=bearer["regulator"])
    assert second.status_code == 201, second.get_data(as_text=True)
    approved = client.post(f"{P}/{first}/approve", headers=bearer["regulator_second"])
    assert approved.status_code == 200, approved.get_data(as_text=True)
    with pytest.raises(IntegrityError, match=r"uq_allocation_plan_adopted_year|UNIQUE"):
        session.execute(
            text(
                "UPDATE allocation_plan SET status = 'approved', approved_at = created_at "
                "WHERE id = :id"
            ),
            {"id": second.get_json()["id"]},
        )
    session.rollback()


def test_an_exported_document_imports_as_an_equal_draft(client, tenants, bearer):
    from tests.api.helpers import multipart

    plan_id = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    exported = client.get(f"{P}/{plan_id}/document", headers=bearer["auditor"])
    assert exported.status_code == 200
    document = exported.get_json()
    assert document["cap"] == 1000
    assert document["sectors"]["cement"] == {
        "method": "historical_emissions",
        "control_factor": "0.97",
    }

    body = json.dumps(document, ensure_ascii=False).encode()
    imported = client.post(
        f"{P}/import",
        headers=bearer["regulator"],
        **multipart({"name": "导入方案"}, file=("plan.json", body)),
    )
    assert imported.status_code == 201, imported.get_data(as_text=True)
    assert imported.get_json()["name"] == "导入方案"
    assert imported.get_json()["document"] == document
    assert imported.get_json()["status"] == "draft"

    with moves_nothing(client.application):
        broken = client.post(
            f"{P}/import",
            headers=bearer["regulator"],
            **multipart(file=("plan.json", b"{not json")),
        )
        bad = client.post(
            f"{P}/import",
            headers=bearer["regulator"],
            **multipart(file=("plan.json", json.dumps({**document, "cap": -1}))),
        )
    assert_problem(broken, 422, "unreadable-file")
    assert_problem(bad, 422, "validation-failed", pointers={"#/cap"})
