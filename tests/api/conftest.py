"""Fixtures for the API tests: two tenants, one user per role, and a funded registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carbon_market.emitters import service as emitters
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import trust
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from tests.api.helpers import (
    ISSUED,
    LAST_ALLOCATION,
    OTHER_FUNDED,
    OWN_FUNDED,
    PENDING_QUANTITY,
    VINTAGE,
    Tenants,
)
from tests.conftest import AuthActions
from tests.factories import make_enterprise, make_user

RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
RETIREMENT = GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT]
SYSTEM = Actor.system(name="system:test")


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
    own_second = make_user(session, role=Role.ENTERPRISE, name="alpha-2", enterprise=own)
    users = {
        "regulator": regulator,
        "auditor": auditor,
        "enterprise_own": make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=own),
        "enterprise_other": make_user(session, role=Role.ENTERPRISE, name="beta", enterprise=other),
        "verifier": make_user(session, role=Role.VERIFIER, name="verifier"),
        "finance_officer": make_user(session, role=Role.FINANCE_OFFICER, name="finance"),
        "exchange": make_user(session, role=Role.EXCHANGE, name="exchange"),
        "enterprise_own_second": own_second,
        "regulator_second": make_user(session, role=Role.REGULATOR, name="regulator-2"),
    }
    own_account = own.compliance_account.number
    other_account = other.compliance_account.number
    # The system actor posts at once: issue, then allocate to both enterprises.
    units = {"unit_kind": "allowance", "vintage": VINTAGE}
    ledger.issue(session, SYSTEM, quantity=ISSUED, **units)
    ledger.request_transfer(
        session,
        SYSTEM,
        from_account=RESERVE,
        to_account=own_account,
        quantity=OWN_FUNDED - LAST_ALLOCATION,
        **units,
    )
    completed = ledger.request_transfer(
        session,
        SYSTEM,
        from_account=RESERVE,
        to_account=own_account,
        quantity=LAST_ALLOCATION,
        **units,
    )
    ledger.request_transfer(
        session,
        SYSTEM,
        from_account=RESERVE,
        to_account=other_account,
        quantity=OTHER_FUNDED,
        **units,
    )
    # The second user of ``own`` starts a retirement and proposes a trusted account, so that
    # ``enterprise_own`` may decide on both (nobody decides on their own request).
    second = auth_service.actor_for(own_second)
    pending = ledger.request_transfer(
        session,
        second,
        from_account=own_account,
        to_account=RETIREMENT,
        quantity=PENDING_QUANTITY,
        memo="自愿注销",
        **units,
    )
    entry = trust.request_trust(session, second, own_account, trusted_number=other_account)
    return Tenants(
        own=own,
        other=other,
        facility_id=facility.id,
        other_facility_id=others_facility.id,
        users=users,
        own_account=own_account,
        other_account=other_account,
        pending_tx_id=pending.id,
        completed_tx_id=completed.id,
        trust_entry_id=entry.id,
    )


@pytest.fixture
def headers_for(auth: AuthActions, tenants: Tenants) -> Callable[[str], dict[str, str]]:
    """``headers_for(role)``: a fresh bearer header for that role; none for ``anonymous``."""

    def headers(role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return auth.headers(tenants.users[role])

    return headers


@pytest.fixture
def bearer(session: Session, tenants: Tenants) -> dict[str, dict[str, str]]:
    """A bearer header for every user of ``tenants`` (keys as in ``tenants.users``), issued up
    front so that requests made inside a ``moves_nothing`` block are the only writes. The
    tokens last 30 days, so tests may walk the clock through delays and expiries."""
    headers = {}
    for key, user in tenants.users.items():
        _record, token = auth_service.issue_token(
            session, Actor.system(), user_name=user.name, ttl_days=30
        )
        headers[key] = {"Authorization": f"Bearer {token}"}
    return headers
