"""The aggregate reads compliance decides on: a handful of GROUP BY queries, each for one
enterprise (a surrender) or for all of them at once (the sweep), never one per enterprise.

* **Reports**: the latest version's status and the latest *approved* version's obligation
  (a correction in progress does not hide the figure that stands).
* **Free allocation**: the completed ``allocation`` transactions of vintage ``year`` into the
  enterprise's compliance account, less their completed reversals. The ledger is what the
  enterprise actually received; the allocation engine's results may not have been issued.
* **Surrenders**: the ``compliance_surrender`` rows of the year with their transaction's
  status: pending ones (``pending_approval``, ``delayed``) count as already surrendering
  when a new surrender is checked; only completed ones count towards the status.
* **Gas units**: an enterprise whose facilities are all ``gas_unit`` (the national gas cap).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session, aliased

from carbon_market.clock import local_date
from carbon_market.compliance.models import (
    ComplianceExemption,
    ComplianceExtension,
    ComplianceSurrender,
    ComplianceYear,
)
from carbon_market.compliance.rulebook import Rulebook, parse_rulebook
from carbon_market.db import clock_of, config_of
from carbon_market.emitters.models import Facility
from carbon_market.errors import NotFound
from carbon_market.ledger.models import (
    OPEN_STATUSES,
    Account,
    AccountKind,
    LedgerTransaction,
    TransactionKind,
    TransactionStatus,
)
from carbon_market.mrv.reports_models import EmissionReport, ReportStatus


def today_of(session: Session) -> date:
    """Today in the deadline time zone, by the injected clock."""
    return local_date(clock_of(session).now(), config_of(session).deadline_tz)


def load_year(session: Session, year: int, *, for_update: bool = False) -> ComplianceYear:
    query = select(ComplianceYear).where(ComplianceYear.year == year)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"compliance year {year} has not been opened")
    return found


def book_of(year: ComplianceYear) -> Rulebook:
    """The year's rulebook as stored (the shipped default as the regulator edited it)."""
    return parse_rulebook(year.document)


def _only(column: Any, enterprise_id: int | None) -> ColumnElement[bool]:
    """No restriction for the sweep (all enterprises); one enterprise for a surrender."""
    return true() if enterprise_id is None else column == enterprise_id


@dataclass(frozen=True)
class ReportFacts:
    #: Status of the latest version (None: nothing filed).
    latest_status: ReportStatus | None
    #: Obligation of the latest approved version (None: none approved).
    approved_t: int | None


def reports(
    session: Session, year: int, enterprise_id: int | None = None
) -> dict[int, ReportFacts]:
    """Per enterprise with a report for ``year``: the latest status and approved figure."""
    query = (
        select(
            EmissionReport.enterprise_id,
            EmissionReport.version,
            EmissionReport.status,
            EmissionReport.obligation_t,
        ).where(EmissionReport.year == year)
    ).where(_only(EmissionReport.enterprise_id, enterprise_id))
    latest: dict[int, tuple[int, ReportStatus]] = {}
    approved: dict[int, tuple[int, int]] = {}
    for owner, version, status, obligation_t in session.execute(query):
        if owner not in latest or version > latest[owner][0]:
            latest[owner] = (version, ReportStatus(status))
        if status != ReportStatus.APPROVED or obligation_t is None:
            continue
        if owner not in approved or version > approved[owner][0]:
            approved[owner] = (version, int(obligation_t))
    return {
        owner: ReportFacts(status, approved[owner][1] if owner in approved else None)
        for owner, (_, status) in latest.items()
    }


def allocations(session: Session, year: int, enterprise_id: int | None = None) -> dict[int, int]:
    """Free allocation of vintage ``year`` received per enterprise (see the module doc)."""
    received = (
        select(Account.enterprise_id, func.sum(LedgerTransaction.quantity))
        .join(Account, Account.id == LedgerTransaction.to_account_id)
        .where(
            LedgerTransaction.kind == TransactionKind.ALLOCATION,
            LedgerTransaction.status == TransactionStatus.COMPLETED,
            LedgerTransaction.vintage == year,
            LedgerTransaction.unit_kind == "allowance",
            Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
        )
        .group_by(Account.enterprise_id)
    ).where(_only(Account.enterprise_id, enterprise_id))
    original = aliased(LedgerTransaction)
    reversed_ = (
        select(Account.enterprise_id, func.sum(LedgerTransaction.quantity))
        .join(original, original.id == LedgerTransaction.reverses_id)
        .join(Account, Account.id == original.to_account_id)
        .where(
            LedgerTransaction.kind == TransactionKind.REVERSAL,
            LedgerTransaction.status == TransactionStatus.COMPLETED,
            original.kind == TransactionKind.ALLOCATION,
            original.vintage == year,
            original.unit_kind == "allowance",
            Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
        )
        .group_by(Account.enterprise_id)
    ).where(_only(Account.enterprise_id, enterprise_id))
    totals: dict[int, int] = defaultdict(int)
    for owner, quantity in session.execute(received):
        totals[int(owner or 0)] += int(quantity)
    for owner, quantity in session.execute(reversed_):
        totals[int(owner or 0)] -= int(quantity)
    return dict(totals)


