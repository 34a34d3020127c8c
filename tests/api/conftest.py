"""Fixtures for the API tests: two tenants and one user per role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carbon_market.auth.roles import Actor, Role
from carbon_market.emitters import service as emitters
from tests.api.helpers import Tenants
from tests.conftest import AuthActions
from tests.factories import make_enterprise, make_user


@pytest.fixture
def tenants(session: Session, regulator: Any, auditor: Any) -> Tenants:
    own = make_enterprise(session, name="北京甲热电有限公司", name_en="Alpha Thermal")
    other = make_enterprise(
        session, name="北京乙水泥有限公司", name_en="Beta Cement", sector="cement"
    )
    facility = emitters.add_facility(
        session,
        Actor.system(name="system:test"),
        own.id,
        name="1号燃煤机组",
        facility_type="coal_unit",
    )
    others_facility = emitters.add_facility(
        session, Actor.system(name="system:test"), other.id, name="1号回转窑", facility_type="kiln"
    )
    users = {
        "regulator": regulator,
        "auditor": auditor,
        "enterprise_own": make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=own),
        "enterprise_other": make_user(session, role=Role.ENTERPRISE, name="beta", enterprise=other),
        "verifier": make_user(session, role=Role.VERIFIER, name="verifier"),
        "finance_officer": make_user(session, role=Role.FINANCE_OFFICER, name="finance"),
    }
    return Tenants(
        own=own,
        other=other,
        facility_id=facility.id,
        other_facility_id=others_facility.id,
        users=users,
    )


@pytest.fixture
def headers_for(auth: AuthActions, tenants: Tenants) -> Callable[[str], dict[str, str]]:
    """``headers_for(role)``: a fresh bearer header for that role; none for ``anonymous``."""

    def headers(role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return auth.headers(tenants.users[role])

    return headers
