"""Registry accounts: opening, finding by number, listing, lifecycle, holdings."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import chunks, clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    FourEyesViolation,
    InvalidStatusTransition,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.ledger.accounts.numbers import (
    is_valid_account_number,
    make_account_number,
    normalize_account_number,
)
from carbon_market.ledger.enums import KIND_CODES, AccountKind, AccountStatus
from carbon_market.ledger.models import Account, Holding, UnitKind
from carbon_market.ledger.rules import MAX_QUANTITY

#: The accounts a regulator moves units out of; other accounts are corrected by reversal.
REGULATOR_SOURCES = frozenset({AccountKind.GOVERNMENT_RESERVE, AccountKind.AUCTION})

#: Singleton government accounts made by the ledger migration, with fixed numbers.
GOVERNMENT_ACCOUNTS = {
    AccountKind.GOVERNMENT_ISSUANCE: "BJ01000000000105",
    AccountKind.GOVERNMENT_RESERVE: "BJ02000000000152",
    AccountKind.AUCTION: "BJ03000000000102",
    AccountKind.RETIREMENT: "BJ90000000000117",
}


def unused_numbers(session: Session, kind: AccountKind, count: int) -> list[str]:
    """``count`` distinct numbers for new accounts of ``kind``, none of them in use.

    Random serials rather than a counter: numbers cannot be enumerated, and no shared
    counter row serialises every registration. Candidates are checked a thousand at a time
    (a bulk import opens 100,000 accounts); the UNIQUE constraint backs up the check.
    """
    numbers: set[str] = set()
    kind_code = KIND_CODES[kind]
    while len(numbers) < count:
        wanted = count - len(numbers)
        candidates = {
            make_account_number(kind_code, secrets.randbelow(10**10)) for _ in range(wanted)
        } - numbers
        for chunk in chunks(sorted(candidates)):
            candidates -= set(
                session.scalars(select(Account.number).where(Account.number.in_(chunk)))
            )
        numbers |= candidates
    return sorted(numbers)


def open_account(
    session: Session,
    *,
    kind: AccountKind,
    enterprise_id: int | None = None,
    holder_name: str | None = None,
) -> Account:
    """Open an account inside the caller's unit of work (callers authorize)."""
    (number,) = unused_numbers(session, kind, 1)
    account = Account(
        number=number,
        kind=kind,
        enterprise_id=enterprise_id,
        holder_name=holder_name,
        status=AccountStatus.OPEN,
        opened_at=clock_of(session).now(),
    )
    session.add(account)
    return account


def open_compliance_accounts(session: Session, enterprise_ids: Sequence[int]) -> None:
    """Open the compliance account of every enterprise just registered, in the registration's
    unit of work (the registration authorized it: ``wiring.py``). Core executemany: a bulk
    import registers thousands at once."""
    numbers = unused_numbers(session, AccountKind.ENTERPRISE_COMPLIANCE, len(enterprise_ids))
    now = clock_of(session).now()
    for chunk in chunks(list(zip(enterprise_ids, numbers, strict=True))):
        session.execute(
            insert(Account),
            [
                {
                    "number": number,
                    "kind": AccountKind.ENTERPRISE_COMPLIANCE,
                    "enterprise_id": enterprise_id,
                    "status": AccountStatus.OPEN,
                    "opened_at": now,
                }
                for enterprise_id, number in chunk
            ],
        )


def compliance_account_of(
    session: Session, enterprise_id: int, *, for_update: bool = False
) -> Account | None:
    """The enterprise's compliance account (where its allocation goes and its surrenders come
    from); ``for_update`` locks it until the unit of work ends."""
    query = select(Account).where(
        Account.enterprise_id == enterprise_id,
        Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
    )
    return session.scalar(query.with_for_update() if for_update else query)


@transactional
def open_trading_account(session: Session, actor: Actor, *, holder_name: str) -> Account:
    """Open a trading account for a participant that is not a covered enterprise (an
    investor, a broker). Regulators only; compliance accounts open at registration."""
    authorize(actor, "account.manage")
    name = holder_name.strip()
    if not name:
        raise ValidationFailed(
            "a trading account needs its holder's name",
            errors=[FieldError("#/holder_name", "required")],
        )
    account = open_account(session, kind=AccountKind.TRADING, holder_name=name)
    session.flush()  # the audit record names the account by its number and id
    record(
        session,
        actor,
        action="account:open",
        entity_type="account",
        entity_id=account.number,
        after={"kind": account.kind, "holder_name": name},
    )
    return account


