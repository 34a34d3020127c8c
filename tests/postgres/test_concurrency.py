"""Races that only a real multi-connection database can show (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.emitters import service as emitters
from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import Conflict, InvalidStatusTransition
from carbon_market.ledger.models import Account
from tests.factories import credit_code, make_enterprise

pytestmark = pytest.mark.postgres
WORKERS = 8


def _race(app: Flask, work: Callable[[Session], None]) -> Counter[str]:
    """Run ``work(session)`` in WORKERS threads at once, each with its own session."""
    factory = app.extensions["carbon_market.session_factory"]
    barrier = threading.Barrier(WORKERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run() -> None:
        with factory() as session:
            barrier.wait()
            try:
                work(session)
                outcome = "ok"
            except Exception as exc:
                outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_registrations_of_one_credit_code_register_it_once(app, session):
    code = credit_code()
    actor = Actor.system(name="system:race")

    def register(s):
        emitters.register_enterprise(
            s, actor, credit_code=code, name="竞争企业", sector="power", district="haidian"
        )

    outcomes = _race(app, register)

    assert outcomes == Counter({"ok": 1, Conflict.__name__: WORKERS - 1})
    assert session.scalar(select(func.count()).where(Enterprise.credit_code == code)) == 1
    enterprise_ids = select(Enterprise.id).where(Enterprise.credit_code == code)
    assert (
        session.scalar(
            select(func.count()).where(Account.enterprise_id.in_(enterprise_ids.scalar_subquery()))
        )
        == 1
    )


def test_concurrent_status_changes_apply_exactly_one_transition(app, session):
    # Eight regulators try to suspend the same active enterprise at once: the row lock in
    # change_status serialises them, so one succeeds and the others see it already suspended.
    enterprise = make_enterprise(session)
    actor = Actor.system(name="system:race")
    emitters.change_status(
        session,
        actor,
        enterprise.id,
        status=EnterpriseStatus.ACTIVE,
        effective_from=enterprise.status_effective_from,
    )

    def suspend(s):
        emitters.change_status(
            s,
            actor,
            enterprise.id,
            status=EnterpriseStatus.SUSPENDED,
            effective_from=enterprise.status_effective_from,
        )

    outcomes = _race(app, suspend)

    assert outcomes == Counter({"ok": 1, InvalidStatusTransition.__name__: WORKERS - 1})
    history = emitters.list_status_history(session, actor, enterprise.id)
    assert [h.to_status for h in history] == [
        EnterpriseStatus.REGISTERED,
        EnterpriseStatus.ACTIVE,
        EnterpriseStatus.SUSPENDED,
    ]
