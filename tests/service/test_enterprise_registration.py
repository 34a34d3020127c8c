"""Registering enterprises, their lifecycle, their contacts, and who may do what to them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from carbon_market.emitters import service as emitters
from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.models import Sector
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import (
    Conflict,
    InvalidStatusTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from carbon_market.ledger.accounts.numbers import is_valid_account_number
from carbon_market.ledger.enums import AccountKind, AccountStatus
from carbon_market.ledger.models import Account
from tests.factories import credit_code, make_enterprise, make_user

A, R, S, X = (
    EnterpriseStatus.ACTIVE,
    EnterpriseStatus.REGISTERED,
    EnterpriseStatus.SUSPENDED,
    EnterpriseStatus.EXITED,
)


def _register(session, actor, **overrides):
    values = {
        "credit_code": credit_code(),
        "name": "北京示例水泥有限公司",
        "sector": "cement",
        "district": "fangshan",
    }
    values.update(overrides)
    return emitters.register_enterprise(session, actor, **values)


# --- register_enterprise ------------------------------------------------------------------


def test_register_enterprise_opens_exactly_one_compliance_account_with_a_valid_number(
    session, system
):
    enterprise = _register(session, system)

    accounts = session.scalars(select(Account).where(Account.enterprise_id == enterprise.id)).all()
    assert len(accounts) == 1
    account = accounts[0]
    assert account.kind is AccountKind.ENTERPRISE_COMPLIANCE
    assert account.status is AccountStatus.OPEN
    assert account.number.startswith("BJ10")  # BJ + the compliance kind code
    assert is_valid_account_number(account.number)


def test_register_enterprise_writes_one_audit_event_naming_the_actor_and_the_new_values(
    session, system
):
    code = credit_code()
    enterprise = _register(session, system, credit_code=code)

    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "enterprise", AuditEvent.entity_id == str(enterprise.id)
        )
    ).all()
    assert [e.action for e in events] == ["enterprise:register"]
    assert events[0].actor_name == "system:test"
    assert events[0].before is None
    assert events[0].after["credit_code"] == code
    assert events[0].after["status"] == "registered"


def test_register_enterprise_starts_the_status_history_on_todays_date_in_beijing(session, system):
    enterprise = _register(session, system)

    history = emitters.list_status_history(session, system, enterprise.id)
    assert len(history) == 1
    assert history[0].from_status is None
    assert history[0].to_status is EnterpriseStatus.REGISTERED
    # The clock stands at 2026-06-01 02:00 UTC, which is 10:00 the same day in Beijing.
    assert history[0].effective_from == date(2026, 6, 1)
    assert enterprise.status_effective_from == date(2026, 6, 1)


def test_register_enterprise_reports_unknown_sector_and_unknown_district_together(
    session, system, row_counts
):
    before = row_counts()

    with pytest.raises(ValidationFailed) as caught:
        _register(session, system, sector="shipbuilding", district="atlantis")

    pointers = {e.pointer: e.code for e in caught.value.errors}
    assert pointers == {"#/sector": "catalogue.unknown", "#/district": "catalogue.unknown"}
    assert row_counts() == before


def test_register_enterprise_refuses_an_inactive_sector(session, system):
    emitters.add_sector(session, system, code="retired", label_zh="停用", label_en="Retired")
    session.get(Sector, "retired").is_active = False
    session.commit()

    with pytest.raises(ValidationFailed) as caught:
        _register(session, system, sector="retired")

    assert [e.pointer for e in caught.value.errors] == ["#/sector"]


def test_register_enterprise_with_a_registered_credit_code_is_a_conflict_and_writes_nothing(
    session, system, row_counts
):
    code = credit_code()
    _register(session, system, credit_code=code)
    before = row_counts()

    with pytest.raises(Conflict) as caught:
        _register(session, system, credit_code=code, name="另一家公司")

    assert [(e.pointer, e.code) for e in caught.value.errors] == [
        ("#/credit_code", "credit_code.duplicate")
    ]
    assert row_counts() == before


def test_regulator_may_register_an_enterprise_and_is_named_in_the_audit_event(session, regulator):
    enterprise = _register(session, actor_for(regulator))

    event = session.scalar(select(AuditEvent).where(AuditEvent.entity_id == str(enterprise.id)))
    assert event.actor_user_id == regulator.id
    assert event.actor_role == "regulator"


def test_enterprise_user_may_not_register_an_enterprise(session, row_counts):
    own = make_enterprise(session)
    user = make_user(session, role=Role.ENTERPRISE, enterprise=own)
    before = row_counts()

    with pytest.raises(PermissionDenied):
        _register(session, actor_for(user))

    assert row_counts() == before


def test_enterprise_user_gets_not_found_for_another_enterprise_but_sees_its_own(session):
    own = make_enterprise(session)
    other = make_enterprise(session)
    actor = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=own))

    assert emitters.get_enterprise(session, actor, own.id).id == own.id
    with pytest.raises(NotFound):
        emitters.get_enterprise(session, actor, other.id)
    with pytest.raises(NotFound):
        emitters.list_status_history(session, actor, other.id)


def test_enterprise_user_gets_the_same_not_found_for_another_and_a_missing_enterprise(session):
    own = make_enterprise(session)
    other = make_enterprise(session)
    actor = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=own))

    with pytest.raises(NotFound) as for_other:
        emitters.get_enterprise(session, actor, other.id)
    with pytest.raises(NotFound) as for_missing:
        emitters.get_enterprise(session, actor, 999_999)

    assert for_other.value.detail == for_missing.value.detail


# --- change_status ------------------------------------------------------------------------


def test_change_status_follows_the_lifecycle_and_records_every_step_in_the_history(session, system):
    enterprise = make_enterprise(session)
    steps = [
        (A, date(2026, 6, 1)),
        (S, date(2026, 7, 1)),
        (A, date(2026, 8, 1)),
        (X, date(2026, 12, 31)),
    ]

    for status, effective in steps:
        emitters.change_status(
            session, system, enterprise.id, status=status, effective_from=effective, reason="t"
        )

    history = emitters.list_status_history(session, system, enterprise.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, R),
        (R, A),
        (A, S),
        (S, A),
        (A, X),
    ]
    assert [h.effective_from for h in history[1:]] == [effective for _, effective in steps]
    assert enterprise.status is X
    assert enterprise.status_effective_from == date(2026, 12, 31)


def test_change_status_writes_an_audit_event_with_the_status_before_and_after(session, system):
    enterprise = make_enterprise(session)

    emitters.change_status(
        session, system, enterprise.id, status=A, effective_from=date(2026, 6, 2)
    )

    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_id == str(enterprise.id),
            AuditEvent.action == "enterprise:change_status",
        )
    )
    assert event.before == {"status": "registered", "status_effective_from": "2026-06-01"}
    assert event.after == {"status": "active", "status_effective_from": "2026-06-02"}


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], S),  # registered cannot be suspended before it was ever active
        ([], R),  # nor "become" registered again
        ([A], R),
        ([A], A),  # a status is not a transition to itself
        ([X], A),  # exited is final
        ([X], R),
        ([A, X], S),
    ],
)
def test_change_status_refuses_a_move_the_lifecycle_does_not_allow(
    session, system, path, refused, row_counts
):
    enterprise = make_enterprise(session)
    for status in path:
        emitters.change_status(
            session, system, enterprise.id, status=status, effective_from=date(2026, 6, 1)
        )
    before = row_counts()

    with pytest.raises(InvalidStatusTransition):
        emitters.change_status(
            session, system, enterprise.id, status=refused, effective_from=date(2026, 9, 1)
        )

    assert row_counts() == before


def test_change_status_refuses_an_effective_date_before_the_current_status_took_effect(
    session, system
):
    enterprise = make_enterprise(session, status_effective_from=date(2026, 3, 1))

    with pytest.raises(ValidationFailed) as caught:
        emitters.change_status(
            session, system, enterprise.id, status=A, effective_from=date(2026, 2, 28)
        )

    assert [e.pointer for e in caught.value.errors] == ["#/effective_from"]
    assert emitters.get_enterprise(session, system, enterprise.id).status is R


def test_change_status_of_a_missing_enterprise_is_not_found(session, system):
    with pytest.raises(NotFound):
        emitters.change_status(session, system, 424242, status=A, effective_from=date(2026, 6, 1))


def test_enterprise_user_may_not_change_the_status_of_its_own_enterprise(session):
    own = make_enterprise(session)
    actor = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=own))

    with pytest.raises(PermissionDenied):
        emitters.change_status(session, actor, own.id, status=A, effective_from=date(2026, 6, 1))


# --- update_contacts ----------------------------------------------------------------------

NEW_CONTACTS = [{"name": "李工", "title": "环保专员", "phone": "010-87654321", "email": None}]


def test_enterprise_user_may_replace_the_contacts_of_its_own_enterprise(session):
    own = make_enterprise(session)
    user = make_user(session, role=Role.ENTERPRISE, enterprise=own)

    emitters.update_contacts(session, actor_for(user), own.id, contacts=NEW_CONTACTS)

    session.expire_all()
    assert emitters.get_enterprise(session, actor_for(user), own.id).contacts == NEW_CONTACTS
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "enterprise:update_contacts")
    )
    assert event.actor_user_id == user.id
    assert event.actor_role == "enterprise"
    assert event.before["contacts"][0]["name"] == "王工"
    assert event.after == {"contacts": NEW_CONTACTS}


def test_enterprise_user_gets_not_found_when_replacing_another_enterprises_contacts(
    session, system, row_counts
):
    own = make_enterprise(session)
    other = make_enterprise(session)
    actor = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=own))
    before = row_counts()

    with pytest.raises(NotFound):
        emitters.update_contacts(session, actor, other.id, contacts=NEW_CONTACTS)

    session.expire_all()
    assert emitters.get_enterprise(session, system, other.id).contacts[0]["name"] == "王工"
    assert row_counts() == before


def test_enterprise_user_may_not_correct_its_own_enterprises_name(session):
    own = make_enterprise(session)
    actor = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=own))

    with pytest.raises(PermissionDenied):
        emitters.update_enterprise(session, actor, own.id, changes={"name": "改名公司"})
