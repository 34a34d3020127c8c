"""The forecast for every covered enterprise of a year, set-based (以月保年).

Reads, in a handful of queries: the monthly figures of this year's and last year's latest
reports (``mrv.monthly``), the free allocation received, the surrenders made (completed and
pending: a pending surrender is already on its way), the available units of the kinds and
vintages the year accepts in each compliance account, and the recent market price. The pure
``forecast`` module projects and compares. Enterprises with no monthly data yet and the
exempt are left out: there is nothing to project, or nothing due.

The market price is the volume-weighted average of allowance trades over the
``FORECAST_PRICE_DAYS`` days up to the forecast day: what covering the gap would cost now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.models import ComplianceYear
from carbon_market.compliance.penalties import PRICED_KIND
from carbon_market.compliance.rules.forecast import Outlook, Position, Projection, outlook, project
from carbon_market.compliance.rules.obligations import Surrendered
from carbon_market.compliance.rules.rulebook import Rulebook
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account, Holding
from carbon_market.mrv.reports.monthly import monthly_by_enterprise
from carbon_market.trading.market import average_price

#: How far back the market price for the expected cost looks, in days.
FORECAST_PRICE_DAYS = 30


@dataclass(frozen=True)
class ForecastRow:
    enterprise_id: int
    enterprise: str
    name: str
    sector: str
    district: str
    projection: Projection
    outlook: Outlook
    price: Decimal | None


def _held(session: Session, year: int, book: Rulebook) -> dict[int, tuple[int, int]]:
    """Per enterprise: available (unreserved) allowances and offsets in its compliance
    account of the kinds the rulebook accepts and vintages it may surrender for ``year``."""
    counts_as = dict(book.surrenderable)
    vintage_ok = (Holding.vintage <= year) if book.banking else (Holding.vintage == year)
    rows = session.execute(
        select(Account.enterprise_id, Holding.unit_kind, Holding.quantity - Holding.reserved)
        .join(Account, Account.id == Holding.account_id)
        .where(
            Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
            Holding.unit_kind.in_(list(counts_as)),
            vintage_ok,
        )
    )
    held: dict[int, tuple[int, int]] = {}
    for owner, kind, available in rows:
        if owner is None:  # a compliance account always has an owner; the column may not
            continue
        allowances, offsets = held.get(owner, (0, 0))
        if counts_as[kind] == "allowance":
            allowances += int(available)
        else:
            offsets += int(available)
        held[owner] = (allowances, offsets)
    return held


def _surrendered(facts: queries.SurrenderFacts | None) -> Surrendered:
    """Completed and pending surrenders together: both already leave the account."""
    if facts is None:
        return Surrendered()
    return Surrendered(
        allowances_t=facts.allowances_t + facts.pending_allowances_t,
        offsets_t=facts.offsets_t + facts.pending_offsets_t,
        outside_offsets_t=facts.outside_offsets_t + facts.pending_outside_offsets_t,
    )


def market_price(session: Session, today: date) -> Decimal | None:
    """The allowance price that prices an expected shortfall on ``today``."""
    start = today - timedelta(days=FORECAST_PRICE_DAYS - 1)
    return average_price(session, PRICED_KIND, start, today)


def compute(
    session: Session, found: ComplianceYear, today: date, enterprise_id: int | None = None
) -> list[ForecastRow]:
    """The forecast of every covered enterprise with monthly data (or of one), on ``today``."""
    year, book = found.year, queries.book_of(found)
    this_year = monthly_by_enterprise(session, year)
    if enterprise_id is not None:
        this_year = {k: v for k, v in this_year.items() if k == enterprise_id}
    if not this_year:
        return []
    last_year = monthly_by_enterprise(session, year - 1)
    allocations = queries.allocations(session, year, enterprise_id)
    surrenders = queries.surrenders(session, year, enterprise_id)
    gas = queries.gas_units(session, enterprise_id)
    exempt = queries.exemptions(session, year, enterprise_id)
    held = _held(session, year, book)
    price = market_price(session, today)
    covered = set(queries.covered(session))
    names = {
        row.id: row
        for row in session.execute(
            select(
                Enterprise.id,
                Enterprise.credit_code,
                Enterprise.name,
                Enterprise.sector,
                Enterprise.district,
            ).where(Enterprise.id.in_(list(this_year)))
        )
    }
    rows = []
    for owner, figures in sorted(this_year.items()):
        if owner in exempt or owner not in covered:
            continue
        previous = last_year.get(owner)
        projection = project(
            figures.months,
            annual=figures.annual,
            last_year=previous.months if previous is not None else None,
        )
        if projection is None:
            continue
        allowances, offsets = held.get(owner, (0, 0))
        position = Position(
            allowances_held_t=allowances,
            offsets_held_t=offsets,
            surrendered=_surrendered(surrenders.get(owner)),
            allocation_t=allocations.get(owner),
            is_gas_unit=owner in gas,
        )
        who = names[owner]
        rows.append(
            ForecastRow(
                owner,
                who.credit_code,
                who.name,
                who.sector,
                who.district,
                projection,
                outlook(projection, position, book, year=year, price=price),
                price,
            )
        )
    return rows


def list_forecast(
    session: Session, actor: Actor, year: int, *, warnings_only: bool = False
) -> list[ForecastRow]:
    """The year's forecast as of today (regulators and auditors: every enterprise; an
    enterprise user: its own)."""
    authorize(actor, "compliance.read")
    found = queries.load_year(session, year)
    rows = compute(session, found, queries.today_of(session), tenant_scope(actor))
    return [r for r in rows if r.outlook.warn] if warnings_only else rows
