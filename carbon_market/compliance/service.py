"""Compliance years, extensions, exemptions, the penalty multiple, and surrenders.

A year is opened from a shipped rulebook (``national``, ``beijing``) and stored as its JSON
document plus the three deadlines as dates (Asia/Shanghai); it may be edited until its
first deadline passes. A surrender is the ledger's own four-eyes transfer (kind
``surrender``, to the retirement account) checked first against the year's rules, with a
``compliance_surrender`` row saying which year it counts for.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.models import (
    ComplianceExemption,
    ComplianceExtension,
    ComplianceSurrender,
    ComplianceYear,
)
from carbon_market.compliance.rules.obligations import (
    ObligationInput,
    Surrendered,
    SurrenderRequest,
    obligation,
    offset_caps,
    surrender_problems,
)
from carbon_market.compliance.rules.rulebook import RULEBOOKS, parse_rulebook, shipped_document
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, TransactionKind
from carbon_market.ledger.models import Account
from carbon_market.ledger.rules import check_quantity_and_vintage

DEADLINES = ("reporting", "verification", "surrender")
#: How many years after the compliance year a deadline (or an extension) may fall. Generous:
#: the national market's first period (2019–2020) was due on 2021-12-31. Without a bound a
#: date such as 9999-12-31 was stored and then overflowed the sweep's date arithmetic (the
#: first instant after the deadline), failing every status of the year.
DEADLINE_HORIZON_YEARS = 5
#: Members of the rulebook document a regulator may replace when editing a year.
EDITABLE = ("banking", "surrenderable", "outside_kinds", "offsets", "penalty", "obligation_caps")
YEAR_FIELDS = [
    "year",
    "rulebook_name",
    "reporting_deadline",
    "verification_deadline",
    "surrender_deadline",
    "penalty_multiple",
    "document",
]


def latest_deadline(year: int) -> date:
    """The latest date a deadline or an extension of ``year`` may be set to."""
    return date(year + DEADLINE_HORIZON_YEARS, 12, 31)


def _check_deadlines(year: int, deadlines: dict[str, date]) -> None:
    errors = [
        FieldError(f"#/{which}_deadline", f"must fall after the end of {year}")
        for which in DEADLINES
        if deadlines[which] <= date(year, 12, 31)
    ]
    errors += [
        FieldError(f"#/{which}_deadline", f"must be on or before {latest_deadline(year)}")
        for which in DEADLINES
        if deadlines[which] > latest_deadline(year)
    ]
    reporting, verification, surrender = (deadlines[w] for w in DEADLINES)
    if not reporting <= verification <= surrender:
        errors.append(
            FieldError("#/surrender_deadline", "reporting ≤ verification ≤ surrender deadline")
        )
    if errors:
        raise ValidationFailed(f"{len(errors)} deadline(s) are invalid", errors=errors)


def _sync_document(document: dict[str, Any], deadlines: dict[str, date]) -> dict[str, Any]:
    """The document with its month-day deadlines matching the stored dates, so that the
    rulebook's arithmetic (the penalty price window) sees the deadlines the year has."""
    return {**document, "deadlines": {w: deadlines[w].strftime("%m-%d") for w in DEADLINES}}


@transactional
def open_year(
    session: Session,
    actor: Actor,
    *,
    year: int,
    rulebook: str,
    reporting_deadline: date | None = None,
    verification_deadline: date | None = None,
    surrender_deadline: date | None = None,
) -> ComplianceYear:
    """Open ``year`` from the shipped rulebook ``rulebook``; deadlines default to the
    rulebook's month-days in the following year. The penalty multiple starts at the
    rulebook's minimum. Regulators only; Conflict when the year is open already."""
    authorize(actor, "compliance.manage")
    if rulebook not in RULEBOOKS:
        raise ValidationFailed(
            f"no rulebook {rulebook!r}",
            errors=[FieldError("#/rulebook", f"one of {', '.join(RULEBOOKS)}")],
        )
    if session.scalar(select(ComplianceYear.id).where(ComplianceYear.year == year)) is not None:
        raise Conflict(f"compliance year {year} is open already; edit it instead")
    document = shipped_document(rulebook)
    book = parse_rulebook(document)
    given = {
        "reporting": reporting_deadline,
        "verification": verification_deadline,
        "surrender": surrender_deadline,
    }
    deadlines = {w: given[w] or book.deadline(w, year) for w in DEADLINES}
    _check_deadlines(year, deadlines)
    now = clock_of(session).now()
    found = ComplianceYear(
        year=year,
        rulebook_name=rulebook,
        document=_sync_document(document, deadlines),
        reporting_deadline=deadlines["reporting"],
        verification_deadline=deadlines["verification"],
        surrender_deadline=deadlines["surrender"],
        penalty_multiple=book.penalty.multiple_min,
        opened_at=now,
        opened_by=actor.name,
        updated_at=now,
    )
    session.add(found)
    session.flush()  # the id names the year in the audit record
    record(
        session,
        actor,
        action="compliance_year:open",
        entity_type="compliance_year",
        entity_id=year,
        after=snapshot(found, YEAR_FIELDS),
    )
    return found


