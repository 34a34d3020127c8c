"""Penalty assessment after the surrender deadline, and the penalty list.

Each enterprise the sweep finds in ``shortfall`` on the assessment day gets one penalty:
shortfall × the year's multiple × the average market price of allowances over the
rulebook's window (``rules.price_window``, ``trading.market.average_price``); under the
national rulebook the shortfall is also recorded as next year's allocation deduction. The
unique (year, enterprise) constraint and a check before inserting make a second run add
nothing. No trade in the window: no penalty is made and the summary says why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.enums import ComplianceStatusKind, PenaltyStatus
from carbon_market.compliance.models import CompliancePenalty, ComplianceStatus, ComplianceYear
from carbon_market.compliance.rules.obligations import MAX_AMOUNT, penalty, price_window
from carbon_market.compliance.sweep import sweep
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, each_in_own_unit, transactional
from carbon_market.trading.market import average_price

#: The unit kind whose market price sets penalties and prices the forecast's expected
#: shortfall (``projections`` imports it: one definition).
PRICED_KIND = "allowance"


def window_of(found: ComplianceYear) -> tuple[date, date]:
    """The price window ending on the year's stored surrender deadline (the document's
    month-days follow the stored dates, so the deadline's year minus one is the year the
    rulebook's arithmetic expects)."""
    return price_window(queries.book_of(found), found.surrender_deadline.year - 1)


@transactional
def penalty_assessment(session: Session, actor: Actor, year: int, today: date) -> dict[str, Any]:
    """Sweep ``year`` as of ``today``, then make the penalties of its shortfalls not yet
    penalised. Nothing before the surrender deadline. Returns a summary."""
    authorize(actor, "compliance.manage")
    found = queries.load_year(session, year)
    summary: dict[str, Any] = {"year": year, "as_of": today, "assessed": 0, "shortfalls": 0}
    if today <= found.surrender_deadline:
        return {**summary, "outcome": f"not due: the deadline is {found.surrender_deadline}"}
    sweep(session, actor, year, today)
    shortfalls = {
        owner: short
        for owner, short in session.execute(
            select(ComplianceStatus.enterprise_id, ComplianceStatus.shortfall_t).where(
                ComplianceStatus.year == year,
                ComplianceStatus.status == ComplianceStatusKind.SHORTFALL,
            )
        )
    }
    done = set(
        session.scalars(
            select(CompliancePenalty.enterprise_id).where(CompliancePenalty.year == year)
        )
    )
    new = {owner: short for owner, short in shortfalls.items() if owner not in done}
    summary["shortfalls"] = len(shortfalls)
    if not new:
        return {**summary, "outcome": "nothing new to assess"}
    start, end = window_of(found)
    price = average_price(session, PRICED_KIND, start, end)
    if price is None:
        return {
            **summary,
            "outcome": f"no {PRICED_KIND} trades from {start} to {end}: no market price, "
            f"{len(new)} shortfall(s) left unassessed",
        }
    rows, too_large = _penalty_rows(session, actor, found, new, (start, end, price), today)
    if too_large:
        summary["too_large"] = too_large
    if not rows:
        return {**summary, "outcome": f"{len(too_large)} penalty(ies) too large to record"}
    session.execute(insert(CompliancePenalty), rows)
    record(
        session,
        actor,
        action="compliance_year:assess_penalties",
        entity_type="compliance_year",
        entity_id=year,
        after={
            "as_of": today.isoformat(),
            "assessed": len(rows),
            "average_price": str(price),
            "multiple": str(found.penalty_multiple),
            "window": [start.isoformat(), end.isoformat()],
        },
    )
    return {
        **summary,
        "assessed": len(rows),
        "average_price": price,
        "outcome": f"assessed {len(rows)} penalty(ies) at {price} CNY/t × {found.penalty_multiple}"
        + (f"; {len(too_large)} too large to record" if too_large else ""),
    }


