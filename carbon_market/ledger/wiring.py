"""The ledger's subscriptions to the features below it (``carbon_market.kernel.events``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carbon_market.emitters.events import EnterprisesRegistered
from carbon_market.kernel.events import subscribe
from carbon_market.ledger.accounts.service import open_compliance_accounts


def _open_accounts(session: Session, event: EnterprisesRegistered) -> None:
    open_compliance_accounts(session, event.enterprise_ids)


def wire() -> None:
    """Every registered enterprise gets its compliance account in the registration's unit of
    work."""
    subscribe(EnterprisesRegistered, _open_accounts)
