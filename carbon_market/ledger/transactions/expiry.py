"""Expiry of units whose validity ended: a cancellation to the retirement account.

A unit kind may carry ``validity_years`` in the unit catalogue: units of vintage V stay
valid through 31 December of year V + validity_years - 1 and expire on 1 January of year
V + validity_years (calendar days in the deadline time zone). No shipped kind expires; a
regulator sets the number for a kind whose rules say so (docs/scheduler.md).

Expiry moves the *available* units (held minus reserved) of every expired holding outside
the issuance and retirement accounts to the retirement account, as one completed
``cancellation`` transaction per holding, posted by the system. Units reserved for a pending
transfer stay until that transfer completes or lapses; the next run takes what is left.
Running it twice for the same day moves nothing the second time: nothing expired is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import PermissionDenied
from carbon_market.ledger.accounts.service import government_account
from carbon_market.ledger.enums import AccountKind, TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, Holding, UnitKind
from carbon_market.ledger.posting import engine


@dataclass(frozen=True)
class Expired:
    """One holding's expired units, moved by one transaction."""

    transaction_id: int
    account_number: str
    enterprise_id: int | None
    unit_kind: str
    vintage: int
    quantity: int


def last_valid_vintage(unit_validity_years: int, day: date) -> int:
    """The oldest vintage still valid on ``day``: V is valid while V + years > day.year.

    E.g. 3 years on 2026-01-01: 2024 + 3 = 2027 > 2026, valid; 2023 + 3 = 2026, expired.
    """
    return day.year - unit_validity_years + 1


def _expired_holdings(session: Session, day: date) -> list[tuple[Holding, Account]]:
    rows: list[tuple[Holding, Account]] = []
    kinds = session.execute(
        select(UnitKind.code, UnitKind.validity_years).where(UnitKind.validity_years.is_not(None))
    ).all()
    for code, years in kinds:
        if years is None or years <= 0:
            continue
        found = session.execute(
            select(Holding, Account)
            .join(Account, Account.id == Holding.account_id)
            .where(
                Holding.unit_kind == code,
                Holding.vintage < last_valid_vintage(years, day),
                Holding.quantity - Holding.reserved > 0,
                Account.kind.not_in([AccountKind.GOVERNMENT_ISSUANCE, AccountKind.RETIREMENT]),
            )
            .order_by(Holding.account_id, Holding.unit_kind, Holding.vintage)
            .with_for_update(of=Holding)
        ).all()
        rows += [(h, a) for h, a in found]
    return rows


@transactional
def expire_units(session: Session, actor: Actor, *, day: date) -> list[Expired]:
    """Cancel every unit whose validity ended by ``day`` (the system actor only: the
    ``unit_expiry`` job). Returns what moved, one entry per holding."""
    if not actor.is_system:
        raise PermissionDenied("units expire by the scheduled job only")
    retirement = government_account(session, AccountKind.RETIREMENT)
    destination = engine.Leg(retirement.id, retirement.number)
    initiator = engine.Initiator(actor.name, actor.user_id, None, actor.request_id)
    at = clock_of(session).now()
    moved = []
    for holding, account in _expired_holdings(session, day):
        quantity = holding.quantity - holding.reserved
        memo = f"expired: {holding.unit_kind} vintage {holding.vintage} (unit_expiry {day})"
        movement = engine.Movement(
            engine.Leg(account.id, account.number),
            destination,
            holding.unit_kind,
            holding.vintage,
            quantity,
        )
        after = {
            "kind": TransactionKind.CANCELLATION.value,
            "status": TransactionStatus.COMPLETED.value,
            "from_account": account.number,
            "to_account": retirement.number,
            "unit_kind": holding.unit_kind,
            "vintage": holding.vintage,
            "quantity": quantity,
            "memo": memo,
        }
        posted = engine.post_new(
            session,
            kind=TransactionKind.CANCELLATION,
            movement=movement,
            at=at,
            initiator=initiator,
            memo=memo,
            audit_after=after,
        )
        moved.append(
            Expired(
                posted.id,
                account.number,
                account.enterprise_id,
                holding.unit_kind,
                holding.vintage,
                quantity,
            )
        )
    # The engine wrote with plain statements: the loaded holdings are stale now.
    session.expire_all()
    return moved