def _penalty_rows(
    session: Session,
    actor: Actor,
    found: ComplianceYear,
    shortfalls: dict[int, int],
    window: tuple[date, date, Decimal],
    today: date,
) -> tuple[list[dict[str, Any]], list[int]]:
    """The penalty rows of ``shortfalls`` (enterprise id → tonnes) priced over ``window``
    (first day, last day, average price), and the enterprises whose amount exceeds what the
    amount column can hold (:data:`MAX_AMOUNT`): those are left unassessed and named, so one
    absurd figure cannot fail the whole year's assessment (it used to overflow the insert)."""
    start, end, price = window
    book = queries.book_of(found)
    now = clock_of(session).now()
    rows: list[dict[str, Any]] = []
    too_large: list[int] = []
    for owner, short in sorted(shortfalls.items()):
        result = penalty(
            book, shortfall_t=short, multiple=found.penalty_multiple, average_price=price
        )
        if result.amount > MAX_AMOUNT:
            too_large.append(owner)
            continue
        rows.append(
            {
                "year": found.year,
                "enterprise_id": owner,
                "shortfall_t": result.shortfall_t,
                "multiple": result.multiple,
                "average_price": result.average_price,
                "amount": result.amount,
                "allocation_deduction_t": result.allocation_deduction_t,
                "price_from": start,
                "price_to": end,
                "assessed_on": today,
                "assessed_at": now,
                "assessed_by": actor.name,
            }
        )
    return rows, too_large


def assess_due_years(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """Assess every year whose surrender deadline has passed; one unit of work per year."""
    years = list(
        session.scalars(
            select(ComplianceYear.year)
            .where(ComplianceYear.surrender_deadline < today)
            .order_by(ComplianceYear.year)
        )
    )
    return each_in_own_unit(
        session, years, lambda year: penalty_assessment(session, actor, year, today)
    )


def list_penalties(
    session: Session, actor: Actor, year: int, *, include_superseded: bool = False
) -> list[CompliancePenalty]:
    """The year's current penalties (an enterprise user: its own); with
    ``include_superseded`` also those a correction superseded or cancelled."""
    authorize(actor, "compliance.read")
    queries.load_year(session, year)
    query = select(CompliancePenalty).where(CompliancePenalty.year == year)
    if not include_superseded:
        query = query.where(CompliancePenalty.status == PenaltyStatus.CURRENT)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(CompliancePenalty.enterprise_id == scope)
    return list(
        session.scalars(query.order_by(CompliancePenalty.enterprise_id, CompliancePenalty.id))
    )


def uncorrected_deductions(session: Session, year: int) -> dict[int, int]:
    """Enterprise id → tonnes to deduct from its allocation for the year after ``year``.

    The penalty's ``allocation_deduction_t`` (national rulebook: the shortfall), capped by
    what is still outstanding at the last sweep (obligation − surrendered), so a shortfall
    corrected late, under an extension or not, is not deducted. Beijing penalties carry no
    deduction.
    """
    rows = session.execute(
        select(
            CompliancePenalty.enterprise_id,
            CompliancePenalty.allocation_deduction_t,
            ComplianceStatus.obligation_t - ComplianceStatus.surrendered_t,
        )
        .join(
            ComplianceStatus,
            (ComplianceStatus.year == CompliancePenalty.year)
            & (ComplianceStatus.enterprise_id == CompliancePenalty.enterprise_id),
            isouter=True,
        )
        .where(
            CompliancePenalty.year == year,
            CompliancePenalty.allocation_deduction_t > 0,
            # A penalty a correction superseded or cancelled no longer stands.
            CompliancePenalty.status == PenaltyStatus.CURRENT,
        )
    )
    due = {
        owner: min(int(deduction), int(deduction if left is None else max(left, 0)))
        for owner, deduction, left in rows
    }
    return {owner: tonnes for owner, tonnes in due.items() if tonnes > 0}
