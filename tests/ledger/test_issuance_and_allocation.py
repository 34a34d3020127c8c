"""Issuance (two regulators) and allocation from the government reserve."""

from __future__ import annotations

import pytest

from carbon_market.kernel.errors import Conflict, FourEyesViolation, NotFound, PermissionDenied
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.models import LedgerTransaction
from tests.ledger.conftest import ISSUANCE, RESERVE
from tests.ledger.helpers import count, reload, snapshot


def test_issuance_approved_by_a_second_regulator_debits_issuance_and_credits_reserve(
    world, assert_ledger_sound
):
    # 1,000 issued: issuance −1,000, reserve +1,000; sum 0.
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )
    done = ledger.approve(world.session, world.regulator_b, tx.id)

    assert done.kind is TransactionKind.ISSUANCE
    assert done.status is TransactionStatus.COMPLETED
    assert done.decided_by == world.regulator_b.name
    assert world.holding(ISSUANCE) == (-1000, 0)
    assert world.holding(RESERVE) == (1000, 0)
    assert_ledger_sound()


def test_pending_issuance_creates_no_units_until_approved(world, assert_ledger_sound):
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )

    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(ISSUANCE) == (0, 0)
    assert world.holding(RESERVE) == (0, 0)
    assert_ledger_sound()


def test_regulator_cannot_approve_their_own_issuance(world, assert_ledger_sound):
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )

    with pytest.raises(FourEyesViolation):
        ledger.approve(world.session, world.regulator_a, tx.id)

    assert reload(world, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(RESERVE) == (0, 0)
    assert_ledger_sound()


def test_approving_an_issuance_twice_is_a_conflict_and_issues_only_once(world, assert_ledger_sound):
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )
    ledger.approve(world.session, world.regulator_b, tx.id)

    with pytest.raises(Conflict):
        ledger.approve(world.session, world.regulator_b, tx.id)

    # Still 1,000 in the reserve, not 2,000.
    assert world.holding(RESERVE) == (1000, 0)
    assert world.holding(ISSUANCE) == (-1000, 0)
    assert_ledger_sound()


def test_enterprise_user_cannot_request_an_issuance(world, assert_ledger_sound):
    with pytest.raises(PermissionDenied):
        ledger.issue(
            world.session, world.alpha.initiator, unit_kind="allowance", vintage=2025, quantity=1000
        )

    assert count(world.session, LedgerTransaction) == 0
    assert_ledger_sound()


def test_enterprise_user_cannot_approve_an_issuance_and_is_told_it_does_not_exist(
    world, assert_ledger_sound
):
    # An issuance leaves the government's issuance account, which no enterprise user may see.
    tx = ledger.issue(
        world.session, world.regulator_a, unit_kind="allowance", vintage=2025, quantity=1000
    )

    with pytest.raises(NotFound):
        ledger.approve(world.session, world.alpha.approver, tx.id)

    assert reload(world, tx.id).status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(RESERVE) == (0, 0)
    assert_ledger_sound()


def test_issuances_of_different_kinds_and_vintages_are_held_apart(world, assert_ledger_sound):
    # 1,000 allowances of 2025 and 300 CCERs of 2024: two holdings in each account.
    world.issue(1000)
    world.issue(300, unit_kind="ccer", vintage=2024)

    assert world.holding(RESERVE) == (1000, 0)
    assert world.holding(RESERVE, "ccer", 2024) == (300, 0)
    assert world.holding(RESERVE, "allowance", 2024) == (0, 0)
    assert world.holding(ISSUANCE, "ccer", 2024) == (-300, 0)
    assert_ledger_sound()


def test_allocation_from_reserve_to_compliance_account_is_recorded_as_allocation(
    world, assert_ledger_sound
):
    # 1,000 issued, 600 allocated to alpha: alpha 600, reserve 400, issuance −1,000; sum 0.
    world.issue(1000)
    done = world.allocate(world.alpha, 600)

    assert done.kind is TransactionKind.ALLOCATION
    assert world.holding(world.alpha.account) == (600, 0)
    assert world.holding(RESERVE) == (400, 0)
    assert world.holding(ISSUANCE) == (-1000, 0)
    assert_ledger_sound()


def test_allocation_completes_at_approval_and_is_never_delayed(world, assert_ledger_sound):
    # The untrusted-account delay (26 h by default) does not apply between a government
    # account and a compliance account: the allocation completes at the approval instant.
    world.issue(1000)
    tx = ledger.request_transfer(
        world.session,
        world.regulator_a,
        from_account=RESERVE,
        to_account=world.alpha.account,
        unit_kind="allowance",
        vintage=2025,
        quantity=600,
    )
    world.pass_time(2)
    done = ledger.approve(world.session, world.regulator_b, tx.id)

    assert done.status is TransactionStatus.COMPLETED
    assert done.execute_after is None
    assert done.completed_at == world.clock.now()
    assert_ledger_sound()


def test_allocation_request_reserves_the_units_in_the_reserve(world, assert_ledger_sound):
    # 1,000 in the reserve, 600 requested: (1,000, 600 reserved) until approved.
    world.issue(1000)
    tx = ledger.request_transfer(
        world.session,
        world.regulator_a,
        from_account=RESERVE,
        to_account=world.alpha.account,
        unit_kind="allowance",
        vintage=2025,
        quantity=600,
    )

    assert tx.kind is TransactionKind.ALLOCATION
    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(RESERVE) == (1000, 600)
    assert world.holding(world.alpha.account) == (0, 0)
    assert_ledger_sound()


def test_regulator_cannot_approve_their_own_allocation(world, assert_ledger_sound):
    world.issue(1000)
    tx = ledger.request_transfer(
        world.session,
        world.regulator_a,
        from_account=RESERVE,
        to_account=world.alpha.account,
        unit_kind="allowance",
        vintage=2025,
        quantity=600,
    )

    with pytest.raises(FourEyesViolation):
        ledger.approve(world.session, world.regulator_a, tx.id)

    assert world.holding(RESERVE) == (1000, 600)
    assert world.holding(world.alpha.account) == (0, 0)
    assert_ledger_sound()


def test_receiving_enterprise_cannot_approve_an_allocation(world, assert_ledger_sound):
    # The allocation leaves a government account: a regulator decides. To the recipient a
    # transaction out of someone else's account is not theirs to see, let alone decide.
    world.issue(1000)
    tx = ledger.request_transfer(
        world.session,
        world.regulator_a,
        from_account=RESERVE,
        to_account=world.alpha.account,
        unit_kind="allowance",
        vintage=2025,
        quantity=600,
    )
    before = snapshot(world)

    with pytest.raises(NotFound):
        ledger.approve(world.session, world.alpha.approver, tx.id)

    assert snapshot(world) == before
    assert_ledger_sound()


def test_regulator_cannot_move_units_out_of_an_enterprise_account(world, assert_ledger_sound):
    world.fund(world.alpha, 1000)
    before = snapshot(world)

    with pytest.raises(PermissionDenied):
        ledger.request_transfer(
            world.session,
            world.regulator_a,
            from_account=world.alpha.account,
            to_account=RESERVE,
            unit_kind="allowance",
            vintage=2025,
            quantity=100,
        )

    assert snapshot(world) == before
    assert_ledger_sound()
