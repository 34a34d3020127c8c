"""The ledger under concurrent load, on PostgreSQL: nothing lost, created or duplicated.

Eight workers make 2,080 random transfers among 50 accounts, through both paths that move
units (the system's immediate posting, and an enterprise's request + approval that reserves
first), with retried idempotency keys and deliberate double spends. Afterwards the holdings
must equal the starting balances plus exactly the accepted transfers, every accepted transfer
must have exactly its two postings, and ``ledger verify`` must be clean.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.config import Config
from carbon_market.kernel.errors import DomainError, InsufficientHolding
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, TransactionStatus
from carbon_market.ledger.models import Account, Holding, LedgerTransaction, Posting
from carbon_market.ledger.transactions.idempotency import run_idempotent
from carbon_market.ledger.verify import verify_ledger
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.postgres

WORKERS = 8
OPERATIONS_PER_WORKER = 260  # 2,080 in all
ACCOUNTS = 50
STARTING_BALANCE = 1_000
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]


@pytest.fixture
def config(config: Config) -> Config:
    # No untrusted-destination delay here: every approved transfer completes at approval,
    # so the final balances are decided by the run itself.
    return dataclasses.replace(config, ledger_untrusted_delay_hours=0)


@dataclasses.dataclass
class Firm:
    number: str
    initiator: Actor
    approver: Actor


def _setup(session: Session) -> list[Firm]:
    system = Actor.system(name="system:setup")
    ledger.issue(
        session, system, unit_kind="allowance", vintage=2025, quantity=ACCOUNTS * STARTING_BALANCE
    )
    firms = []
    for n in range(ACCOUNTS):
        enterprise = make_enterprise(session, name=f"并发企业{n}")
        initiator = make_user(
            session, role=Role.ENTERPRISE, name=f"i{n}", enterprise=enterprise, can_approve=False
        )
        approver = make_user(
            session, role=Role.ENTERPRISE, name=f"a{n}", enterprise=enterprise, can_initiate=False
        )
        number = enterprise.compliance_account.number
        ledger.request_transfer(
            session,
            system,
            from_account=RESERVE,
            to_account=number,
            unit_kind="allowance",
            vintage=2025,
            quantity=STARTING_BALANCE,
        )
        firms.append(Firm(number, actor_for(initiator), actor_for(approver)))
    return firms


@dataclasses.dataclass
class Outcomes:
    accepted: list[tuple[int, str, str, int]] = dataclasses.field(default_factory=list)
    refused: Counter[str] = dataclasses.field(default_factory=Counter)
    replays: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


def _transfer(
    session: Session, rng: random.Random, firms: list[Firm], worker: int, outcomes: Outcomes
) -> None:
    source, destination = rng.sample(firms, 2)
    quantity = rng.randint(1, 60)
    via_enterprise = rng.random() < 0.4
    actor = source.initiator if via_enterprise else Actor.system(name=f"system:w{worker}")
    payload = {
        "from_account": source.number,
        "to_account": destination.number,
        "unit_kind": "allowance",
        "vintage": 2025,
        "quantity": quantity,
    }
    key = str(uuid.uuid4())

    def work() -> LedgerTransaction:
        return ledger.request_transfer(session, actor, **payload)

    def send() -> tuple[dict[str, Any], bool]:
        return run_idempotent(
            session,
            actor,
            key=key,
            operation="transfer",
            payload=payload,
            work=work,
            render=lambda tx: {"id": tx.id},
        )

    try:
        response, _ = send()
        if via_enterprise:
            ledger.approve(session, source.approver, response["id"])
        if rng.random() < 0.15:  # a client retrying after a lost response
            again, replayed = send()
            assert replayed
            assert again == response
            with outcomes.lock:
                outcomes.replays += 1
    except DomainError as exc:
        with outcomes.lock:
            outcomes.refused[type(exc).__name__] += 1
        return
    with outcomes.lock:
        outcomes.accepted.append((response["id"], source.number, destination.number, quantity))


def _worker(
    app: Flask,
    firms: list[Firm],
    worker: int,
    outcomes: Outcomes,
    start: threading.Barrier,
    errors: list[BaseException],
) -> None:
    rng = random.Random(worker)
    try:
        with app.extensions["carbon_market.session_factory"]() as session:
            start.wait()
            for _ in range(OPERATIONS_PER_WORKER):
                _transfer(session, rng, firms, worker, outcomes)
    except BaseException as exc:
        errors.append(exc)


def _double_spend(
    app: Flask,
    firm: Firm,
    destinations: list[Firm],
    outcomes: Outcomes,
    errors: list[BaseException],
) -> None:
    """Two system workers try to send the same account's whole balance at the same time."""
    with app.extensions["carbon_market.session_factory"]() as session:
        available = session.scalar(
            select(Holding.quantity - Holding.reserved)
            .join(Account)
            .where(Account.number == firm.number, Holding.unit_kind == "allowance")
        )
    if not available:
        return
    start = threading.Barrier(2)

    def spend(destination: Firm, n: int) -> None:
        try:
            with app.extensions["carbon_market.session_factory"]() as session:
                start.wait()
                tx = ledger.request_transfer(
                    session,
                    Actor.system(name=f"system:spend{n}"),
                    from_account=firm.number,
                    to_account=destination.number,
                    unit_kind="allowance",
                    vintage=2025,
                    quantity=available,
                )
            with outcomes.lock:
                outcomes.accepted.append((tx.id, firm.number, destination.number, available))
        except InsufficientHolding:
            with outcomes.lock:
                outcomes.refused["double_spend"] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=spend, args=(d, n)) for n, d in enumerate(destinations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_concurrent_random_transfers_conserve_every_unit_and_post_each_accepted_once(
    app: Flask, session: Session
) -> None:
    firms = _setup(session)
    outcomes, errors = Outcomes(), []
    start = threading.Barrier(WORKERS)
    threads = [
        threading.Thread(target=_worker, args=(app, firms, w, outcomes, start, errors))
        for w in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    for n in range(10):
        _double_spend(app, firms[n], [firms[n + 10], firms[n + 20]], outcomes, errors)

    assert errors == []  # no 500-class failure: deadlocks and serialization errors retried
    assert outcomes.replays > 0
    assert outcomes.refused["double_spend"] >= 1  # both could not spend the same balance
    session.expire_all()

    # Expected balances = starting balances + exactly the accepted transfers.
    expected: dict[str, int] = defaultdict(int)
    for firm in firms:
        expected[firm.number] = STARTING_BALANCE
    for _tx, source, destination, quantity in outcomes.accepted:
        expected[source] -= quantity
        expected[destination] += quantity
    actual = dict(
        session.execute(
            select(Account.number, Holding.quantity)
            .join(Account)
            .where(Account.kind == AccountKind.ENTERPRISE_COMPLIANCE)
        ).all()
    )
    assert actual == dict(expected)
    assert min(actual.values()) >= 0
    assert sum(actual.values()) == ACCOUNTS * STARTING_BALANCE

    accepted_ids = [tx for tx, *_ in outcomes.accepted]
    assert len(accepted_ids) == len(set(accepted_ids))
    legs = dict(
        session.execute(
            select(Posting.transaction_id, func.count())
            .where(Posting.transaction_id.in_(accepted_ids))
            .group_by(Posting.transaction_id)
        ).all()
    )
    assert set(legs) == set(accepted_ids)
    assert set(legs.values()) == {2}
    # Setup made 1 issuance + 50 allocations; nothing else completed but what was accepted.
    completed = session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.status == TransactionStatus.COMPLETED)
    )
    assert completed == 1 + ACCOUNTS + len(accepted_ids)
    assert (
        len(outcomes.accepted) + sum(outcomes.refused.values()) >= WORKERS * OPERATIONS_PER_WORKER
    )
    assert verify_ledger(session) == []