def list_unit_kinds(session: Session) -> list[UnitKind]:
    """The unit catalogue (public)."""
    return list(session.scalars(select(UnitKind).order_by(UnitKind.code)))


@transactional
def add_unit_kind(
    session: Session, actor: Actor, *, code: str, label_zh: str, label_en: str, is_offset: bool
) -> UnitKind:
    """Add a kind of unit to the catalogue (e.g. a new local offset programme). Regulators;
    an existing code is a Conflict."""
    authorize(actor, "catalogue.manage")
    if session.get(UnitKind, code) is not None:
        raise Conflict(
            f"unit kind {code!r} exists", errors=[FieldError("#/code", "already exists")]
        )
    unit_kind = UnitKind(
        code=code, label_zh=label_zh, label_en=label_en, is_offset=is_offset, is_active=True
    )
    session.add(unit_kind)
    record(
        session,
        actor,
        action="unit_kind:create",
        entity_type="unit_kind",
        entity_id=code,
        after={"label_zh": label_zh, "label_en": label_en, "is_offset": is_offset},
    )
    return unit_kind


def parse_account_number(raw: str, pointer: str) -> str:
    """Normalise a typed account number or refuse it: a wrong check digit is caught here."""
    number = normalize_account_number(raw)
    if not is_valid_account_number(number):
        raise ValidationFailed(
            f"{raw!r} is not a valid account number (check digits do not match)",
            errors=[FieldError(pointer, "not a valid account number", "account.check_digits")],
        )
    return number


def find_account(
    session: Session, number: str, *, pointer: str = "#/account", for_update: bool = False
) -> Account:
    """The account with this number (validated first); NotFound when none."""
    query = select(Account).where(Account.number == parse_account_number(number, pointer))
    if for_update:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is None:
        raise NotFound(f"no account {number}", errors=[FieldError(pointer, "no such account")])
    return account


@dataclass(frozen=True)
class AccountRef:
    """The columns of an account the transfer path needs, read without the ORM."""

    id: int
    number: str
    kind: AccountKind
    status: AccountStatus
    enterprise_id: int | None
    transfer_limit: int | None


def can_see(actor: Actor, account: Account | AccountRef) -> bool:
    """Enterprise users see their own enterprise's accounts; others with the right see all."""
    scope = tenant_scope(actor)
    return scope is None or account.enterprise_id == scope


def get_account(session: Session, actor: Actor, number: str) -> Account:
    """One account (NotFound for an account the actor may not see)."""
    authorize(actor, "account.read")
    account = find_account(session, number)
    if not can_see(actor, account):
        # The very answer find_account gives for a number that does not exist.
        raise NotFound(f"no account {number}", errors=[FieldError("#/account", "no such account")])
    return account


@dataclass(frozen=True)
class AccountFilter:
    kind: AccountKind | None = None
    owner: str | None = None
    status: AccountStatus | None = None


def list_accounts(
    session: Session, actor: Actor, *, filters: AccountFilter, page: PageRequest
) -> Page[Account]:
    """Accounts the actor may see. ``owner`` is an enterprise's credit code, or
    ``government`` for the government's own accounts."""
    authorize(actor, "account.read")
    query = select(Account)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(Account.enterprise_id == scope)
    if filters.kind:
        query = query.where(Account.kind == filters.kind)
    if filters.status:
        query = query.where(Account.status == filters.status)
    if filters.owner == "government":
        query = query.where(Account.kind.in_(list(GOVERNMENT_ACCOUNTS)))
    elif filters.owner:
        owner_id = select(Enterprise.id).where(Enterprise.credit_code == filters.owner.upper())
        query = query.where(Account.enterprise_id.in_(owner_id.scalar_subquery()))
    return paginate(session, query.order_by(Account.id), page)


