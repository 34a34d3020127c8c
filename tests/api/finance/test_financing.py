"""Financing records and disbursements over HTTP: the support tool's refinancing and the
interest figures (worked by hand below), and the commitment that is never exceeded."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.finance.conftest import PROJECTS
from tests.api.helpers import assert_problem, writes_nothing

SUPPORT_TOOL = {
    "instrument": "carbon_reduction_support_tool",
    "institution": "北京银行密云支行",
    "committed": "10000000.00",
    "rate": "0.0345",
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
    "disclosure": {
        "annual_reduction_t": "7300",
        "method": "装机容量×利用小时×电网排放因子",
        "date": "2026-01-15",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
    },
}


def financings_url(project: dict[str, Any]) -> str:
    return f"{PROJECTS}/{project['id']}/financings"


@pytest.fixture
def loan(client: FlaskClient, headers: dict[str, str], project: dict[str, Any]) -> dict[str, Any]:
    response = client.post(financings_url(project), json=SUPPORT_TOOL, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def disburse(
    client: FlaskClient, headers: dict[str, str], loan: dict[str, Any], on: str, amount: str
) -> Any:
    url = f"{PROJECTS}/{loan['project_id']}/financings/{loan['id']}/disbursements"
    return client.post(url, json={"date": on, "amount": amount}, headers=headers)


def test_a_support_tool_loan_copies_the_configured_refinancing_terms(
    loan: dict[str, Any],
) -> None:
    assert loan["refinancing_share"] == "0.600000"
    assert loan["refinancing_rate"] == "0.017500"
    # Nothing disbursed yet: nothing refinanced and no interest accrued.
    assert loan["disbursed"] == "0.00"
    assert loan["undisbursed"] == "10000000.00"
    assert loan["refinancing_amount"] == "0.00"
    assert loan["interest"] == "0.00"
    assert loan["disclosure"] == {
        "annual_reduction_t": "7300.000",
        "method": "装机容量×利用小时×电网排放因子",
        "date": "2026-01-15",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
    }


def test_interest_and_refinancing_follow_the_worked_example(
    client: FlaskClient, headers: dict[str, str], loan: dict[str, Any]
) -> None:
    assert disburse(client, headers, loan, "2026-01-01", "6000000.00").status_code == 201
    assert disburse(client, headers, loan, "2026-07-01", "4000000.00").status_code == 201

    body = client.get(
        f"{PROJECTS}/{loan['project_id']}/financings/{loan['id']}", headers=headers
    ).get_json()

    # Days to the end date 2027-01-01 (first day counted, last not): 365 and 184.
    # Interest at 3.45 %, actual/360:
    #   6,000,000 × 0.0345 × 365/360 = 209,875.00
    #   4,000,000 × 0.0345 × 184/360 =  70,533.3333…
    #   sum 280,408.3333… → 280,408.33
    # Refinancing: 60 % of 10,000,000 = 6,000,000.00, at 1.75 %:
    #   3,600,000 × 0.0175 × 365/360 = 63,875.00
    #   2,400,000 × 0.0175 × 184/360 = 21,466.6667
    #   sum 85,341.6667 → 85,341.67
    assert body["disbursed"] == "10000000.00"
    assert body["undisbursed"] == "0.00"
    assert body["interest"] == "280408.33"
    assert body["refinancing_amount"] == "6000000.00"
    assert body["refinancing_interest"] == "85341.67"


def test_a_green_loan_has_interest_but_no_refinancing(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    body = {
        "instrument": "green_loan",
        "institution": "工商银行北京分行",
        "committed": "1000000",
        "rate": "0.036",
        "start_date": "2026-03-01",
        "end_date": "2026-09-01",
    }
    loan = client.post(financings_url(project), json=body, headers=headers).get_json()
    disburse(client, headers, loan, "2026-03-01", "1000000")

    (listed,) = client.get(financings_url(project), headers=headers).get_json()

    # 2026-03-01 → 2026-09-01 is 184 days: 1,000,000 × 0.036 × 184/360 = 18,400.00
    assert listed["interest"] == "18400.00"
    assert listed["refinancing_amount"] is None
    assert listed["refinancing_rate"] is None
    assert listed["disclosure"] is None


def test_a_grant_has_no_interest_figures(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    body = {
        "instrument": "grant",
        "institution": "北京市生态环境局",
        "committed": "500000",
        "start_date": "2026-02-01",
    }
    response = client.post(financings_url(project), json=body, headers=headers)

    assert response.status_code == 201
    assert response.get_json()["interest"] is None


def test_disbursing_more_than_committed_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, headers: dict[str, str], loan: dict[str, Any]
) -> None:
    disburse(client, headers, loan, "2026-01-01", "6000000.00")

    with writes_nothing(app):
        response = disburse(client, headers, loan, "2026-02-01", "4000000.01")

    body = assert_problem(response, 422, "rule-violation", pointers={"#/amount"})
    assert body["errors"][0]["code"] == "disbursement.over_commitment"
    assert "at most 4000000.00 remains" in body["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("on", "amount", "status", "slug", "pointers"),
    [
        ("2026-02-01", "-5", 422, "validation-failed", {"#/amount"}),
        ("2026-02-01", "0", 422, "validation-failed", {"#/amount"}),
        ("2026-02-01", "1.001", 422, "validation-failed", {"#/amount"}),
        ("2025-12-31", "5", 422, "rule-violation", {"#/date"}),
        ("2027-01-02", "5", 422, "rule-violation", {"#/date"}),
    ],
)
def test_bad_disbursements_are_refused_with_pointers(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    loan: dict[str, Any],
    on: str,
    amount: str,
    status: int,
    slug: str,
    pointers: set[str],
) -> None:
    with writes_nothing(app):
        response = disburse(client, headers, loan, on, amount)
    assert_problem(response, status, slug, pointers=pointers)


@pytest.mark.parametrize(
    ("changes", "pointers"),
    [
        ({"committed": "-1"}, {"#/committed"}),
        ({"committed": "0"}, {"#/committed"}),
        ({"rate": "1.5"}, {"#/rate"}),
        ({"end_date": "2025-12-31"}, {"#/end_date"}),
        ({"instrument": "magic_money"}, {"#/instrument"}),
        ({"disclosure": None}, {"#/disclosure"}),
        ({"rate": None, "end_date": None}, {"#/rate", "#/end_date"}),
        ({"instrument": "equity"}, {"#/rate", "#/disclosure"}),
    ],
)
def test_bad_financings_are_422_with_pointers_and_write_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    changes: dict[str, Any],
    pointers: set[str],
) -> None:
    with writes_nothing(app):
        response = client.post(
            financings_url(project), json={**SUPPORT_TOOL, **changes}, headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers=pointers)


def test_the_same_financing_twice_is_a_conflict(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    loan: dict[str, Any],
    project: dict[str, Any],
) -> None:
    with writes_nothing(app):
        response = client.post(financings_url(project), json=SUPPORT_TOOL, headers=headers)
    assert_problem(response, 409, "conflict", pointers={"#/institution"})


def test_a_closed_project_takes_no_new_financing(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    client.post(f"{PROJECTS}/{project['id']}/status", json={"status": "withdrawn"}, headers=headers)

    response = client.post(financings_url(project), json=SUPPORT_TOOL, headers=headers)

    assert_problem(response, 422, "rule-violation")


def test_disbursements_are_listed_by_date(
    client: FlaskClient, headers: dict[str, str], loan: dict[str, Any]
) -> None:
    disburse(client, headers, loan, "2026-07-01", "4000000")
    disburse(client, headers, loan, "2026-01-01", "6000000")

    url = f"{PROJECTS}/{loan['project_id']}/financings/{loan['id']}/disbursements"
    listed = client.get(url, headers=headers).get_json()

    assert [(d["date"], d["amount"]) for d in listed] == [
        ("2026-01-01", "6000000.00"),
        ("2026-07-01", "4000000.00"),
    ]


def test_a_financing_of_another_project_is_not_found_through_this_one(
    client: FlaskClient, headers: dict[str, str], loan: dict[str, Any], sponsor: Any
) -> None:
    from tests.api.finance.conftest import project_body

    other = client.post(
        PROJECTS, json=project_body(sponsor.credit_code, name="另一个项目"), headers=headers
    ).get_json()

    response = client.get(f"{PROJECTS}/{other['id']}/financings/{loan['id']}", headers=headers)

    assert_problem(response, 404, "not-found")