def list_years(session: Session, actor: Actor) -> list[ComplianceYear]:
    authorize(actor, "compliance.read_year")
    return list(session.scalars(select(ComplianceYear).order_by(ComplianceYear.year)))


def get_year(session: Session, actor: Actor, year: int) -> ComplianceYear:
    authorize(actor, "compliance.read_year")
    return queries.load_year(session, year)


@transactional
def update_year(session: Session, /, actor: Actor, year: int, **changes: Any) -> ComplianceYear:
    """Edit a year while none of its deadlines has passed: any of the three deadlines and
    the rulebook members of :data:`EDITABLE` (each replaced whole; ``offsets``, ``penalty``
    and ``obligation_caps`` merged member by member). The result is checked as a whole
    rulebook. A penalty multiple outside a new range is reset to the new minimum."""
    authorize(actor, "compliance.manage")
    found = queries.load_year(session, year, for_update=True)
    today = queries.today_of(session)
    if today > found.reporting_deadline:
        raise Conflict(
            f"the reporting deadline of {year} ({found.reporting_deadline}) has passed: "
            "the year can no longer be edited"
        )
    before = snapshot(found, YEAR_FIELDS)
    deadlines = {
        w: changes.get(f"{w}_deadline") or getattr(found, f"{w}_deadline") for w in DEADLINES
    }
    _check_deadlines(year, deadlines)
    past = [
        FieldError(f"#/{w}_deadline", f"is before today ({today})")
        for w in DEADLINES
        if changes.get(f"{w}_deadline") is not None and deadlines[w] < today
    ]
    if past:
        raise ValidationFailed("a deadline cannot be set in the past", errors=past)
    document = dict(found.document)
    for member in EDITABLE:
        if member not in changes:
            continue
        value = changes[member]
        if isinstance(value, dict) and isinstance(document.get(member), dict):
            value = {**document[member], **value}
        document[member] = value
    document = _sync_document(document, deadlines)
    try:
        book = parse_rulebook(document)
    except ValueError as exc:
        raise ValidationFailed(str(exc), errors=[FieldError("#", str(exc))]) from exc
    found.document = _jsonable(document)
    found.reporting_deadline = deadlines["reporting"]
    found.verification_deadline = deadlines["verification"]
    found.surrender_deadline = deadlines["surrender"]
    if not book.penalty.multiple_min <= found.penalty_multiple <= book.penalty.multiple_max:
        found.penalty_multiple = book.penalty.multiple_min
    found.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action="compliance_year:update",
        entity_type="compliance_year",
        entity_id=year,
        before=before,
        after=snapshot(found, YEAR_FIELDS),
    )
    return found


def _jsonable(value: Any) -> Any:
    """Decimals from the request as strings, as the shipped documents hold them."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


@transactional
def set_penalty_multiple(
    session: Session, actor: Actor, year: int, *, multiple: Decimal
) -> ComplianceYear:
    """Set the multiple of the market price the year's penalties use, within the
    rulebook's range (ValidationFailed otherwise). Penalties already assessed keep theirs."""
    authorize(actor, "compliance.manage")
    found = queries.load_year(session, year, for_update=True)
    book = queries.book_of(found)
    low, high = book.penalty.multiple_min, book.penalty.multiple_max
    if not low <= multiple <= high:
        raise ValidationFailed(
            f"the multiple must be between {low} and {high}",
            errors=[FieldError("#/multiple", f"between {low} and {high}")],
        )
    before = snapshot(found, ["penalty_multiple"])
    found.penalty_multiple = multiple
    found.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action="compliance_year:set_multiple",
        entity_type="compliance_year",
        entity_id=year,
        before=before,
        after=snapshot(found, ["penalty_multiple"]),
    )
    return found


