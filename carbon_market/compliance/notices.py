"""What the compliance jobs tell enterprises and regulators: deadline reminders, overdue
flags, shortfalls, penalties and forecast warnings, through the notifications outbox.

Every message has a dedupe key naming what makes it unique (kind, year, deadline, tier,
enterprise — or the month, for forecast warnings), so a job run twice for the same day sends
nothing the second time. Each batch (one deadline tier, one flag, the year's penalties) goes
to the outbox's ``enqueue_many``: one look-up of the keys already sent and one bulk insert,
not a look-up per enterprise.

Reminder tiers: ``COMPLIANCE_REMINDER_DAYS`` (30, 7, 1) days before each deadline. A run on
day D sends the tier D falls in — the smallest tier not shorter than the days left — so a
scheduler that was down on the 7-days day still sends the 7-days reminder on the 6-days day,
and never a 30-days reminder a week before the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.enums import ComplianceStatusKind, PenaltyStatus
from carbon_market.compliance.models import CompliancePenalty, ComplianceStatus, ComplianceYear
from carbon_market.compliance.projections import compute as compute_forecast
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import transactional
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.notifications.service import Message, enqueue, enqueue_many

#: Days before a deadline on which its reminder goes out.
COMPLIANCE_REMINDER_DAYS = (30, 7, 1)
DEADLINES = ("reporting", "verification", "surrender")
#: Report statuses that have met each deadline (a returned report has not).
MET = {
    "reporting": {ReportStatus.SUBMITTED, ReportStatus.VERIFIED, ReportStatus.APPROVED},
    "verification": {ReportStatus.VERIFIED, ReportStatus.APPROVED},
}
WHAT = {
    "reporting": "submit the emission report",
    "verification": "have the emission report verified",
    "surrender": "surrender units covering the obligation",
}
SETTLED = {ComplianceStatusKind.COMPLIANT, ComplianceStatusKind.EXEMPT}


def tier(days_left: int, tiers: Iterable[int] = COMPLIANCE_REMINDER_DAYS) -> int | None:
    """The reminder tier ``days_left`` falls in, or None outside every tier (or past the
    deadline). 30 → 30, 25 → 30, 7 → 7, 6 → 7, 1 → 1, 0 (the day itself) → 1, 31 → None."""
    if days_left < 0:
        return None
    fitting = [t for t in tiers if t >= days_left]
    return min(fitting) if fitting else None


def _deadline(found: ComplianceYear, which: str) -> date:
    return {
        "reporting": found.reporting_deadline,
        "verification": found.verification_deadline,
        "surrender": found.surrender_deadline,
    }[which]


def _credit_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    query = select(Enterprise.id, Enterprise.credit_code).where(Enterprise.id.in_(wanted))
    return {owner: code for owner, code in session.execute(query)}


def _not_done(session: Session, found: ComplianceYear, which: str) -> list[int]:
    """Covered, not exempt enterprises that have not yet done what ``which`` asks."""
    year = found.year
    exempt = queries.exemptions(session, year)
    covered = [e for e in queries.covered(session) if e not in exempt]
    if which in MET:
        latest = queries.reports(session, year).latest_status
        return [e for e in covered if latest.get(e) not in MET[which]]
    settled = set(
        session.scalars(
            select(ComplianceStatus.enterprise_id).where(
                ComplianceStatus.year == year, ComplianceStatus.status.in_(SETTLED)
            )
        )
    )
    extended = queries.extensions(session, year)
    return [e for e in covered if e not in settled and e not in extended]


@transactional
def deadline_reminders(session: Session, actor: Actor, today: date) -> dict[str, int]:
    """Remind each enterprise that still has something to do of every deadline in a tier."""
    authorize(actor, "compliance.manage")
    sent = 0
    for found in queries.open_years(session, today):
        for which in DEADLINES:
            deadline = _deadline(found, which)
            days = (deadline - today).days
            level = tier(days)
            if level is None:
                continue
            prefix = f"deadline_reminder:{found.year}:{which}:{level}:"
            when = "today" if days == 0 else f"in {days} day(s)"
            reminders = [
                Message(
                    kind="deadline_reminder",
                    subject=f"{found.year}: {which} deadline {deadline} ({when})",
                    body=f"Please {WHAT[which]} for {found.year} by {deadline} "
                    f"(Asia/Shanghai). This reminder goes out {level} day(s) ahead.",
                    dedupe_key=f"{prefix}{owner}",
                    enterprise_id=owner,
                )
                for owner in _not_done(session, found, which)
            ]
            sent += len(enqueue_many(session, reminders))
    return {"reminders": sent}


@transactional
def overdue_flags(session: Session, actor: Actor, today: date) -> dict[str, int]:
    """After the reporting and verification deadlines: flag each enterprise whose report is
    not filed or not verified, to it and to the regulators (one list per deadline). After the
    surrender deadline: tell each enterprise the sweep found short what it still owes."""
    authorize(actor, "compliance.manage")
    counts = {"overdue": 0, "shortfalls": 0}
    for found in queries.open_years(session, today):
        for which in ("reporting", "verification"):
            deadline = _deadline(found, which)
            if today <= deadline:
                continue
            prefix = f"overdue:{found.year}:{which}:"
            flags = [
                Message(
                    kind="overdue",
                    subject=f"{found.year}: {which} overdue since {deadline}",
                    body=f"The deadline to {WHAT[which]} for {found.year} was {deadline}; "
                    "it has not been met. The regulator has been told.",
                    dedupe_key=f"{prefix}{owner}",
                    enterprise_id=owner,
                )
                for owner in _not_done(session, found, which)
            ]
            # The regulators' list names only the enterprises flagged for the first time.
            late = [m.enterprise_id for m in enqueue_many(session, flags) if m.enterprise_id]
            codes = _credit_codes(session, late)
            if late:
                listed = ", ".join(sorted(codes.values()))
                enqueue(
                    session,
                    kind="overdue",
                    subject=f"{found.year}: {len(late)} enterprise(s) missed the {which} "
                    f"deadline {deadline}",
                    body=f"Not met by {deadline}: {listed}.",
                    dedupe_key=f"{prefix}regulators:{today.isoformat()}",
                    to_regulators=True,
                )
            counts["overdue"] += len(late)
        counts["shortfalls"] += _shortfall_notices(session, found, today)
    return counts


def _shortfall_notices(session: Session, found: ComplianceYear, today: date) -> int:
    if today <= found.surrender_deadline:
        return 0
    prefix = f"shortfall:{found.year}:"
    rows = session.execute(
        select(ComplianceStatus.enterprise_id, ComplianceStatus.shortfall_t).where(
            ComplianceStatus.year == found.year,
            ComplianceStatus.status == ComplianceStatusKind.SHORTFALL,
        )
    ).all()
    told = [
        Message(
            kind="shortfall",
            subject=f"{found.year}: {short} t not surrendered by {found.surrender_deadline}",
            body=f"{short} t of the {found.year} obligation were not surrendered by the "
            f"deadline {found.surrender_deadline}. A penalty follows under the rulebook.",
            dedupe_key=f"{prefix}{owner}",
            enterprise_id=owner,
        )
        for owner, short in rows
    ]
    return len(enqueue_many(session, told))


@transactional
def penalty_notices(session: Session, actor: Actor, year: int) -> int:
    """Tell each penalised enterprise its penalty, once: the current one, since a penalty a
    correction superseded or cancelled before the first notice is not owed (the correction
    sends its own notice)."""
    authorize(actor, "compliance.manage")
    prefix = f"penalty:{year}:"
    penalties = session.scalars(
        select(CompliancePenalty)
        .where(
            CompliancePenalty.year == year,
            CompliancePenalty.status == PenaltyStatus.CURRENT,
        )
        .order_by(CompliancePenalty.enterprise_id)
    )
    told = []
    for p in penalties:
        deduction = (
            f" {p.allocation_deduction_t} t will be deducted from next year's allocation "
            "unless corrected."
            if p.allocation_deduction_t
            else ""
        )
        told.append(
            Message(
                kind="penalty",
                subject=f"{year}: penalty of {p.amount} CNY",
                body=f"Shortfall {p.shortfall_t} t × {p.multiple} × the average price "
                f"{p.average_price} CNY/t ({p.price_from} to {p.price_to}) = {p.amount} CNY."
                f"{deduction}",
                dedupe_key=f"{prefix}{p.enterprise_id}",
                enterprise_id=p.enterprise_id,
            )
        )
    return len(enqueue_many(session, told))


@transactional
def forecast_warnings(session: Session, actor: Actor, today: date) -> dict[str, Any]:
    """Warn each enterprise whose projection exceeds what it holds, at most once a month
    per year, and give the regulators the month's list."""
    authorize(actor, "compliance.manage")
    month = today.strftime("%Y-%m")
    counts: dict[str, Any] = {"projected": 0, "warnings": 0}
    for found in queries.open_years(session, today):
        if today > found.surrender_deadline:
            continue
        rows = compute_forecast(session, found, today)
        counts["projected"] += len(rows)
        warn = [r for r in rows if r.outlook.warn]
        prefix = f"forecast_warning:{found.year}:"
        warnings = []
        for row in warn:
            cost = (
                f" Buying it at the recent average price of {row.price} CNY/t would cost "
                f"{row.outlook.expected_cost} CNY; the penalty if it is not covered would be "
                f"at least {row.outlook.penalty_exposure} CNY."
                if row.price is not None
                else ""
            )
            warnings.append(
                Message(
                    kind="forecast_warning",
                    subject=f"{found.year}: a shortfall of about "
                    f"{row.outlook.expected_shortfall_t} t is likely",
                    body=f"From the monthly data filed ({row.projection.months_filed} "
                    f"month(s), {row.projection.method}), {found.year} emissions are projected "
                    f"at {row.projection.projected_t} t; the units held and surrendered cover "
                    f"{row.outlook.covered_t} t.{cost}",
                    dedupe_key=f"{prefix}{row.enterprise_id}:{month}",
                    enterprise_id=row.enterprise_id,
                )
            )
        counts["warnings"] += len(enqueue_many(session, warnings))
        if warn:
            listed = ", ".join(f"{r.enterprise} ({r.outlook.expected_shortfall_t} t)" for r in warn)
            enqueue(
                session,
                kind="forecast_warning",
                subject=f"{found.year}: {len(warn)} enterprise(s) likely short",
                body=f"Projected shortfalls as of {today}: {listed}.",
                dedupe_key=f"{prefix}regulators:{month}",
                to_regulators=True,
            )
    return counts
