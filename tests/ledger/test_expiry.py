"""Pending transactions nobody approved lapse after ``LEDGER_PENDING_TTL_HOURS`` (72)."""

from __future__ import annotations

import pytest

from carbon_market.kernel.errors import Conflict
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionStatus
from tests.ledger.conftest import ISSUANCE, RESERVE
from tests.ledger.helpers import reload


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def test_pending_transfer_expires_after_72_hours_and_its_reservation_is_released(
    funded, assert_ledger_sound
):
    # alpha reserves 250 of 1,000; nobody approves within 72 h: back to (1,000, 0).
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(72)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 1}

    expired = reload(funded, tx.id)
    assert expired.status is TransactionStatus.EXPIRED
    assert expired.decided_at == funded.clock.now()
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_pending_transfer_has_not_expired_a_minute_before_72_hours(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(72 - 1 / 60)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 0}
    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_expired_transfer_can_no_longer_be_approved(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(72)
    ledger.run_due(funded.session, funded.regulator_a)

    with pytest.raises(Conflict):
        ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_released_units_of_an_expired_transfer_can_be_spent_again(funded, assert_ledger_sound):
    # 900 reserved and lapsed; the full 1,000 is available again.
    funded.transfer(funded.alpha, funded.beta.account, 900)
    funded.pass_time(72)
    ledger.run_due(funded.session, funded.regulator_a)

    funded.transfer(funded.alpha, funded.beta.account, 1000)

    assert funded.holding(funded.alpha.account) == (1000, 1000)
    assert_ledger_sound()


def test_approved_transfer_waiting_out_the_delay_does_not_expire(funded, assert_ledger_sound):
    # Approved at once, so the 72 h pending limit no longer applies; after 80 h run_due
    # completes it (the 26 h delay is long over) instead of expiring it.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    ledger.approve(funded.session, funded.alpha.approver, tx.id)
    funded.pass_time(80)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 1, "expired": 0}
    assert reload(funded, tx.id).status is TransactionStatus.COMPLETED
    assert funded.holding(funded.alpha.account) == (750, 0)
    assert funded.holding(funded.beta.account) == (250, 0)
    assert_ledger_sound()


def test_pending_issuance_expires_without_creating_units(world, assert_ledger_sound):
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )
    world.pass_time(72)

    assert ledger.run_due(world.session, world.regulator_a) == {"released": 0, "expired": 1}
    assert reload(world, tx.id).status is TransactionStatus.EXPIRED
    assert world.holding(ISSUANCE) == (0, 0)
    assert world.holding(RESERVE) == (0, 0)
    assert_ledger_sound()


def test_run_due_expires_and_releases_in_one_pass(funded, assert_ledger_sound):
    # t=0: A (100) approved → delayed until t=26; t=0: B (200) left pending → lapses at t=72.
    # At t=72 one run completes A and expires B: alpha 1,000 − 100 = 900, nothing reserved.
    a = funded.transfer(funded.alpha, funded.beta.account, 100)
    ledger.approve(funded.session, funded.alpha.approver, a.id)
    b = funded.transfer(funded.alpha, funded.beta.account, 200)
    funded.pass_time(72)

    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 1, "expired": 1}
    assert reload(funded, a.id).status is TransactionStatus.COMPLETED
    assert reload(funded, b.id).status is TransactionStatus.EXPIRED
    assert funded.holding(funded.alpha.account) == (900, 0)
    assert funded.holding(funded.beta.account) == (100, 0)
    assert_ledger_sound()


def test_transfer_past_its_expiry_cannot_be_approved_even_before_run_due(
    funded, assert_ledger_sound
):
    # Expiry is a deadline, not whenever the job next runs: 72 h after the request the
    # approval is refused, and run-due then expires the transfer and releases its units.
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(72)

    with pytest.raises(Conflict):
        ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert ledger.run_due(funded.session, funded.regulator_a) == {"released": 0, "expired": 1}
    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert funded.holding(funded.beta.account) == (0, 0)
    assert_ledger_sound()


def test_transfer_a_minute_before_its_expiry_can_still_be_approved(funded, assert_ledger_sound):
    tx = funded.transfer(funded.alpha, funded.beta.account, 250)
    funded.pass_time(72 - 1 / 60)

    ledger.approve(funded.session, funded.alpha.approver, tx.id)

    assert reload(funded, tx.id).status is TransactionStatus.DELAYED
    assert_ledger_sound()
