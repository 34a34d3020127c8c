"""Creating users, issuing and checking API tokens, and logging in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.auth.passwords import MIN_PASSWORD_LENGTH, dummy_hash, verify_password
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import (
    Conflict,
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import PASSWORD, make_enterprise, make_user

GOOD_PASSWORD = "a-long-enough-password"


def _create(session, actor, **overrides):
    values = {"name": "new-user", "role": Role.REGULATOR, "password": GOOD_PASSWORD}
    values.update(overrides)
    return auth_service.create_user(session, actor, **values)


# --- create_user --------------------------------------------------------------------------


def test_create_user_stores_an_argon2_hash_that_verifies_the_password(session, system):
    user = _create(session, system)

    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, GOOD_PASSWORD)
    assert not verify_password(user.password_hash, GOOD_PASSWORD + "x")


def test_create_user_records_an_audit_event_without_the_password(session, regulator):
    user = _create(session, actor_for(regulator))

    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user:create"))
    assert event.entity_id == str(user.id)
    assert event.actor_name == "regulator"
    assert event.after["role"] == "regulator"
    assert GOOD_PASSWORD not in str(event.after)
    assert "password_hash" not in event.after


def test_enterprise_user_gets_both_capabilities_by_default(session, system):
    enterprise = make_enterprise(session)

    user = _create(
        session, system, role=Role.ENTERPRISE, enterprise_credit_code=enterprise.credit_code
    )

    assert user.enterprise_id == enterprise.id
    assert (user.can_initiate, user.can_approve) == (True, True)


def test_enterprise_user_is_bound_by_a_lower_case_credit_code_with_spaces(session, system):
    enterprise = make_enterprise(session)

    user = _create(
        session,
        system,
        role=Role.ENTERPRISE,
        enterprise_credit_code=f"  {enterprise.credit_code.lower()} ",
    )

    assert user.enterprise_id == enterprise.id


@pytest.mark.parametrize(
    ("can_initiate", "can_approve", "expected"),
    [
        (False, None, (False, True)),
        (None, False, (True, False)),
        (True, False, (True, False)),
        (False, True, (False, True)),
    ],
)
def test_enterprise_user_capabilities_can_be_withheld_one_at_a_time(
    session, system, can_initiate, can_approve, expected
):
    enterprise = make_enterprise(session)

    user = _create(
        session,
        system,
        role=Role.ENTERPRISE,
        enterprise_credit_code=enterprise.credit_code,
        can_initiate=can_initiate,
        can_approve=can_approve,
    )

    assert (user.can_initiate, user.can_approve) == expected


def test_enterprise_user_without_any_capability_is_refused(session, system, row_counts):
    enterprise = make_enterprise(session)
    before = row_counts()

    with pytest.raises(ValidationFailed) as caught:
        _create(
            session,
            system,
            role=Role.ENTERPRISE,
            enterprise_credit_code=enterprise.credit_code,
            can_initiate=False,
            can_approve=False,
        )

    assert [e.pointer for e in caught.value.errors] == ["#/can_initiate"]
    assert row_counts() == before


def test_capabilities_are_never_given_to_a_user_outside_an_enterprise(session, system):
    user = _create(session, system, role=Role.VERIFIER, can_initiate=True, can_approve=True)

    assert (user.can_initiate, user.can_approve) == (False, False)


def test_enterprise_user_without_an_enterprise_is_refused(session, system, row_counts):
    before = row_counts()

    with pytest.raises(ValidationFailed) as caught:
        _create(session, system, role=Role.ENTERPRISE)

    assert [e.pointer for e in caught.value.errors] == ["#/enterprise"]
    assert row_counts() == before


def test_enterprise_user_with_an_unknown_credit_code_is_refused(session, system):
    with pytest.raises(ValidationFailed, match="no enterprise has credit code"):
        _create(session, system, role=Role.ENTERPRISE, enterprise_credit_code="91110000MA00000000")


def test_regulator_bound_to_an_enterprise_is_refused(session, system):
    enterprise = make_enterprise(session)

    with pytest.raises(ValidationFailed, match="only enterprise users"):
        _create(session, system, role=Role.REGULATOR, enterprise_credit_code=enterprise.credit_code)


def test_password_one_character_too_short_is_refused(session, system, row_counts):
    before = row_counts()

    with pytest.raises(ValidationFailed) as caught:
        _create(session, system, password="x" * (MIN_PASSWORD_LENGTH - 1))

    assert [e.pointer for e in caught.value.errors] == ["#/password"]
    assert row_counts() == before


def test_password_of_exactly_the_minimum_length_is_accepted(session, system):
    user = _create(session, system, password="x" * MIN_PASSWORD_LENGTH)

    assert verify_password(user.password_hash, "x" * MIN_PASSWORD_LENGTH)


def test_create_user_with_a_name_in_use_is_a_conflict(session, system, regulator):
    with pytest.raises(Conflict):
        _create(session, system, name=regulator.name)


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.AUDITOR, Role.VERIFIER])
def test_only_regulators_may_create_users(session, role, row_counts):
    enterprise = make_enterprise(session) if role is Role.ENTERPRISE else None
    actor = actor_for(make_user(session, role=role, enterprise=enterprise))
    before = row_counts()

    with pytest.raises(PermissionDenied):
        _create(session, actor)

    assert row_counts() == before


# --- issue_token and authenticate ---------------------------------------------------------


def test_an_issued_token_authenticates_as_its_user(session, system, regulator):
    _record, token = auth_service.issue_token(session, system, user_name=regulator.name)

    actor = auth_service.authenticate(session, token, request_id="req-1")

    assert (actor.name, actor.role, actor.user_id) == ("regulator", Role.REGULATOR, regulator.id)
    assert actor.request_id == "req-1"


def test_the_token_itself_is_not_stored_only_its_hash_and_a_short_prefix(
    session, system, regulator
):
    record, token = auth_service.issue_token(session, system, user_name=regulator.name)

    assert record.token_hash != token
    assert token not in record.token_hash
    assert token.startswith(record.prefix)
    assert len(record.prefix) < len(token) // 2


def test_enterprise_token_carries_the_enterprise_and_its_capabilities(session, system):
    enterprise = make_enterprise(session)
    user = make_user(session, role=Role.ENTERPRISE, enterprise=enterprise, can_approve=False)
    _record, token = auth_service.issue_token(session, system, user_name=user.name)

    actor = auth_service.authenticate(session, token)

    assert actor.enterprise_id == enterprise.id
    assert (actor.can_initiate, actor.can_approve) == (True, False)


def test_a_token_works_until_one_second_before_it_expires_and_not_at_expiry(
    session, system, regulator, clock
):
    _record, token = auth_service.issue_token(session, system, user_name=regulator.name, ttl_days=1)

    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert auth_service.authenticate(session, token).user_id == regulator.id
    clock.advance(timedelta(seconds=1))
    with pytest.raises(NotAuthenticated, match="expired"):
        auth_service.authenticate(session, token)


def test_a_revoked_token_no_longer_authenticates(session, system, regulator):
    record, token = auth_service.issue_token(session, system, user_name=regulator.name)

    auth_service.revoke_token(session, actor_for(regulator), record.id)

    with pytest.raises(NotAuthenticated, match="revoked"):
        auth_service.authenticate(session, token)


def test_revoking_a_token_does_not_touch_the_users_other_tokens(session, system, regulator):
    first, first_token = auth_service.issue_token(session, system, user_name=regulator.name)
    _second, second_token = auth_service.issue_token(session, system, user_name=regulator.name)

    auth_service.revoke_token(session, actor_for(regulator), first.id)

    assert auth_service.authenticate(session, second_token).user_id == regulator.id
    with pytest.raises(NotAuthenticated):
        auth_service.authenticate(session, first_token)


def test_a_deactivated_users_tokens_stop_working_at_once(session, system, regulator, auditor):
    _record, token = auth_service.issue_token(session, system, user_name=auditor.name)

    auth_service.deactivate_user(session, actor_for(regulator), name=auditor.name)

    with pytest.raises(NotAuthenticated, match="deactivated"):
        auth_service.authenticate(session, token)


def test_no_token_is_issued_for_a_deactivated_user(session, system, regulator, auditor):
    auth_service.deactivate_user(session, actor_for(regulator), name=auditor.name)

    with pytest.raises(ValidationFailed, match="deactivated"):
        auth_service.issue_token(session, system, user_name=auditor.name)


def test_an_unknown_token_does_not_authenticate(session):
    with pytest.raises(NotAuthenticated, match="not valid"):
        auth_service.authenticate(session, "cm_not-a-token-anyone-issued")


@pytest.mark.parametrize("ttl_days", [0, -1, auth_service.MAX_TOKEN_DAYS + 1])
def test_a_token_lifetime_outside_the_allowed_range_is_refused(
    session, system, regulator, ttl_days
):
    with pytest.raises(ValidationFailed) as caught:
        auth_service.issue_token(session, system, user_name=regulator.name, ttl_days=ttl_days)

    assert [e.pointer for e in caught.value.errors] == ["#/ttl_days"]


def test_a_user_may_issue_a_token_for_themselves(session, auditor):
    _record, token = auth_service.issue_token(session, actor_for(auditor), user_name="auditor")

    assert auth_service.authenticate(session, token).user_id == auditor.id


def test_a_non_regulator_may_not_issue_a_token_for_someone_else(session, regulator, auditor):
    with pytest.raises(PermissionDenied):
        auth_service.issue_token(session, actor_for(auditor), user_name=regulator.name)


# --- login --------------------------------------------------------------------------------


def test_login_with_the_right_password_returns_a_working_one_day_token(session, regulator, clock):
    record, token = auth_service.login(session, name=regulator.name, password=PASSWORD)

    assert record.expires_at == clock.now() + timedelta(days=1)
    assert auth_service.authenticate(session, token).user_id == regulator.id


def test_login_gives_the_same_error_for_an_unknown_user_and_a_wrong_password(session, regulator):
    with pytest.raises(NotAuthenticated) as unknown_user:
        auth_service.login(session, name="nobody", password=PASSWORD)
    with pytest.raises(NotAuthenticated) as wrong_password:
        auth_service.login(session, name=regulator.name, password="wrong-password-123")

    assert unknown_user.value.detail == wrong_password.value.detail
    assert unknown_user.value.errors == wrong_password.value.errors == []


def test_login_for_an_unknown_user_still_verifies_a_hash_so_timing_reveals_nothing(
    session, regulator, monkeypatch
):
    verified = []

    def spy(password_hash, password):
        verified.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(auth_service, "verify_password", spy)

    for name in ("nobody", regulator.name):
        with pytest.raises(NotAuthenticated):
            auth_service.login(session, name=name, password="wrong-password-123")

    # One argon2 verification each: against the dummy hash, then against the user's own.
    assert verified == [dummy_hash(), regulator.password_hash]


def test_login_of_a_deactivated_user_gives_the_same_error_as_a_wrong_password(
    session, regulator, auditor
):
    auth_service.deactivate_user(session, actor_for(regulator), name=auditor.name)

    with pytest.raises(NotAuthenticated) as deactivated:
        auth_service.login(session, name=auditor.name, password=PASSWORD)
    with pytest.raises(NotAuthenticated) as wrong_password:
        auth_service.login(session, name=regulator.name, password="wrong-password-123")

    assert deactivated.value.detail == wrong_password.value.detail


def test_a_failed_login_issues_no_token(session, regulator, row_counts):
    before = row_counts()

    with pytest.raises(NotAuthenticated):
        auth_service.login(session, name=regulator.name, password="wrong-password-123")

    assert row_counts() == before
    assert before["api_token"] == 0
