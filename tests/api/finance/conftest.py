"""Fixtures for the climate-finance API tests: a finance officer, a sponsoring enterprise
with its user, and a registered project. The test clock stands at 2026-06-01."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Role
from tests.conftest import AuthActions
from tests.factories import make_enterprise, make_user

PROJECTS = "/api/v1/finance/projects"


@pytest.fixture
def sponsor(session: Session) -> Any:
    return make_enterprise(session, name="北京密云光伏发电有限公司", name_en="Miyun Solar")


@pytest.fixture
def officer(session: Session) -> Any:
    return make_user(session, role=Role.FINANCE_OFFICER, name="officer")


@pytest.fixture
def headers(auth: AuthActions, officer: Any) -> dict[str, str]:
    return auth.headers(officer)


@pytest.fixture
def sponsor_headers(session: Session, auth: AuthActions, sponsor: Any) -> dict[str, str]:
    return auth.headers(
        make_user(session, role=Role.ENTERPRISE, name="sponsor", enterprise=sponsor)
    )


def project_body(sponsor_code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "密云水库周边分布式光伏",
        "sponsor_name": "北京密云光伏发电有限公司",
        "sponsor_credit_code": sponsor_code,
        "locality": "miyun",
        "category": "mitigation",
        "subsector": "renewable_energy",
        "start_date": "2025-01-01",
        "total_investment": "36500000.00",
        "expected_annual_reduction_t": "7300",
        "reduction_method": "CCER-14-001-V01 grid emission factor",
        "co_benefits": {"so2": "1200.5", "nox": "950", "pm": "80.25"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def project(client: FlaskClient, headers: dict[str, str], sponsor: Any) -> dict[str, Any]:
    response = client.post(PROJECTS, json=project_body(sponsor.credit_code), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body