def _enterprise(session: Session, credit_code: str) -> Enterprise:
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if found is None:
        raise NotFound(
            f"no enterprise {credit_code}",
            errors=[FieldError("#/enterprise", "no such enterprise")],
        )
    return found


@transactional
def grant_extension(
    session: Session, actor: Actor, year: int, *, enterprise: str, until: date, reason: str
) -> tuple[ComplianceExtension, bool]:
    """Extend one enterprise's surrender deadline for ``year`` to ``until`` (after the
    year's deadline). Granting again replaces the date and reason; returns (extension,
    is_new)."""
    authorize(actor, "compliance.manage")
    found_year = queries.load_year(session, year)
    owner = _enterprise(session, enterprise)
    if until <= found_year.surrender_deadline:
        raise ValidationFailed(
            "an extension must end after the surrender deadline",
            errors=[FieldError("#/until", f"after {found_year.surrender_deadline}")],
        )
    if until > latest_deadline(year):
        raise ValidationFailed(
            f"an extension must end on or before {latest_deadline(year)}",
            errors=[FieldError("#/until", f"on or before {latest_deadline(year)}")],
        )
    now = clock_of(session).now()
    existing = session.scalar(
        select(ComplianceExtension)
        .where(ComplianceExtension.year == year, ComplianceExtension.enterprise_id == owner.id)
        .with_for_update()
    )
    before = None if existing is None else snapshot(existing, ["until", "reason"])
    extension = existing or ComplianceExtension(year=year, enterprise_id=owner.id)
    extension.until, extension.reason = until, reason
    extension.granted_by, extension.granted_at = actor.name, now
    session.add(extension)
    session.flush()  # the id names the extension in the audit record
    record(
        session,
        actor,
        action="compliance_extension:grant",
        entity_type="compliance_extension",
        entity_id=extension.id,
        before=before,
        after={**snapshot(extension, ["year", "until", "reason"]), "enterprise": enterprise},
    )
    return extension, existing is None


@transactional
def grant_exemption(
    session: Session, actor: Actor, year: int, *, enterprise: str, reason: str
) -> tuple[ComplianceExemption, bool]:
    """Exempt one enterprise from ``year``'s obligation, with the reason. Granting again
    replaces the reason; returns (exemption, is_new)."""
    authorize(actor, "compliance.manage")
    queries.load_year(session, year)
    owner = _enterprise(session, enterprise)
    existing = session.scalar(
        select(ComplianceExemption)
        .where(ComplianceExemption.year == year, ComplianceExemption.enterprise_id == owner.id)
        .with_for_update()
    )
    exemption = existing or ComplianceExemption(year=year, enterprise_id=owner.id)
    exemption.reason = reason
    exemption.granted_by, exemption.granted_at = actor.name, clock_of(session).now()
    session.add(exemption)
    session.flush()  # the id names the exemption in the audit record
    record(
        session,
        actor,
        action="compliance_exemption:grant",
        entity_type="compliance_exemption",
        entity_id=exemption.id,
        after={"year": year, "enterprise": enterprise, "reason": reason},
    )
    return exemption, existing is None


def _own_account(session: Session, actor: Actor, account: str | None) -> Account:
    """The caller's compliance account, locked: surrenders of one enterprise queue here, so
    two of them can never both fit in what is still due."""
    found = session.scalar(
        select(Account)
        .where(
            Account.enterprise_id == actor.enterprise_id,
            Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
        )
        .with_for_update()
    )
    if found is None or (account is not None and account != found.number):
        # Another enterprise's account: the same answer as for one that does not exist.
        raise NotFound(
            f"no account {account or ''}".strip(),
            errors=[FieldError("#/account", "no such account")],
        )
    return found


