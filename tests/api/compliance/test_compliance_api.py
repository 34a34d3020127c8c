"""Compliance over HTTP: opening and editing a year, a surrender through the ledger's
four-eyes approval, the status table (JSON, CSV, filters, tenancy), results and penalties,
and bad input refused with a problem that changes nothing.

``tenants`` (tests/api/conftest.py) funds ``own`` with 1,000 allowances of 2025.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.mrv.reports import workflow as reports
from tests.api.helpers import Tenants, assert_problem, moves_nothing

C = "/api/v1/compliance"
STREAMS = [{"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}]
Headers = Callable[[str], dict[str, str]]


def _approve_report(session: Session, credit_code: str, year: int) -> None:
    """File and approve a report of 268.3 t (obligation 268 t) as two system actors."""
    filer, approver = Actor.system(name="system:filer"), Actor.system(name="system:approver")
    report = reports.create_report(
        session, filer, enterprise=credit_code, year=year, streams=STREAMS
    )
    reports.submit_report(session, filer, report.id)
    reports.assign_verifier(session, filer, report.id, verifier="verifier")
    reports.verify_report(session, filer, report.id, verified_co2_t=D("268.3"), opinion="符合")
    reports.approve_report(session, approver, report.id)


@pytest.fixture
def year_2026(client: FlaskClient, headers_for: Headers) -> dict[str, object]:
    response = client.post(
        f"{C}/years", json={"year": 2026, "rulebook": "beijing"}, headers=headers_for("regulator")
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, object] = response.get_json()
    return body


def test_a_year_opens_from_the_shipped_rulebook_once(
    app: Flask, client: FlaskClient, headers_for: Headers, year_2026: dict[str, object]
) -> None:
    assert year_2026["rulebook"] == "beijing"
    assert year_2026["surrender_deadline"] == "2027-06-30"
    assert year_2026["penalty_multiple"] == "3.00"
    regulator = headers_for("regulator")
    with moves_nothing(app):
        again = client.post(
            f"{C}/years", json={"year": 2026, "rulebook": "national"},
            headers=regulator,
        )  # fmt: skip
        unknown = client.post(
            f"{C}/years", json={"year": 2027, "rulebook": "tianjin"},
            headers=regulator,
        )  # fmt: skip
        early = client.post(
            f"{C}/years",
            json={"year": 2027, "rulebook": "national", "surrender_deadline": "2027-12-01"},
            headers=regulator,
        )
    assert_problem(again, 409, "conflict")
    assert_problem(unknown, 422, "validation-failed", pointers={"#/rulebook"})
    assert_problem(early, 422, "validation-failed", pointers={"#/surrender_deadline"})
    listed = client.get(f"{C}/years", headers=headers_for("verifier")).get_json()
    assert [y["year"] for y in listed] == [2026]


def test_a_year_is_edited_with_patch_and_the_multiple_stays_in_range(
    app: Flask, client: FlaskClient, headers_for: Headers, year_2026: dict[str, object]
) -> None:
    regulator = headers_for("regulator")
    edited = client.patch(
        f"{C}/years/2026",
        json={"surrender_deadline": "2027-07-15", "offsets": {"outside_share_cap": "0.02"}},
        headers=regulator,
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    body = edited.get_json()
    assert body["surrender_deadline"] == "2027-07-15"
    assert body["rules"]["offsets"] == {
        "basis": "allocation", "share_cap": "0.05", "outside_share_cap": "0.02",
    }  # fmt: skip
    with moves_nothing(app):
        high = client.put(f"{C}/2026/penalty-multiple", json={"multiple": "6"}, headers=regulator)
        fine = client.put(
            f"{C}/2026/penalty-multiple", json={"multiple": "4.125"}, headers=regulator
        )
        empty = client.patch(f"{C}/years/2026", json={}, headers=regulator)
    assert_problem(high, 422, "validation-failed", pointers={"#/multiple"})
    assert_problem(fine, 422, "validation-failed", pointers={"#/multiple"})
    assert_problem(empty, 422, "validation-failed")
    ok = client.put(f"{C}/2026/penalty-multiple", json={"multiple": "4.5"}, headers=regulator)
    assert ok.get_json()["penalty_multiple"] == "4.50"


def test_a_surrender_waits_for_a_second_user_then_the_sweep_says_compliant(
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    headers_for: Headers,
    auth: object,
    year_2026: dict[str, object],
) -> None:
    _approve_report(session, tenants.own.credit_code, 2026)
    # 268 t due; 2025 allowances are banked into 2026 (Beijing allows banking).
    made = client.post(
        f"{C}/2026/surrenders",
        json={"unit_kind": "allowance", "vintage": 2025, "quantity": 268},
        headers=headers_for("enterprise_own"),
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    surrender = made.get_json()
    assert surrender["transaction_status"] == "pending_approval"
    assert surrender["counts_as"] == "allowance"

    second = auth.headers(tenants.users["enterprise_own_second"])  # type: ignore[attr-defined]
    approved = client.post(
        f"/api/v1/transactions/{surrender['transaction_id']}/approve", headers=second
    )
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["status"] == "completed"
    swept = client.post(f"{C}/2026/sweep", headers=headers_for("regulator"))
    assert swept.status_code == 200
    assert swept.get_json()["statuses"]["compliant"] == 1

    rows = client.get(f"{C}/2026/status", headers=headers_for("regulator")).get_json()
    own = next(r for r in rows if r["enterprise"] == tenants.own.credit_code)
    assert {k: own[k] for k in ("obligation_t", "surrendered_t", "shortfall_t", "status")} == {
        "obligation_t": 268, "surrendered_t": 268, "shortfall_t": 0, "status": "compliant",
    }  # fmt: skip
    other = next(r for r in rows if r["enterprise"] == tenants.other.credit_code)
    assert other["status"] == "not_reported"
    # The enterprise sees its own row only; filters and CSV for the regulator.
    mine = client.get(f"{C}/2026/status", headers=headers_for("enterprise_other")).get_json()
    assert [r["enterprise"] for r in mine] == [tenants.other.credit_code]
    cement = client.get(
        f"{C}/2026/status?sector=cement&status=not_reported", headers=headers_for("auditor")
    ).get_json()
    assert [r["enterprise"] for r in cement] == [tenants.other.credit_code]
    exported = client.get(f"{C}/2026/status?format=csv", headers=headers_for("regulator"))
    assert exported.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {r["enterprise"]: r["status"] for r in table} == {
        tenants.own.credit_code: "compliant", tenants.other.credit_code: "not_reported",
    }  # fmt: skip
    # Results are published only after the surrender deadline (2027-06-30).
    early = client.get(f"{C}/2026/results", headers=headers_for("verifier"))
    assert_problem(early, 409, "conflict")


def test_surrenders_refused_change_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    headers_for: Headers,
    year_2026: dict[str, object],
) -> None:
    _approve_report(session, tenants.own.credit_code, 2026)
    body = {"unit_kind": "allowance", "vintage": 2025, "quantity": 10}
    own, other = headers_for("enterprise_own"), headers_for("enterprise_other")
    with moves_nothing(app):
        no_report = client.post(f"{C}/2026/surrenders", json=body, headers=other)
        too_many = client.post(
            f"{C}/2026/surrenders", json={**body, "quantity": 269},
            headers=own,
        )  # fmt: skip
        borrowed = client.post(
            f"{C}/2026/surrenders", json={**body, "vintage": 2027},
            headers=own,
        )  # fmt: skip
        theirs = client.post(
            f"{C}/2026/surrenders", json={**body, "account": tenants.other_account},
            headers=own,
        )  # fmt: skip
        unopened = client.post(f"{C}/2030/surrenders", json=body, headers=own)
    assert_problem(no_report, 422, "rule-violation")
    assert_problem(too_many, 422, "rule-violation", pointers={"#/quantity"})
    assert_problem(borrowed, 422, "rule-violation", pointers={"#/vintage"})
    assert_problem(theirs, 404, "not-found", pointers={"#/account"})
    assert_problem(unopened, 404, "not-found")


def test_penalties_list_is_empty_json_and_csv_before_any_assessment(
    client: FlaskClient, headers_for: Headers, year_2026: dict[str, object]
) -> None:
    listed = client.get(f"{C}/2026/penalties", headers=headers_for("auditor"))
    assert listed.get_json() == []
    exported = client.get(f"{C}/2026/penalties?format=csv", headers=headers_for("auditor"))
    header = exported.get_data(as_text=True).splitlines()[0]
    assert header.startswith("id,year,enterprise,name,shortfall_t,multiple,average_price,amount")


def test_approving_a_corrected_report_over_http_applies_the_cascade(
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    headers_for: Headers,
    auth: object,
    year_2026: dict[str, object],
) -> None:
    _approve_report(session, tenants.own.credit_code, 2026)
    made = client.post(
        f"{C}/2026/surrenders",
        json={"unit_kind": "allowance", "vintage": 2025, "quantity": 268},
        headers=headers_for("enterprise_own"),
    ).get_json()
    second = auth.headers(tenants.users["enterprise_own_second"])  # type: ignore[attr-defined]
    client.post(f"/api/v1/transactions/{made['transaction_id']}/approve", headers=second)
    filer = Actor.system(name="system:filer")
    fixed = reports.create_report(
        session, filer, enterprise=tenants.own.credit_code, year=2026, streams=STREAMS
    )
    reports.submit_report(session, filer, fixed.id)
    reports.assign_verifier(session, filer, fixed.id, verifier="verifier")
    reports.verify_report(
        session, filer, fixed.id, verified_co2_t=D("200.4"), opinion="符合", reason="更正"
    )

    approved = client.post(f"/api/v1/reports/{fixed.id}/approve", headers=headers_for("regulator"))

    assert approved.status_code == 200, approved.get_data(as_text=True)
    # 200.4 t rounds to 200 t due; 268 were surrendered: the one surrender is reversed and
    # 268 − 68 = 200 re-surrendered, so 68 units are back.
    (correction,) = client.get(
        f"{C}/2026/corrections", headers=headers_for("enterprise_own")
    ).get_json()
    assert {k: correction[k] for k in ("report_id", "version", "obligation_t", "returned_t")} == {
        "report_id": fixed.id, "version": 2, "obligation_t": 200, "returned_t": 68,
    }  # fmt: skip
    assert (
        client.get(f"{C}/2026/corrections", headers=headers_for("enterprise_other")).get_json()
        == []
    )
    assert (
        client.get(
            f"{C}/2026/penalties?include=superseded", headers=headers_for("regulator")
        ).get_json()
        == []
    )
    bad = client.get(f"{C}/2026/penalties?include=everything", headers=headers_for("regulator"))
    assert_problem(bad, 422, "validation-failed")


@pytest.mark.parametrize("bound", ["multiple_min", "multiple_max"])
def test_a_penalty_range_beyond_the_highest_multiple_is_refused(
    app: Flask,
    client: FlaskClient,
    headers_for: Headers,
    year_2026: dict[str, object],
    bound: str,
) -> None:
    # "1E+20" as the minimum used to become the year's multiple and overflow its 64-bit
    # column (a 500); any range beyond 100 could overflow a penalty's amount.
    regulator = headers_for("regulator")
    with moves_nothing(app):
        huge = client.patch(
            f"{C}/years/2026",
            json={"penalty": {"multiple_min": "1E+20", "multiple_max": "1E+20"}},
            headers=regulator,
        )
        over = client.patch(f"{C}/years/2026", json={"penalty": {bound: "101"}}, headers=regulator)
    assert_problem(huge, 422, "validation-failed")
    assert_problem(over, 422, "validation-failed", pointers={f"#/penalty/{bound}"})
