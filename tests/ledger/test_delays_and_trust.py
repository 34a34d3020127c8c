"""The untrusted-account delay (26 h by default) and the trusted-account list.

Worked example used throughout: 1,000 allowances of 2025 allocated to alpha; alpha sends 250
to beta. Once completed: alpha 750, beta 250, reserve 0, issuance −1,000; sum 0.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import Conflict, FourEyesViolation, NotFound, PermissionDenied
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import trust
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.models import TrustStatus
from tests.factories import make_user
from tests.ledger.conftest import RESERVE, RETIREMENT
from tests.ledger.helpers import reload

DELAY = timedelta(hours=26)


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def _approved(world, quantity=250, destination=None):
    tx = world.transfer(world.alpha, destination or world.beta.account, quantity)
    return ledger.approve(world.session, world.alpha.approver, tx.id)


def _trust_beta(world, decider=None):
    """alpha's initiator proposes beta for the trusted list; ``decider`` approves it."""
    entry = trust.request_trust(
        world.session, world.alpha.initiator, world.alpha.account, trusted_number=world.beta.account
    )
    if decider is None:
        return entry
    return trust.decide_trust(world.session, decider, world.alpha.account, entry.id, approve=True)


# --- the delay ----------------------------------------------------------------------------


def test_approved_transfer_to_untrusted_account_waits_26_hours_from_the_approval(
    funded, assert_ledger_sound
):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(5)  # approved five hours after the request: the delay counts from here
    approved_at = funded.clock.now()

    delayed = ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert delayed.status is TransactionStatus.DELAYED
    assert delayed.execute_after == approved_at + DELAY
    assert delayed.completed_at is None
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_delayed_transfer_is_not_released_a_minute_before_the_delay_is_over(
    funded, assert_ledger_sound
):
    tx = _approved(funded)
    funded.pass_time(26 - 1 / 60)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_delayed_transfer_completes_at_run_due_once_the_delay_is_over(funded, assert_ledger_sound):
    tx = _approved(funded)
    funded.pass_time(26)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 1, "expired": 0}

    done = reload(funded, tx.id)
    assert done.status is TransactionStatus.COMPLETED
    assert done.completed_at == funded.clock.now()
    # alpha 1,000 − 250 = 750 (nothing reserved any more), beta 250.
    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_run_due_releases_a_delayed_transfer_only_once(funded, assert_ledger_sound):
    _approved(funded)
    funded.pass_time(26)
    ledger.run_due(funded.session, funded.regulator_a)
    funded.pass_time(1)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_enterprise_user_cannot_run_the_scheduled_work(funded, assert_ledger_sound):
    tx = _approved(funded)
    funded.pass_time(26)

    with pytest.raises(PermissionDenied):
        ledger.run_due(funded.session, funded.alpha.approver)

    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_cancelling_during_the_delay_releases_the_units(funded, assert_ledger_sound):
    tx = _approved(funded)
    funded.pass_time(10)

    cancelled = ledger.cancel(funded.session, funded.alpha.initiator, tx.id)

    assert cancelled.status is TransactionStatus.CANCELLED
    assert funded.holding(funded.alpha.account) == (1000, 0)
    # Once the delay would have been over, nothing moves.
    funded.pass_time(16)
    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_completed_transfer_cannot_be_cancelled(funded, assert_ledger_sound):
    tx = _approved(funded)
    funded.pass_time(26)
    ledger.run_due(funded.session, funded.regulator_a)

    with pytest.raises(Conflict):
        ledger.cancel(funded.session, funded.alpha.initiator, tx.id)

    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_destination_enterprise_cannot_cancel_a_delayed_transfer(funded, assert_ledger_sound):
    tx = _approved(funded)

    with pytest.raises(NotFound):
        ledger.cancel(funded.session, funded.beta.initiator, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_transfer_to_the_retirement_account_is_recorded_as_retirement_and_not_delayed(
    funded, assert_ledger_sound
):
    # alpha retires 100: alpha 900, retirement 100, at the approval instant.
    done = _approved(funded, 100, RETIREMENT)

    assert done.kind is TransactionKind.RETIREMENT
    assert done.status is TransactionStatus.COMPLETED
    assert done.execute_after is None
    assert funded.holding(funded.alpha.account) == (900, 0)
    assert funded.holding(RETIREMENT) == (100, 0)
    assert_ledger_sound()


def test_transfer_back_to_the_government_reserve_is_not_delayed(funded, assert_ledger_sound):
    # A compliance account and a government account never delay each other:
    # alpha returns 100, alpha 900, reserve 100.
    done = _approved(funded, 100, RESERVE)

    assert done.kind is TransactionKind.TRANSFER
    assert done.status is TransactionStatus.COMPLETED
    assert funded.holding(funded.alpha.account) == (900, 0)
    assert funded.holding(RESERVE) == (100, 0)
    assert_ledger_sound()


# --- the trusted list ---------------------------------------------------------------------


def test_trust_requested_by_the_initiator_stays_pending_and_the_delay_remains(
    funded, assert_ledger_sound
):
    entry = _trust_beta(funded)

    assert entry.status is TrustStatus.PENDING
    assert _approved(funded).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_trust_cannot_be_approved_by_the_user_who_proposed_it(funded, assert_ledger_sound):
    entry = _trust_beta(funded)

    with pytest.raises(FourEyesViolation):
        trust.decide_trust(
            funded.session, funded.alpha.initiator, funded.alpha.account, entry.id, approve=True
        )

    listed = trust.list_trusted(funded.session, funded.alpha.approver, funded.alpha.account)
    assert [e.status for e in listed] == [TrustStatus.PENDING]
    assert _approved(funded).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_trust_cannot_be_approved_by_a_colleague_without_the_approver_capability(
    funded, assert_ledger_sound
):
    clerk = actor_for(
        make_user(
            funded.session,
            role=Role.ENTERPRISE,
            name="alpha-clerk",
            enterprise=funded.alpha.enterprise,
            can_approve=False,
        )
    )
    entry = _trust_beta(funded)

    with pytest.raises(FourEyesViolation):
        trust.decide_trust(funded.session, clerk, funded.alpha.account, entry.id, approve=True)

    assert _approved(funded).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_trust_approved_by_the_approver_makes_transfers_complete_without_delay(
    funded, assert_ledger_sound
):
    entry = _trust_beta(funded, decider=funded.alpha.approver)
    assert entry.status is TrustStatus.ACTIVE

    done = _approved(funded)

    assert done.status is TransactionStatus.COMPLETED
    assert done.execute_after is None
    assert done.completed_at == funded.clock.now()
    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_trust_takes_effect_for_a_transfer_requested_before_it_was_approved(
    funded, assert_ledger_sound
):
    # The delay is decided at approval time, from the list as it is then.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    _trust_beta(funded, decider=funded.alpha.approver)

    done = ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert done.status is TransactionStatus.COMPLETED
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_rejected_trust_does_not_remove_the_delay(funded, assert_ledger_sound):
    entry = _trust_beta(funded)
    rejected = trust.decide_trust(
        funded.session, funded.alpha.approver, funded.alpha.account, entry.id, approve=False
    )

    assert rejected.status is TrustStatus.REJECTED
    assert _approved(funded).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_trust_is_one_way(funded, assert_ledger_sound):
    # alpha trusts beta; beta does not trust alpha, so beta → alpha still waits.
    _trust_beta(funded, decider=funded.alpha.approver)
    funded.fund(funded.beta, 400)
    tx = funded.transfer(funded.beta, funded.alpha.account, 100)

    back = ledger.approve(funded.session, funded.beta.approver, tx.id)

    assert back.status is TransactionStatus.DELAYED
    assert funded.holding(funded.beta.account) == (400, 100)
    assert_ledger_sound()


def test_proposing_the_same_trusted_account_twice_is_a_conflict(funded, assert_ledger_sound):
    _trust_beta(funded)

    with pytest.raises(Conflict):
        _trust_beta(funded)

    listed = trust.list_trusted(funded.session, funded.alpha.approver, funded.alpha.account)
    assert len(listed) == 1
    assert_ledger_sound()


def test_another_enterprise_cannot_edit_an_accounts_trusted_list(funded, assert_ledger_sound):
    with pytest.raises(NotFound):
        trust.request_trust(
            funded.session,
            funded.beta.initiator,
            funded.alpha.account,
            trusted_number=funded.beta.account,
        )

    assert trust.list_trusted(funded.session, funded.alpha.approver, funded.alpha.account) == []
    assert _approved(funded).status is TransactionStatus.DELAYED
    assert_ledger_sound()
