"""The authorization table: roles × actions, tenants, the system actor."""

from __future__ import annotations

import pytest

from carbon_market.kernel.access.policy import PERMISSIONS, authorize, is_allowed, tenant_scope
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.errors import NotFound, PermissionDenied

R, E, V, F, A, X = "R", "E", "V", "F", "A", "X"
ROLE_OF = {
    R: Role.REGULATOR,
    E: Role.ENTERPRISE,
    V: Role.VERIFIER,
    F: Role.FINANCE_OFFICER,
    A: Role.AUDITOR,
    X: Role.EXCHANGE,
}

# The expected matrix, written out independently of PERMISSIONS so that a change to the
# table has to be made twice: once in the code and once here, on purpose.
EXPECTED: dict[str, set[str]] = {
    "enterprise.read": {R, E, V, F, A, X},
    "enterprise.register": {R},
    "enterprise.update": {R},
    "enterprise.update_contacts": {R, E},
    "enterprise.change_status": {R},
    "enterprise.import": {R},
    "facility.read": {R, E, V, F, A, X},
    "facility.create": {R},
    "facility.update": {R},
    "catalogue.manage": {R},
    "audit.read": {R, A},
    "user.read": {R, A},
    "user.create": {R},
    "user.deactivate": {R},
    "token.revoke_any": {R},
    "account.read": {R, E, A},
    "account.manage": {R},
    "account.set_limit": {R, E},
    "ledger.read": {R, E, A},
    "ledger.issue": {R},
    "ledger.transfer": {R, E},
    "ledger.decide": {R, E},
    "ledger.reverse": {R},
    "trust.read": {R, E, A},
    "trust.request": {R, E},
    "trust.decide": {R, E},
    "factors.read": {R, E, V, F, A, X},
    "factors.manage": {R},
    "reports.read": {R, E, V, A},
    "reports.write": {R, E},
    "reports.submit": {E},
    "reports.assign": {R},
    "reports.verify": {V},
    "reports.decide": {R},
    "greenpower.read": {R, E, V, F, A, X},
    "greenpower.manage": {R},
    "greenpower.transfer": {R, E},
    "greenpower.claim": {R, E},
    "synergy.read": {R, A},
    "finance.read": {R, E, F, A},
    "finance.write": {F},
    "finance.import": {F},
    "finance.portfolio": {R, F, A},
    "finance.catalogue.manage": {R, F},
    "allocation.read": {R, A},
    "allocation.manage": {R},
    "allocation.approve": {R},
    "allocation.issue": {R},
    "allocation.results": {R, E, A},
    "auction.read": {R, E, A},
    "auction.manage": {R},
    "auction.bid": {E},
    "auction.bids": {R, E, A},
    "trading.read": {R, E, A, X},
    "trading.record": {R, X},
    "market.stats": {R, E, V, F, A, X},
    "market.reference_price": {R},
    "market.surveillance": {R, A},
    "jobs.read": {R, A},
    "notifications.read": {R, E, A},
    "compliance.read_year": {R, E, V, F, A, X},
    "compliance.manage": {R},
    "compliance.surrender": {E},
    "compliance.read": {R, E, A},
    "compliance.results": {R, E, V, F, A, X},
    "market.groups": {R},
}
READ_ACTIONS = {
    "enterprise.read",
    "facility.read",
    "audit.read",
    "user.read",
    "account.read",
    "ledger.read",
    "trust.read",
    "factors.read",
    "reports.read",
    "greenpower.read",
    "synergy.read",
    "finance.read",
    "finance.portfolio",
    "allocation.read",
    "allocation.results",
    "auction.read",
    "auction.bids",
    "trading.read",
    "market.stats",
    "market.surveillance",
    "jobs.read",
    "notifications.read",
    "compliance.read_year",
    "compliance.read",
    "compliance.results",
}
WRITE_ACTIONS = sorted(set(EXPECTED) - READ_ACTIONS)

#: Actions an enterprise user may take, but only on its own enterprise's data.
TENANT_ACTIONS = [
    "enterprise.read",
    "facility.read",
    "enterprise.update_contacts",
    "reports.read",
    "reports.write",
    "reports.submit",
    "greenpower.read",
    "greenpower.claim",
]

