"""Decisions read the transaction as the database has it, not as the session remembers it.

Sessions keep their objects across commits (``expire_on_commit=False``), so a long-lived
session (a CLI command, a job, a test) that once loaded a transaction must still see what
another session decided meanwhile. Worked example: alpha holds 1,000 allowances and asks
twice to send 100 to beta (200 reserved); another session rejects the first request (100
reserved); the first session must not then approve the rejected request, which would post
it with the second request's reservation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from carbon_market.kernel.errors import Conflict
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionStatus
from tests.ledger.helpers import reload


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


@pytest.fixture
def other_session(app: Flask) -> Iterator[Session]:
    with app.extensions["carbon_market.session_factory"]() as session:
        yield session


def test_transfer_rejected_by_another_session_cannot_be_approved(
    funded, other_session, assert_ledger_sound
):
    first = funded.transfer(funded.alpha, funded.beta.account, 100)
    second = funded.transfer(funded.alpha, funded.beta.account, 100)
    ledger.reject(other_session, funded.alpha.approver, first.id)

    with pytest.raises(Conflict):
        ledger.approve(funded.session, funded.alpha.approver, first.id)

    assert reload(funded, first.id).status is TransactionStatus.REJECTED
    assert funded.holding(funded.alpha.account) == (1000, 100)
    ledger.approve(funded.session, funded.alpha.approver, second.id)
    assert reload(funded, second.id).status is TransactionStatus.DELAYED
    assert_ledger_sound()


def test_transfer_expired_by_another_session_cannot_be_cancelled_again(
    funded, other_session, assert_ledger_sound
):
    tx = funded.transfer(funded.alpha, funded.beta.account, 100)
    funded.transfer(funded.alpha, funded.beta.account, 100)
    funded.pass_time(72)
    assert ledger.run_due(other_session, funded.regulator_a)["expired"] == 2

    with pytest.raises(Conflict):
        ledger.cancel(funded.session, funded.alpha.initiator, tx.id)

    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert_ledger_sound()
