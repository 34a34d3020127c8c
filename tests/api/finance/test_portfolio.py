"""Portfolio analytics over HTTP, against figures worked by hand.

Project A (miyun, mitigation, renewable_energy, starts 2025-01-01): invests 36,500,000.00
and expects 7,300 t a year; a support-tool loan of 10,000,000.00 (2026, 6,000,000.00 paid
on 2026-01-01) and a grant of 2,000,000.00 (2025, nothing paid); 6,570 t achieved in 2025.
Project B (tongzhou, adaptation, climate_resilience, starts 2026-01-01): invests
8,000,000.00 and expects 365 t a year; a green bond of 5,000,000.00 (2026, all paid on
2026-02-01); 100 t achieved in Q1 2026 against 365 × 90/365 = 90 t expected.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.finance.conftest import PROJECTS, project_body
from tests.api.finance.test_financing import SUPPORT_TOOL
from tests.api.helpers import assert_problem

PORTFOLIO = "/api/v1/finance/portfolio"


def _post(client: FlaskClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def library(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any], sponsor: Any
) -> None:
    a = f"{PROJECTS}/{project['id']}"
    loan = _post(client, headers, f"{a}/financings", SUPPORT_TOOL)
    _post(
        client,
        headers,
        f"{a}/financings/{loan['id']}/disbursements",
        {"date": "2026-01-01", "amount": "6000000"},
    )
    _post(
        client,
        headers,
        f"{a}/financings",
        {
            "instrument": "grant",
            "institution": "密云区财政局",
            "committed": "2000000",
            "start_date": "2025-06-01",
        },
    )
    _post(
        client,
        headers,
        f"{a}/reductions",
        {"period_start": "2025-01-01", "period_end": "2025-12-31", "achieved_t": "6570"},
    )
    b_project = _post(
        client,
        headers,
        PROJECTS,
        project_body(
            sponsor.credit_code,
            name="通州海绵城市改造",
            locality="tongzhou",
            category="adaptation",
            subsector="climate_resilience",
            start_date="2026-01-01",
            total_investment="8000000",
            expected_annual_reduction_t="365",
        ),
    )
    b = f"{PROJECTS}/{b_project['id']}"
    bond = _post(
        client,
        headers,
        f"{b}/financings",
        {
            "instrument": "green_bond",
            "institution": "北京银行",
            "committed": "5000000",
            "rate": "0.03",
            "start_date": "2026-02-01",
            "end_date": "2029-02-01",
        },
    )
    _post(
        client,
        headers,
        f"{b}/financings/{bond['id']}/disbursements",
        {"date": "2026-02-01", "amount": "5000000"},
    )
    _post(
        client,
        headers,
        f"{b}/reductions",
        {"period_start": "2026-01-01", "period_end": "2026-03-31", "achieved_t": "100"},
    )


@pytest.mark.usefixtures("library")
def test_totals_leverage_and_expected_versus_achieved(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    totals = client.get(PORTFOLIO, headers=headers).get_json()["totals"]

    assert totals == {
        "projects": 2,
        "total_investment": "44500000.00",  # 36,500,000 + 8,000,000
        "committed": "17000000.00",  # 10,000,000 + 2,000,000 + 5,000,000
        "disbursed": "11000000.00",  # 6,000,000 + 5,000,000
        "grant_committed": "2000000.00",
        "expected_annual_reduction_t": "7665.000",  # 7,300 + 365
        "expected_reduction_t": "7390.000",  # 7,300 (2025) + 90 (Q1 2026)
        "achieved_reduction_t": "6670.000",  # 6,570 + 100
        "achieved_vs_expected": "0.9026",  # 6,670 / 7,390 = 0.90257…
        "leverage": "22.2500",  # 44,500,000 / 2,000,000
        "finance_coverage": "0.3820",  # 17,000,000 / 44,500,000 = 0.38202…
        "cost_per_tonne": "6671.66",  # 44,500,000 / 6,670 = 6,671.664…
    }


@pytest.mark.usefixtures("library")
def test_sections_are_chart_ready_labels_and_series(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    body = client.get(PORTFOLIO, headers=headers).get_json()

    assert body["by_locality"]["labels"] == ["miyun", "tongzhou"]
    assert body["by_locality"]["series"]["committed"] == ["12000000.00", "5000000.00"]
    assert body["by_category"]["labels"] == ["adaptation", "mitigation"]
    assert body["by_status"] == {
        "labels": ["proposed"],
        "series": {
            "projects": [2],
            "total_investment": ["44500000.00"],
            "committed": ["17000000.00"],
            "disbursed": ["11000000.00"],
            "expected_annual_reduction_t": ["7665.000"],
            "expected_reduction_t": ["7390.000"],
            "achieved_reduction_t": ["6670.000"],
        },
    }
    assert body["by_instrument"] == {
        "labels": ["carbon_reduction_support_tool", "grant", "green_bond"],
        "series": {
            "financings": [1, 1, 1],
            "committed": ["10000000.00", "2000000.00", "5000000.00"],
            "disbursed": ["6000000.00", "0.00", "5000000.00"],
        },
    }
    assert body["by_year"] == {
        "labels": [2025, 2026],
        "series": {
            "projects_started": [1, 1],
            "total_investment": ["36500000.00", "8000000.00"],
            "committed": ["2000000.00", "15000000.00"],  # the grant starts in 2025
            "disbursed": ["0.00", "11000000.00"],
            "expected_reduction_t": ["7300.000", "90.000"],
            "achieved_reduction_t": ["6570.000", "100.000"],
        },
    }


@pytest.mark.usefixtures("library")
def test_filters_narrow_the_portfolio_and_leverage_without_grants_is_null(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    totals = client.get(
        PORTFOLIO, query_string={"locality": "tongzhou"}, headers=headers
    ).get_json()["totals"]

    assert totals["projects"] == 1
    assert totals["committed"] == "5000000.00"
    assert totals["leverage"] is None


@pytest.mark.usefixtures("library")
def test_csv_holds_the_same_figures_in_long_form(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get(PORTFOLIO, query_string={"format": "csv"}, headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == {"section": "totals", "label": "", "metric": "projects", "value": "2"}
    assert {"section": "totals", "label": "", "metric": "leverage", "value": "22.2500"} in rows
    assert {
        "section": "by_instrument",
        "label": "grant",
        "metric": "committed",
        "value": "2000000.00",
    } in rows
    assert {
        "section": "by_year",
        "label": "2026",
        "metric": "disbursed",
        "value": "11000000.00",
    } in rows


def test_an_empty_library_has_zero_totals_and_no_ratios(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    body = client.get(PORTFOLIO, headers=headers).get_json()

    assert body["totals"]["projects"] == 0
    assert body["totals"]["total_investment"] == "0.00"
    assert body["totals"]["leverage"] is None
    assert body["by_year"] == {
        "labels": [],
        "series": {
            "projects_started": [],
            "total_investment": [],
            "committed": [],
            "disbursed": [],
            "expected_reduction_t": [],
            "achieved_reduction_t": [],
        },
    }


def test_an_unknown_format_is_422(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get(PORTFOLIO, query_string={"format": "pdf"}, headers=headers)
    assert_problem(response, 422, "validation-failed", pointers={"#/query/format"})
