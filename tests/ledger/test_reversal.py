"""Reversal: a new transaction that undoes a completed one (nothing is edited or deleted),
requested by one regulator and approved by another.

Worked example: 1,000 allocated to alpha, alpha sends 250 to beta (alpha 750, beta 250).
The reversal moves 250 from beta back to alpha: alpha 1,000, beta 0; sum still 0.
"""

from __future__ import annotations

import pytest

from carbon_market.kernel.errors import (
    AccountNotUsable,
    Conflict,
    FourEyesViolation,
    InsufficientHolding,
    NotFound,
    PermissionDenied,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import set_account_status
from carbon_market.ledger.enums import AccountStatus, TransactionKind, TransactionStatus
from tests.ledger.conftest import ISSUANCE, RESERVE, RETIREMENT
from tests.ledger.helpers import complete_transfer, reload, snapshot


@pytest.fixture
def transferred(world):
    world.fund(world.alpha, 1000)
    world.original = complete_transfer(world, world.alpha, world.beta.account, 250)
    assert world.holding(world.alpha.account) == (750, 0)
    assert world.holding(world.beta.account) == (250, 0)
    return world


def _finish(world, reversal_id):
    """Approve by the second regulator and let any delay run out: the reversal completes."""
    ledger.approve(world.session, world.regulator_b, reversal_id)
    world.pass_time(26)
    ledger.run_due(world.session, world.regulator_a)
    return reload(world, reversal_id)


def test_reversal_request_reserves_the_units_at_the_original_destination(
    transferred, assert_ledger_sound
):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    assert reversal.kind is TransactionKind.REVERSAL
    assert reversal.status is TransactionStatus.PENDING_APPROVAL
    assert reversal.reverses_id == world.original.id
    assert (reversal.from_account_id, reversal.to_account_id) == (
        world.original.to_account_id,
        world.original.from_account_id,
    )
    assert reversal.quantity == 250
    # beta holds 250, all reserved for the reversal; alpha unchanged so far.
    assert world.holding(world.beta.account) == (250, 250)
    assert world.holding(world.alpha.account) == (750, 0)
    assert_ledger_sound()


def test_reversal_approved_by_a_second_regulator_restores_both_holdings(
    transferred, assert_ledger_sound
):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    done = _finish(world, reversal.id)

    assert done.status is TransactionStatus.COMPLETED
    assert done.decided_by == world.regulator_b.name
    # alpha 750 + 250 = 1,000; beta 250 − 250 = 0.
    assert world.holding(world.alpha.account) == (1000, 0)
    assert world.holding(world.beta.account) == (0, 0)
    # The original is left as it was: completed, not edited.
    assert reload(world, world.original.id).status is TransactionStatus.COMPLETED
    assert_ledger_sound()


def test_reversal_of_an_allocation_completes_at_approval_and_refills_the_reserve(
    world, assert_ledger_sound
):
    # 1,000 issued, 600 allocated (alpha 600, reserve 400); reversed: alpha 0, reserve 1,000.
    world.issue(1000)
    allocation = world.allocate(world.alpha, 600)
    reversal = ledger.reverse(world.session, world.regulator_a, allocation.id)

    done = ledger.approve(world.session, world.regulator_b, reversal.id)

    assert done.status is TransactionStatus.COMPLETED
    assert world.holding(world.alpha.account) == (0, 0)
    assert world.holding(RESERVE) == (1000, 0)
    assert world.holding(ISSUANCE) == (-1000, 0)
    assert_ledger_sound()


def test_second_reversal_of_the_same_transaction_is_a_conflict(transferred, assert_ledger_sound):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)
    _finish(world, reversal.id)
    before = snapshot(world)

    with pytest.raises(Conflict):
        ledger.reverse(world.session, world.regulator_b, world.original.id)

    assert snapshot(world) == before
    assert_ledger_sound()


def test_second_reversal_while_the_first_is_still_pending_is_a_conflict(
    transferred, assert_ledger_sound
):
    world = transferred
    ledger.reverse(world.session, world.regulator_a, world.original.id)

    with pytest.raises(Conflict):
        ledger.reverse(world.session, world.regulator_b, world.original.id)

    # Reserved once, not twice.
    assert world.holding(world.beta.account) == (250, 250)
    assert_ledger_sound()


def test_regulator_cannot_approve_their_own_reversal(transferred, assert_ledger_sound):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    with pytest.raises(FourEyesViolation):
        ledger.approve(world.session, world.regulator_a, reversal.id)

    assert reload(world, reversal.id).status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(world.beta.account) == (250, 250)
    assert_ledger_sound()