def transfer_sources(session: Session, actor: Actor) -> list[Account]:
    """The open accounts ``actor`` may ask to move units out of: an enterprise user's own
    enterprise's, a regulator's reserve and auction accounts. A form's choices, not a
    permission: ``service.request_transfer`` still decides (initiator capability, limits,
    holdings)."""
    authorize(actor, "ledger.transfer")
    query = select(Account).where(Account.status == AccountStatus.OPEN)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(Account.enterprise_id == scope)
    elif not actor.is_system:
        query = query.where(Account.kind.in_(sorted(REGULATOR_SOURCES)))
    return list(session.scalars(query.order_by(Account.number)))


def list_holdings(session: Session, actor: Actor, number: str) -> list[Holding]:
    """The account's non-zero holdings by unit kind and vintage."""
    account = get_account(session, actor, number)
    return list(
        session.scalars(
            select(Holding)
            .where(Holding.account_id == account.id, Holding.quantity != 0)
            .order_by(Holding.unit_kind, Holding.vintage)
        )
    )


_ALLOWED = {
    AccountStatus.OPEN: {AccountStatus.BLOCKED, AccountStatus.CLOSED},
    AccountStatus.BLOCKED: {AccountStatus.OPEN, AccountStatus.CLOSED},
    AccountStatus.CLOSED: set(),
}


@transactional
def set_account_status(
    session: Session, actor: Actor, number: str, *, status: AccountStatus, reason: str = ""
) -> Account:
    """Block (nothing moves out), unblock or close (only when empty) an account. Regulators.

    Raises InvalidStatusTransition for a closed account and RuleViolation when closing an
    account that still holds or reserves units.
    """
    authorize(actor, "account.manage")
    account = find_account(session, number, for_update=True)
    if account.kind in GOVERNMENT_ACCOUNTS and status is AccountStatus.CLOSED:
        raise RuleViolation("the government's own accounts cannot be closed")
    if status not in _ALLOWED[account.status]:
        raise InvalidStatusTransition(f"an account that is {account.status} cannot be {status}")
    if status is AccountStatus.CLOSED:
        left = session.scalar(
            select(func.count())
            .select_from(Holding)
            .where(
                Holding.account_id == account.id, (Holding.quantity != 0) | (Holding.reserved != 0)
            )
        )
        if left:
            raise RuleViolation(f"account {number} still holds units; it closes only when empty")
        account.closed_at = clock_of(session).now()
    before = {"status": account.status}
    account.status = status
    record(
        session,
        actor,
        action=f"account:{status}",
        entity_type="account",
        entity_id=account.number,
        before=before,
        after={"status": status, "reason": reason},
    )
    return account


@transactional
def set_transfer_limit(
    session: Session, actor: Actor, number: str, *, limit: int | None
) -> Account:
    """Set the largest quantity one transfer out of the account may move (None: no limit).

    Regulators, and the owning enterprise's users with the approver capability.
    """
    authorize(actor, "account.set_limit")
    account = find_account(session, number, for_update=True)
    if not can_see(actor, account):
        # The very answer find_account gives for a number that does not exist.
        raise NotFound(f"no account {number}", errors=[FieldError("#/account", "no such account")])
    if actor.role is Role.ENTERPRISE and not actor.can_approve:
        raise FourEyesViolation("only a user with the approver capability may set the limit")
    if limit is not None and not 0 < limit <= MAX_QUANTITY:
        raise ValidationFailed(
            f"the limit is a positive number of units, at most {MAX_QUANTITY}",
            errors=[FieldError("#/transfer_limit", f"must be from 1 to {MAX_QUANTITY}")],
        )
    before = {"transfer_limit": account.transfer_limit}
    account.transfer_limit = limit
    record(
        session,
        actor,
        action="account:set_limit",
        entity_type="account",
        entity_id=account.number,
        before=before,
        after={"transfer_limit": limit},
    )
    return account


def government_account(session: Session, kind: AccountKind) -> Account:
    account = session.scalar(select(Account).where(Account.number == GOVERNMENT_ACCOUNTS[kind]))
    if account is None:  # pragma: no cover  (the migration creates them)
        raise NotFound(f"the {kind} account does not exist; run the migrations")
    return account
