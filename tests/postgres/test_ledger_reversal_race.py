"""Two regulators reversing the same transaction at the same moment, on PostgreSQL.

Worked example: 500 allowances allocated to an enterprise; regulators A and B both ask to
reverse the allocation at once. Exactly one reversal is opened (500 reserved at the
enterprise); the other request is a 409 Conflict, never a unique-index violation (a 500).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import Conflict
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Holding, LedgerTransaction
from carbon_market.ledger.transactions import requests as ledger
from carbon_market.ledger.verify import verify_ledger
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.postgres

RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]


def _allocated(session: Any) -> tuple[int, str]:
    system = Actor.system(name="system:setup")
    ledger.issue(session, system, unit_kind="allowance", vintage=2025, quantity=500)
    number = make_enterprise(session, name="冲正并发企业").compliance_account.number
    tx = ledger.request_transfer(
        session, system, from_account=RESERVE, to_account=number,
        unit_kind="allowance", vintage=2025, quantity=500,
    )  # fmt: skip
    return tx.id, number


def test_two_simultaneous_reversals_open_one_and_refuse_the_other_with_409(
    app: Flask, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx_id, number = _allocated(session)
    regulators = [
        actor_for(make_user(session, role=Role.REGULATOR, name=f"reverser-{n}")) for n in (1, 2)
    ]
    # Hold each request just before it writes its reversal until the other arrives too (or
    # for two seconds, when the other is waiting on a lock): the narrowest race there is.
    barrier = threading.Barrier(2, timeout=2)
    real_new_pending: Callable[..., LedgerTransaction] = ledger._new_pending

    def new_pending_after_the_other(*args: Any, **kwargs: Any) -> LedgerTransaction:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_new_pending(*args, **kwargs)

    monkeypatch.setattr(ledger, "_new_pending", new_pending_after_the_other)
    factory = app.extensions["carbon_market.session_factory"]
    outcomes: list[object] = []

    def reverse(actor: Actor) -> None:
        with factory() as own:
            try:
                outcomes.append(ledger.reverse(own, actor, tx_id).status)
            except Exception as exc:  # the outcome, whatever it is, is what the test checks
                outcomes.append(exc)

    threads = [threading.Thread(target=reverse, args=(actor,)) for actor in regulators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    session.expire_all()
    reversals = session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == tx_id)
    ).all()
    assert len(reversals) == 1
    reserved = session.scalar(
        select(Holding.reserved).where(Holding.account_id == reversals[0].from_account_id)
    )
    assert (reversals[0].source.number, reserved) == (number, 500)
    assert verify_ledger(session) == []
