"""Opening registry accounts (the ledger issue adds postings and transfers)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.db import clock_of
from carbon_market.ledger.account_numbers import make_account_number
from carbon_market.ledger.models import KIND_CODES, Account, AccountKind, AccountStatus


def _unused_number(session: Session, kind: AccountKind) -> str:
    # Random serials rather than a counter: numbers cannot be enumerated, and no shared
    # counter row serialises every registration. The UNIQUE constraint backs up the check.
    while True:
        number = make_account_number(KIND_CODES[kind], secrets.randbelow(10**10))
        if session.scalar(select(Account.id).where(Account.number == number)) is None:
            return number


def open_account(
    session: Session, *, kind: AccountKind, enterprise_id: int | None = None
) -> Account:
    """Open an account inside the caller's unit of work (callers authorize)."""
    account = Account(
        number=_unused_number(session, kind),
        kind=kind,
        enterprise_id=enterprise_id,
        status=AccountStatus.OPEN,
        opened_at=clock_of(session).now(),
    )
    session.add(account)
    return account