@transactional
def surrender(
    session: Session,
    actor: Actor,
    year: int,
    *,
    unit_kind: str,
    vintage: int,
    quantity: int,
    account: str | None = None,
) -> ComplianceSurrender:
    """Ask to surrender units for ``year`` from the caller's compliance account. The ledger
    reserves them in a ``surrender`` transaction to the retirement account, pending until a
    second user of the enterprise approves it (``POST /api/v1/transactions/{id}/approve``).

    Refused (RuleViolation, nothing changed): no approved report for the year; after the
    surrender deadline without an extension; a unit kind or vintage the rulebook does not
    take; over an offset cap; more than is still due (pending surrenders count as already
    surrendering). NotFound for an ``account`` that is not the caller's own.
    """
    authorize(actor, "compliance.surrender")
    check_quantity_and_vintage(quantity, vintage)
    found_year = queries.load_year(session, year)
    if actor.enterprise_id is None:
        raise RuleViolation("only an enterprise's own users surrender its units")
    source = _own_account(session, actor, account)
    owner = source.enterprise_id
    assert owner is not None  # a compliance account always has one (CHECK)  # noqa: S101
    verified_t = queries.reports(session, year, owner).approved_t.get(owner)
    if verified_t is None:
        raise RuleViolation(f"there is no approved emission report for {year}")
    deadline = queries.extensions(session, year, owner).get(owner, found_year.surrender_deadline)
    if queries.today_of(session) > deadline:
        raise RuleViolation(
            f"the surrender deadline for {year} ({deadline}) has passed",
            errors=[FieldError("#/year", f"deadline {deadline} passed, no extension")],
        )
    book = queries.book_of(found_year)
    allocation = queries.allocations(session, year, owner).get(owner)
    due = obligation(
        ObligationInput(
            year=year,
            verified_t=verified_t,
            allocation_t=allocation,
            is_gas_unit=owner in queries.gas_units(session, owner),
        ),
        book,
    ).obligation_t
    facts = queries.surrenders(session, year, owner).get(owner) or queries.SurrenderFacts()
    done = Surrendered(
        allowances_t=facts.allowances_t + facts.pending_allowances_t,
        offsets_t=facts.offsets_t + facts.pending_offsets_t,
        outside_offsets_t=facts.outside_offsets_t + facts.pending_outside_offsets_t,
    )
    request = SurrenderRequest(unit_kind, vintage, quantity, unit_kind in book.outside_kinds)
    problems = surrender_problems(
        book,
        year=year,
        request=request,
        obligation_t=due,
        done=done,
        caps=offset_caps(book, obligation_t=due, allocation_t=allocation),
    )
    if problems:
        raise RuleViolation(
            "; ".join(reason for _, reason in problems),
            errors=[FieldError(f"#/{name}", reason) for name, reason in problems],
        )
    tx = ledger.request_transfer(
        session,
        actor,
        from_account=source.number,
        to_account=GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT],
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        memo=f"{year}年度清缴 surrender for {year}",
        kind=TransactionKind.SURRENDER,
    )
    row = ComplianceSurrender(
        year=year,
        enterprise_id=owner,
        transaction_id=tx.id,
        unit_kind=unit_kind,
        vintage=vintage,
        quantity=quantity,
        counts_as=book.surrenderable[unit_kind],
        is_outside=request.outside,
        requested_at=clock_of(session).now(),
        requested_by=actor.name,
    )
    session.add(row)
    session.flush()  # the id names the surrender in the audit record and the response
    record(
        session,
        actor,
        action="compliance_surrender:request",
        entity_type="compliance_surrender",
        entity_id=row.id,
        after={
            **snapshot(row, ["year", "unit_kind", "vintage", "quantity", "counts_as"]),
            "transaction_id": tx.id,
            "obligation_t": due,
        },
    )
    return row


def list_surrenders(session: Session, actor: Actor, year: int) -> list[ComplianceSurrender]:
    """The year's surrenders (an enterprise user: its own), newest first."""
    authorize(actor, "compliance.read")
    queries.load_year(session, year)
    query = select(ComplianceSurrender).where(ComplianceSurrender.year == year)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(ComplianceSurrender.enterprise_id == scope)
    return list(session.scalars(query.order_by(ComplianceSurrender.id.desc())))