@pytest.mark.parametrize(
    ("firm", "refusal"),
    [
        # beta's approver can see the reversal (it leaves beta's account) but may not decide it.
        ("beta", PermissionDenied),
        # alpha's approver is not even shown a transaction out of another enterprise's account.
        ("alpha", NotFound),
    ],
)
def test_enterprise_user_cannot_approve_a_reversal(transferred, assert_ledger_sound, firm, refusal):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    with pytest.raises(refusal):
        ledger.approve(world.session, getattr(world, firm).approver, reversal.id)

    assert reload(world, reversal.id).status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(world.alpha.account) == (750, 0)
    assert world.holding(world.beta.account) == (250, 250)
    assert_ledger_sound()


def test_enterprise_user_cannot_request_a_reversal(transferred, assert_ledger_sound):
    world = transferred
    before = snapshot(world)

    with pytest.raises(PermissionDenied):
        ledger.reverse(world.session, world.alpha.approver, world.original.id)

    assert snapshot(world) == before
    assert_ledger_sound()


def test_transaction_still_pending_cannot_be_reversed(world, assert_ledger_sound):
    world.fund(world.alpha, 1000)
    pending = world.transfer(world.alpha, world.beta.account, 250)

    with pytest.raises(Conflict):
        ledger.reverse(world.session, world.regulator_a, pending.id)

    assert world.holding(world.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_reversal_is_refused_when_the_destination_has_passed_the_units_on(
    transferred, assert_ledger_sound
):
    # beta received 250 and retired 200: only 50 left, so a reversal of 250 cannot be covered.
    world = transferred
    retire = world.transfer(world.beta, RETIREMENT, 200)
    ledger.approve(world.session, world.beta.approver, retire.id)
    before = snapshot(world)

    with pytest.raises(InsufficientHolding):
        ledger.reverse(world.session, world.regulator_a, world.original.id)

    assert snapshot(world) == before
    assert world.holding(world.beta.account) == (50, 0)
    assert_ledger_sound()


def test_reversal_may_take_units_out_of_a_blocked_account(transferred, assert_ledger_sound):
    # The EU-registry scenario: the receiving account is blocked, then the theft is reversed.
    world = transferred
    set_account_status(
        world.session, world.regulator_a, world.beta.account, status=AccountStatus.BLOCKED
    )
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    done = _finish(world, reversal.id)

    assert done.status is TransactionStatus.COMPLETED
    assert world.holding(world.alpha.account) == (1000, 0)
    assert world.holding(world.beta.account) == (0, 0)
    assert_ledger_sound()


def test_rejected_reversal_releases_the_units_it_reserved(transferred, assert_ledger_sound):
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    rejected = ledger.reject(world.session, world.regulator_b, reversal.id)

    assert rejected.status is TransactionStatus.REJECTED
    assert world.holding(world.beta.account) == (250, 0)
    assert world.holding(world.alpha.account) == (750, 0)
    assert_ledger_sound()


def test_transaction_can_be_reversed_after_an_earlier_reversal_was_rejected(
    transferred, assert_ledger_sound
):
    world = transferred
    first = ledger.reverse(world.session, world.regulator_a, world.original.id)
    ledger.reject(world.session, world.regulator_b, first.id)

    second = ledger.reverse(world.session, world.regulator_a, world.original.id)

    assert second.status is TransactionStatus.PENDING_APPROVAL
    assert_ledger_sound()


def test_an_open_reversal_blocks_a_second_one_and_the_database_refuses_it_too(
    transferred, assert_ledger_sound
):
    # The service refuses first; the partial unique index is the last line of defence.
    world = transferred
    ledger.reverse(world.session, world.regulator_a, world.original.id)

    with pytest.raises(Conflict, match="already been reversed"):
        ledger.reverse(world.session, world.regulator_a, world.original.id)
    assert_ledger_sound()


def test_an_approved_reversal_completes_at_once_without_the_untrusted_delay(
    transferred, assert_ledger_sound
):
    # Reversals are the regulators' own transactions: a second regulator has approved it,
    # so the delay that guards enterprises against stolen logins does not apply.
    world = transferred
    reversal = ledger.reverse(world.session, world.regulator_a, world.original.id)

    done = ledger.approve(world.session, world.regulator_b, reversal.id)

    assert done.status is TransactionStatus.COMPLETED
    assert_ledger_sound()


@pytest.mark.parametrize("by_system", [False, True], ids=["regulator", "system"])
def test_reversal_into_an_account_closed_since_is_refused_and_moves_nothing(
    transferred, assert_ledger_sound, system, by_system
):
    # alpha passes its last 750 on and is closed; the 250 it sent beta cannot come back to a
    # closed account: the system's reversal put them there at once, the regulators' kept
    # beta's 250 reserved for a reversal no approval could ever complete.
    world = transferred
    complete_transfer(world, world.alpha, world.beta.account, 750)
    set_account_status(
        world.session, world.regulator_a, world.alpha.account, status=AccountStatus.CLOSED
    )
    before = snapshot(world)

    with pytest.raises(AccountNotUsable):
        ledger.reverse(world.session, system if by_system else world.regulator_a, world.original.id)

    assert snapshot(world) == before
    assert world.holding(world.beta.account) == (1000, 0)
    assert_ledger_sound()