OWN_ENTERPRISE = 7
OTHER_ENTERPRISE = 8

MATRIX = [
    pytest.param(letter, action, letter in allowed, id=f"{ROLE_OF[letter]}-{action}")
    for action, allowed in EXPECTED.items()
    for letter in ROLE_OF
]


def _actor(role: Role) -> Actor:
    enterprise_id = OWN_ENTERPRISE if role is Role.ENTERPRISE else None
    return Actor(name=f"{role}-user", role=role, user_id=1, enterprise_id=enterprise_id)


def test_expected_matrix_covers_every_action_when_compared_with_the_policy_table():
    assert set(EXPECTED) == set(PERMISSIONS)


@pytest.mark.parametrize(("letter", "action", "allowed"), MATRIX)
def test_role_is_allowed_or_denied_when_checked_against_the_matrix(
    letter: str, action: str, allowed: bool
):
    assert is_allowed(_actor(ROLE_OF[letter]), action) is allowed


@pytest.mark.parametrize(("letter", "action", "allowed"), MATRIX)
def test_authorize_raises_permission_denied_when_role_may_not_act(
    letter: str, action: str, allowed: bool
):
    actor = _actor(ROLE_OF[letter])
    if allowed:
        authorize(actor, action)
    else:
        with pytest.raises(PermissionDenied, match=action):
            authorize(actor, action)


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_auditor_is_denied_when_attempting_any_write_action(action: str):
    with pytest.raises(PermissionDenied):
        authorize(_actor(Role.AUDITOR), action, enterprise_id=OTHER_ENTERPRISE)


@pytest.mark.parametrize("action", TENANT_ACTIONS)
def test_enterprise_user_gets_not_found_when_reaching_for_another_enterprise(action: str):
    with pytest.raises(NotFound):
        authorize(_actor(Role.ENTERPRISE), action, enterprise_id=OTHER_ENTERPRISE)


@pytest.mark.parametrize("action", TENANT_ACTIONS)
def test_enterprise_user_is_allowed_when_acting_on_own_enterprise(action: str):
    authorize(_actor(Role.ENTERPRISE), action, enterprise_id=OWN_ENTERPRISE)
    assert is_allowed(_actor(Role.ENTERPRISE), action)


def test_enterprise_user_gets_not_found_status_404_when_probing_other_ids():
    with pytest.raises(NotFound) as info:
        authorize(_actor(Role.ENTERPRISE), "enterprise.read", enterprise_id=OTHER_ENTERPRISE)
    assert info.value.status == 404


def test_enterprise_user_gets_permission_denied_not_not_found_when_role_forbids_action():
    # The role check comes first: the answer does not depend on the id, so it leaks nothing.
    for enterprise_id in (OWN_ENTERPRISE, OTHER_ENTERPRISE):
        with pytest.raises(PermissionDenied):
            authorize(_actor(Role.ENTERPRISE), "enterprise.register", enterprise_id=enterprise_id)


@pytest.mark.parametrize("letter", [R, V, F, A, X])
def test_non_tenant_roles_are_not_scoped_when_reading_any_enterprise(letter: str):
    actor = _actor(ROLE_OF[letter])
    authorize(actor, "enterprise.read", enterprise_id=OTHER_ENTERPRISE)
    assert tenant_scope(actor) is None


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_system_actor_is_allowed_when_performing_any_action(action: str):
    system = Actor.system()
    assert system.is_system
    assert is_allowed(system, action)
    authorize(system, action, enterprise_id=OTHER_ENTERPRISE)


def test_system_actor_is_allowed_even_when_action_is_not_in_the_table():
    assert is_allowed(Actor.system(), "no.such.action")


@pytest.mark.parametrize("letter", list(ROLE_OF))
def test_unknown_action_raises_key_error_when_a_user_asks(letter: str):
    with pytest.raises(KeyError, match=r"no\.such\.action"):
        authorize(_actor(ROLE_OF[letter]), "no.such.action")


def test_tenant_scope_is_own_enterprise_when_actor_is_an_enterprise_user():
    assert tenant_scope(_actor(Role.ENTERPRISE)) == OWN_ENTERPRISE


def test_tenant_scope_is_unrestricted_when_actor_is_the_system():
    assert tenant_scope(Actor.system()) is None
