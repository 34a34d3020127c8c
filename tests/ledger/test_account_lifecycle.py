"""Accounts block (nothing moves out), close (only when empty) and limit one transfer.

Worked example: 1,000 allowances of 2025 allocated to alpha; beta starts empty.
"""

from __future__ import annotations

import pytest

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import (
    AccountNotUsable,
    FourEyesViolation,
    InvalidStatusTransition,
    PermissionDenied,
    RuleViolation,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import (
    get_account,
    set_account_status,
    set_transfer_limit,
)
from carbon_market.ledger.enums import AccountStatus, TransactionStatus
from tests.factories import make_user
from tests.ledger.conftest import RESERVE, RETIREMENT
from tests.ledger.helpers import complete_transfer, reload, snapshot


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def _set_status(world, number, status):
    return set_account_status(world.session, world.regulator_a, number, status=status)


def _status(world, number):
    world.session.expire_all()
    return get_account(world.session, world.regulator_a, number).status


# --- blocking -----------------------------------------------------------------------------


def test_blocked_account_refuses_transfers_out(funded, assert_ledger_sound):
    _set_status(funded, funded.alpha.account, AccountStatus.BLOCKED)
    before = snapshot(funded)

    with pytest.raises(AccountNotUsable) as refused:
        funded.transfer(funded.alpha, funded.beta.account, 250)

    assert [e.pointer for e in refused.value.errors] == ["#/from_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_blocked_account_may_still_receive(funded, assert_ledger_sound):
    # beta is blocked; alpha's 250 still arrive: alpha 750, beta 250.
    _set_status(funded, funded.beta.account, AccountStatus.BLOCKED)

    complete_transfer(funded, funded.alpha, funded.beta.account, 250)

    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_pending_transfer_cannot_be_approved_once_its_source_is_blocked(
    funded, assert_ledger_sound
):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    _set_status(funded, funded.alpha.account, AccountStatus.BLOCKED)

    with pytest.raises(AccountNotUsable):
        ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_delayed_transfer_waits_while_its_source_is_blocked_and_can_still_be_cancelled(
    funded, assert_ledger_sound
):
    # A theft caught in the 26 h window: the regulator blocks the source; the transfer stays
    # delayed and its units stay reserved, and the holder can still cancel it.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    ledger.approve(funded.session, funded.alpha.approver, tx.id)
    _set_status(funded, funded.alpha.account, AccountStatus.BLOCKED)
    funded.pass_time(26)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert funded.holding(funded.beta.account) == (0, 0)

    ledger.cancel(funded.session, funded.alpha.initiator, tx.id)
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert_ledger_sound()


def test_unblocked_account_can_send_again(funded, assert_ledger_sound):
    _set_status(funded, funded.alpha.account, AccountStatus.BLOCKED)
    _set_status(funded, funded.alpha.account, AccountStatus.OPEN)

    tx = funded.transfer(funded.alpha, funded.beta.account, 250)

    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_enterprise_user_cannot_block_an_account(funded, assert_ledger_sound):
    with pytest.raises(PermissionDenied):
        set_account_status(
            funded.session, funded.alpha.approver, funded.beta.account, status=AccountStatus.BLOCKED
        )

    assert _status(funded, funded.beta.account) is AccountStatus.OPEN
    assert_ledger_sound()


# --- closing ------------------------------------------------------------------------------


def test_closing_an_account_that_holds_units_is_a_rule_violation(funded, assert_ledger_sound):
    with pytest.raises(RuleViolation):
        _set_status(funded, funded.alpha.account, AccountStatus.CLOSED)

    assert _status(funded, funded.alpha.account) is AccountStatus.OPEN
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert_ledger_sound()


def test_closing_an_empty_account_works(funded, assert_ledger_sound):
    closed = _set_status(funded, funded.beta.account, AccountStatus.CLOSED)

    assert closed.status is AccountStatus.CLOSED
    assert closed.closed_at == funded.clock.now()
    assert _status(funded, funded.beta.account) is AccountStatus.CLOSED
    assert_ledger_sound()


def test_account_emptied_by_retiring_everything_can_be_closed(funded, assert_ledger_sound):
    # alpha retires all 1,000: its holding row is 0 and nothing is reserved.
    tx = funded.transfer(funded.alpha, RETIREMENT, 1000)
    ledger.approve(funded.session, funded.alpha.approver, tx.id)
    assert funded.holding(funded.alpha.account) == (0, 0)

    closed = _set_status(funded, funded.alpha.account, AccountStatus.CLOSED)

    assert closed.status is AccountStatus.CLOSED
    assert funded.holding(RETIREMENT) == (1000, 0)
    assert_ledger_sound()


def test_closed_account_cannot_receive(funded, assert_ledger_sound):
    _set_status(funded, funded.beta.account, AccountStatus.CLOSED)
    before = snapshot(funded)

    with pytest.raises(AccountNotUsable) as refused:
        funded.transfer(funded.alpha, funded.beta.account, 250)

    assert [e.pointer for e in refused.value.errors] == ["#/to_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_delayed_transfer_to_an_account_closed_meanwhile_is_cancelled_at_run_due(
    funded, assert_ledger_sound
):
    # beta is empty (the 250 are reserved at alpha), so it may close during the delay.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    ledger.approve(funded.session, funded.alpha.approver, tx.id)
    _set_status(funded, funded.beta.account, AccountStatus.CLOSED)
    funded.pass_time(26)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert reload(funded, tx.id).status is TransactionStatus.CANCELLED
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_closed_account_cannot_be_reopened(funded, assert_ledger_sound):
    _set_status(funded, funded.beta.account, AccountStatus.CLOSED)

    with pytest.raises(InvalidStatusTransition):
        _set_status(funded, funded.beta.account, AccountStatus.OPEN)

    assert _status(funded, funded.beta.account) is AccountStatus.CLOSED
    assert_ledger_sound()


def test_government_account_cannot_be_closed(world, assert_ledger_sound):
    with pytest.raises(RuleViolation):
        _set_status(world, RESERVE, AccountStatus.CLOSED)

    assert _status(world, RESERVE) is AccountStatus.OPEN
    assert_ledger_sound()


# --- per-transfer limit -------------------------------------------------------------------


def test_transfer_over_the_per_transfer_limit_is_refused(funded, assert_ledger_sound):
    set_transfer_limit(funded.session, funded.alpha.approver, funded.alpha.account, limit=300)
    before = snapshot(funded)

    with pytest.raises(RuleViolation) as refused:
        funded.transfer(funded.alpha, funded.beta.account, 301)

    assert [e.pointer for e in refused.value.errors] == ["#/quantity"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_transfer_of_exactly_the_limit_is_accepted(funded, assert_ledger_sound):
    set_transfer_limit(funded.session, funded.alpha.approver, funded.alpha.account, limit=300)

    tx = funded.transfer(funded.alpha, funded.beta.account, 300)

    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 300)
    assert_ledger_sound()


def test_removing_the_limit_allows_larger_transfers_again(funded, assert_ledger_sound):
    set_transfer_limit(funded.session, funded.alpha.approver, funded.alpha.account, limit=300)
    set_transfer_limit(funded.session, funded.regulator_a, funded.alpha.account, limit=None)

    funded.transfer(funded.alpha, funded.beta.account, 800)

    assert funded.holding(funded.alpha.account) == (1000, 800)
    assert_ledger_sound()


def test_colleague_without_the_approver_capability_cannot_set_the_limit(
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

    with pytest.raises(FourEyesViolation):
        set_transfer_limit(funded.session, clerk, funded.alpha.account, limit=1)

    funded.transfer(funded.alpha, funded.beta.account, 800)  # still no limit
    assert funded.holding(funded.alpha.account) == (1000, 800)
    assert_ledger_sound()
