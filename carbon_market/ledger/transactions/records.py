"""What every step of the workflow shares: a transaction's legs for the engine, its audit
record, and the lock that makes decisions and reversals of one transaction queue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.errors import NotFound
from carbon_market.ledger.accounts.service import AccountRef
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account, LedgerTransaction
from carbon_market.ledger.posting import engine

#: The transfer path reads accounts as plain rows; the decision paths load ORM objects.
AnyAccount = Account | AccountRef


TX_FIELDS = [
    "kind",
    "status",
    "from_account_id",
    "to_account_id",
    "unit_kind",
    "vintage",
    "quantity",
    "memo",
]


def leg(account: AnyAccount) -> engine.Leg:
    return engine.Leg(
        account.id, account.number, is_issuance=account.kind is AccountKind.GOVERNMENT_ISSUANCE
    )


def movement(tx: LedgerTransaction, source: AnyAccount, destination: AnyAccount) -> engine.Movement:
    return engine.Movement(leg(source), leg(destination), tx.unit_kind, tx.vintage, tx.quantity)


def audit(
    session: Session,
    actor: Actor,
    tx: LedgerTransaction,
    action: str,
    before: dict[str, object] | None = None,
) -> None:
    record(
        session,
        actor,
        action=f"transaction:{action}",
        entity_type="ledger_transaction",
        entity_id=tx.id,
        before=before,
        after={**{f: getattr(tx, f) for f in TX_FIELDS}, "status": tx.status},
    )


def locked_transaction(session: Session, tx_id: int) -> LedgerTransaction:
    """The transaction, locked until the unit of work ends and read fresh: decisions and
    reversals of one transaction queue on it, and each sees what the one before did.

    populate_existing: sessions keep their objects across commits, so without it a
    transaction this session loaded earlier keeps the status it had then, and a transfer
    another session rejected or expired meanwhile could still be posted."""
    tx = session.scalar(
        select(LedgerTransaction)
        .where(LedgerTransaction.id == tx_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if tx is None:
        raise NotFound(f"transaction {tx_id} does not exist")
    return tx
