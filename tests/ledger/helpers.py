"""Small helpers shared by the ledger service tests (the fixtures are in ``conftest.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.enums import TransactionStatus
from carbon_market.ledger.models import LedgerTransaction, Posting
from tests.ledger.conftest import ISSUANCE, RESERVE, RETIREMENT, Firm, World


def count(session: Session, model: type[Any]) -> int:
    """Rows of one table, read fresh."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def snapshot(world: World, unit_kind: str = "allowance", vintage: int = 2025) -> dict[str, Any]:
    """Every holding the tests touch, and how many transactions and postings exist: a refused
    request must leave all of it as it was."""
    numbers = (world.alpha.account, world.beta.account, RESERVE, ISSUANCE, RETIREMENT)
    return {
        **{number: world.holding(number, unit_kind, vintage) for number in numbers},
        "transactions": count(world.session, LedgerTransaction),
        "postings": count(world.session, Posting),
    }


def reload(world: World, tx_id: int) -> LedgerTransaction:
    """The transaction as the database has it now."""
    world.session.expire_all()
    return world.session.get_one(LedgerTransaction, tx_id)


def complete_transfer(
    world: World, source: Firm, destination: str, quantity: int, **kwargs: Any
) -> LedgerTransaction:
    """Request, have the colleague approve, wait out the untrusted-account delay (26 h) and
    release: the transfer ends completed."""
    tx = world.transfer(source, destination, quantity, **kwargs)
    ledger.approve(world.session, source.approver, tx.id)
    world.pass_time(26)
    ledger.run_due(world.session, world.regulator_a)
    done = reload(world, tx.id)
    assert done.status is TransactionStatus.COMPLETED
    return done
