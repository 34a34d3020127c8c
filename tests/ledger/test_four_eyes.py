"""Enterprise transfers: four eyes, reservation at request time, no double spending.

Every test starts from the same worked example: 1,000 allowances of 2025 issued and all of
them allocated to alpha (alpha 1,000, reserve 0, issuance −1,000; sum 0).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import (
    Conflict,
    FourEyesViolation,
    InsufficientHolding,
    NotFound,
    PermissionDenied,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.models import LedgerTransaction
from tests.factories import make_user
from tests.ledger.helpers import count, reload, snapshot


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def _colleague(world, **capabilities):
    user = make_user(
        world.session,
        role=Role.ENTERPRISE,
        name="alpha-clerk",
        enterprise=world.alpha.enterprise,
        **capabilities,
    )
    return actor_for(user)


def test_enterprise_transfer_starts_pending_and_reserves_the_units_at_once(
    funded, assert_ledger_sound
):
    # alpha asks to send 250: still holds 1,000, of which 250 are reserved; beta has nothing yet.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    assert tx.kind is TransactionKind.TRANSFER
    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert tx.initiated_by == funded.alpha.initiator.name
    assert tx.expires_at == funded.clock.now() + timedelta(hours=72)
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_initiator_cannot_approve_their_own_transfer(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    with pytest.raises(FourEyesViolation):
        ledger.approve(funded.session, funded.alpha.initiator, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_initiator_cannot_reject_their_own_transfer_either(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    with pytest.raises(FourEyesViolation):
        ledger.reject(funded.session, funded.alpha.initiator, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert_ledger_sound()


def test_colleague_with_the_approver_capability_approves_the_transfer(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    approved = ledger.approve(funded.session, funded.alpha.approver, tx.id)

    # beta is not on alpha's trusted list, so the approved transfer waits out the delay.
    assert approved.status is TransactionStatus.DELAYED
    assert approved.decided_by == funded.alpha.approver.name
    assert approved.decided_at == funded.clock.now()
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_colleague_without_the_approver_capability_cannot_approve(funded, assert_ledger_sound):
    clerk = _colleague(funded, can_approve=False)
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    with pytest.raises(FourEyesViolation):
        ledger.approve(funded.session, clerk, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_user_without_the_initiator_capability_cannot_request_a_transfer(
    funded, assert_ledger_sound
):
    approver_only = _colleague(funded, can_initiate=False)
    before = snapshot(funded)

    with pytest.raises(FourEyesViolation):
        ledger.request_transfer(
            funded.session,
            approver_only,
            from_account=funded.alpha.account,
            to_account=funded.beta.account,
            unit_kind="allowance",
            vintage=2025,
            quantity=250,
        )

    assert snapshot(funded) == before
    assert_ledger_sound()


def test_user_of_another_enterprise_gets_not_found_when_approving(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    # beta is the destination, but the decision belongs to alpha's own users.
    with pytest.raises(NotFound):
        ledger.approve(funded.session, funded.beta.approver, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert_ledger_sound()


def test_user_of_another_enterprise_cannot_move_units_out_of_an_account(
    funded, assert_ledger_sound
):
    before = snapshot(funded)

    with pytest.raises(NotFound) as refused:
        ledger.request_transfer(
            funded.session,
            funded.beta.initiator,
            from_account=funded.alpha.account,
            to_account=funded.beta.account,
            unit_kind="allowance",
            vintage=2025,
            quantity=250,
        )

    assert [e.pointer for e in refused.value.errors] == ["#/from_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_regulator_cannot_approve_an_enterprise_transfer(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    with pytest.raises(PermissionDenied):
        ledger.approve(funded.session, funded.regulator_a, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert_ledger_sound()


def test_reserved_units_cannot_be_spent_twice(funded, assert_ledger_sound):
    # 1,000 held, 700 reserved by a first request: 300 available, so a request for 400 fails.
    funded.transfer(funded.alpha, funded.beta.account, 700)
    before = snapshot(funded)

    with pytest.raises(InsufficientHolding) as refused:
        funded.transfer(funded.alpha, funded.beta.account, 400)

    assert [e.pointer for e in refused.value.errors] == ["#/quantity"]
    assert snapshot(funded) == before
    assert funded.holding(funded.alpha.account) == (1000, 700)
    assert_ledger_sound()


def test_second_request_for_exactly_the_available_units_is_accepted(funded, assert_ledger_sound):
    # 1,000 − 700 reserved = 300 available; a request for 300 reserves everything.
    funded.transfer(funded.alpha, funded.beta.account, 700)
    funded.transfer(funded.alpha, funded.beta.account, 300)

    assert funded.holding(funded.alpha.account) == (1000, 1000)
    assert count(funded.session, LedgerTransaction) == 2 + 2  # issuance, allocation, 2 transfers
    assert_ledger_sound()


def test_rejecting_a_pending_transfer_releases_its_reservation(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    rejected = ledger.reject(funded.session, funded.alpha.approver, tx.id)

    assert rejected.status is TransactionStatus.REJECTED
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_approving_an_enterprise_transfer_twice_is_a_conflict(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    ledger.approve(funded.session, funded.alpha.approver, tx.id)

    with pytest.raises(Conflict):
        ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_a_rejected_transfer_cannot_be_approved_afterwards(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    ledger.reject(funded.session, funded.alpha.approver, tx.id)

    with pytest.raises(Conflict):
        ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_approving_a_transaction_that_does_not_exist_is_not_found(funded, assert_ledger_sound):
    with pytest.raises(NotFound):
        ledger.approve(funded.session, funded.alpha.approver, 999_999)

    assert_ledger_sound()
