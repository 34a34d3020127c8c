"""Trusted-account lists: transfers to a trusted account are not delayed.

After the EU registry's 2010-11 thefts, each account keeps a list of accounts it trusts. An
addition takes effect only when a second user with the approver capability approves it, so a
stolen login cannot add the thief's account and skip the delay in one step.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, FourEyesViolation, NotFound
from carbon_market.ledger.accounts.service import can_see, find_account, get_account
from carbon_market.ledger.models import Account, TrustedAccount, TrustStatus


def _own_account(session: Session, actor: Actor, number: str) -> Account:
    account = find_account(session, number)
    if not can_see(actor, account):
        # The very answer find_account gives for a number that does not exist.
        raise NotFound(f"no account {number}", errors=[FieldError("#/account", "no such account")])
    return account


def list_trusted(session: Session, actor: Actor, number: str) -> list[TrustedAccount]:
    """The account's trusted list, pending and rejected entries included."""
    authorize(actor, "trust.read")
    account = get_account(session, actor, number)
    return list(
        session.scalars(
            select(TrustedAccount)
            .where(TrustedAccount.account_id == account.id)
            .order_by(TrustedAccount.id)
        )
    )


@transactional
def request_trust(
    session: Session, actor: Actor, number: str, *, trusted_number: str
) -> TrustedAccount:
    """Propose adding ``trusted_number`` to the account's trusted list (pending until a
    second approver approves). The account's own users, or regulators."""
    authorize(actor, "trust.request")
    account = _own_account(session, actor, number)
    trusted = find_account(session, trusted_number, pointer="#/account_number")
    if trusted.id == account.id:
        raise Conflict(
            "an account does not need to trust itself",
            errors=[FieldError("#/account_number", "same account")],
        )
    existing = session.scalar(
        select(TrustedAccount).where(
            TrustedAccount.account_id == account.id, TrustedAccount.trusted_account_id == trusted.id
        )
    )
    now = clock_of(session).now()
    if existing is not None and existing.status is not TrustStatus.REJECTED:
        raise Conflict(
            f"{trusted.number} is already {existing.status} on the list",
            errors=[FieldError("#/account_number", f"already {existing.status}")],
        )
    entry = existing or TrustedAccount(account_id=account.id, trusted_account_id=trusted.id)
    entry.status, entry.requested_by, entry.requester_user_id = (
        TrustStatus.PENDING,
        actor.name,
        actor.user_id,
    )
    entry.created_at, entry.decided_by, entry.decided_at = now, None, None
    session.add(entry)
    session.flush()  # the audit record names the entry by id
    record(
        session,
        actor,
        action="trust:request",
        entity_type="trusted_account",
        entity_id=entry.id,
        after={"account": account.number, "trusted": trusted.number},
    )
    return entry


@transactional
def decide_trust(
    session: Session, actor: Actor, number: str, entry_id: int, *, approve: bool
) -> TrustedAccount:
    """Approve or reject a pending addition: a second person with the approver capability,
    never the one who proposed it."""
    authorize(actor, "trust.decide")
    account = _own_account(session, actor, number)
    entry = session.scalar(
        select(TrustedAccount)
        .where(TrustedAccount.id == entry_id, TrustedAccount.account_id == account.id)
        .with_for_update()
    )
    if entry is None:
        raise NotFound(f"no trusted-list entry {entry_id} on account {number}")
    if entry.status is not TrustStatus.PENDING:
        raise Conflict(f"the entry is {entry.status}, not pending")
    if actor.user_id is not None and actor.user_id == entry.requester_user_id:
        raise FourEyesViolation("the user who proposed an entry cannot approve it")
    if actor.role is Role.ENTERPRISE and not actor.can_approve:
        raise FourEyesViolation("you do not have the approver capability")
    entry.status = TrustStatus.ACTIVE if approve else TrustStatus.REJECTED
    entry.decided_by, entry.decided_at = actor.name, clock_of(session).now()
    record(
        session,
        actor,
        action=f"trust:{'approve' if approve else 'reject'}",
        entity_type="trusted_account",
        entity_id=entry.id,
        after={"status": entry.status},
    )
    return entry
