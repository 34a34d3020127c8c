"""``LEDGER_UNTRUSTED_DELAY_HOURS=0`` turns the untrusted-account delay off; four eyes stay.

The ``config`` fixture is overridden for this module, so the app, its session factory and
the ``world`` all run with a zero delay.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from carbon_market.kernel.config import Config
from carbon_market.kernel.db import config_of
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionStatus


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, ledger_untrusted_delay_hours=0)


def test_session_carries_the_zero_delay_setting(session):
    assert config_of(session).ledger_untrusted_delay_hours == 0


def test_transfer_to_untrusted_account_completes_at_approval_when_delay_is_zero(
    world, assert_ledger_sound
):
    # 1,000 allocated to alpha; alpha sends 250 to beta (not trusted): alpha 750, beta 250,
    # reserve 0, issuance −1,000; sum 0, at the approval instant.
    world.fund(world.alpha, 1000)
    tx = world.transfer(world.alpha, world.beta.account, 250)

    done = ledger.approve(world.session, world.alpha.approver, tx.id)

    assert done.status is TransactionStatus.COMPLETED
    assert done.execute_after is None
    assert done.completed_at == world.clock.now()
    assert world.holding(world.alpha.account) == (750, 0)
    assert world.holding(world.beta.account) == (250, 0)
    assert_ledger_sound()


def test_zero_delay_does_not_skip_the_second_pair_of_eyes(world, assert_ledger_sound):
    world.fund(world.alpha, 1000)

    tx = world.transfer(world.alpha, world.beta.account, 250)

    assert tx.status is TransactionStatus.PENDING_APPROVAL
    assert world.holding(world.alpha.account) == (1000, 250)
    assert world.holding(world.beta.account) == (0, 0)
    assert_ledger_sound()