@dataclass
class SurrenderFacts:
    """Surrendered tonnes of one enterprise for one year, completed and pending."""

    allowances_t: int = 0
    offsets_t: int = 0
    outside_offsets_t: int = 0
    pending_allowances_t: int = 0
    pending_offsets_t: int = 0
    pending_outside_offsets_t: int = 0
    #: When the last completed surrender completed (None: none has).
    last_completed_at: datetime | None = field(default=None)

    @property
    def completed_t(self) -> int:
        return self.allowances_t + self.offsets_t


def surrenders(
    session: Session, year: int, enterprise_id: int | None = None
) -> dict[int, SurrenderFacts]:
    """Per enterprise: what it surrendered for ``year``, by how it counts and by status."""
    live = [TransactionStatus.COMPLETED, *OPEN_STATUSES]
    query = (
        select(
            ComplianceSurrender.enterprise_id,
            ComplianceSurrender.counts_as,
            ComplianceSurrender.is_outside,
            LedgerTransaction.status,
            func.sum(ComplianceSurrender.quantity),
            func.max(LedgerTransaction.completed_at),
        )
        .join(LedgerTransaction, LedgerTransaction.id == ComplianceSurrender.transaction_id)
        .where(ComplianceSurrender.year == year, LedgerTransaction.status.in_(live))
        .group_by(
            ComplianceSurrender.enterprise_id,
            ComplianceSurrender.counts_as,
            ComplianceSurrender.is_outside,
            LedgerTransaction.status,
        )
    ).where(_only(ComplianceSurrender.enterprise_id, enterprise_id))
    facts: dict[int, SurrenderFacts] = defaultdict(SurrenderFacts)
    for owner, counts_as, is_outside, status, quantity, completed_at in session.execute(query):
        f, quantity = facts[owner], int(quantity)
        done = TransactionStatus(status) is TransactionStatus.COMPLETED
        if done and completed_at is not None:
            last = f.last_completed_at
            f.last_completed_at = completed_at if last is None else max(last, completed_at)
        if counts_as == "allowance":
            if done:
                f.allowances_t += quantity
            else:
                f.pending_allowances_t += quantity
            continue
        if done:
            f.offsets_t += quantity
            f.outside_offsets_t += quantity if is_outside else 0
        else:
            f.pending_offsets_t += quantity
            f.pending_outside_offsets_t += quantity if is_outside else 0
    return dict(facts)


def gas_units(session: Session, enterprise_id: int | None = None) -> set[int]:
    """Enterprises whose facilities (at least one) are all gas units."""
    gas = func.sum(case((Facility.facility_type == "gas_unit", 1), else_=0))
    query = (
        select(Facility.enterprise_id).group_by(Facility.enterprise_id).having(gas == func.count())
    ).where(_only(Facility.enterprise_id, enterprise_id))
    return set(session.scalars(query))


def extensions(session: Session, year: int, enterprise_id: int | None = None) -> dict[int, date]:
    """Per enterprise granted one: the extended surrender deadline."""
    query = (
        select(ComplianceExtension.enterprise_id, ComplianceExtension.until).where(
            ComplianceExtension.year == year
        )
    ).where(_only(ComplianceExtension.enterprise_id, enterprise_id))
    return {owner: until for owner, until in session.execute(query)}


def exemptions(session: Session, year: int, enterprise_id: int | None = None) -> set[int]:
    query = (
        select(ComplianceExemption.enterprise_id).where(ComplianceExemption.year == year)
    ).where(_only(ComplianceExemption.enterprise_id, enterprise_id))
    return set(session.scalars(query))
