"""The corrections cascade: a corrected report version, once approved, flows downstream.

An approved report is immutable; a correction is the next version of the same year, going
through the same workflow (docs/mrv.md). When that version is approved after surrenders or
penalties, :func:`apply_correction` recomputes, for the enterprise and year, everything that
depended on the old figure — in the same unit of work as the approval:

* the **obligation**, from the new approved figure and the rulebook's caps;
* **excess surrendered units** go back to the compliance account through the ledger: those
  beyond the new obligation, newest first, and offsets beyond the new offset cap (a share of
  the obligation under the national rulebook), whose place allowances going back anyway take;
  each surrender that keeps less is reversed whole and re-surrendered in the part it keeps
  (the ledger reverses whole transactions only, and nothing is ever edited);
* the enterprise's **status** row, re-run at once (the sweep for one enterprise);
* a current **penalty** is superseded by one recomputed from the new shortfall with the same
  multiple and average price, or cancelled when the shortfall is gone; a cancelled one is
  reinstated (as a new row) if a later correction brings a shortfall back;
* a **notification** to the enterprise and the regulators, deduplicated per report version.

One :class:`ComplianceCorrection` row per report version (UNIQUE) records what changed; every
downstream change names it or the report: ledger memos, audit ``after.correction_of``, the
penalty rows' ``correction_id``/``ended_by_id``, the re-surrenders' ``correction_id`` and the
notification's dedupe key. Applying the same version again returns that row, changing nothing.

This module orchestrates; the ledger moves are :mod:`adjustments`, the penalty changes
:mod:`supersession`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from carbon_market.compliance import queries
from carbon_market.compliance.corrections.adjustments import (
    Returned,
    lock_compliance_account,
    return_units,
)
from carbon_market.compliance.corrections.supersession import repenalise
from carbon_market.compliance.models import ComplianceCorrection, ComplianceYear
from carbon_market.compliance.rules.obligations import (
    ObligationInput,
    OffsetCaps,
    obligation,
    offset_caps,
)
from carbon_market.compliance.sweep import COLUMNS, STATUS, sweep_one
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, each_in_own_unit, transactional
from carbon_market.kernel.errors import Conflict, NotFound
from carbon_market.ledger.models import Account
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.notifications.service import enqueue

SHORTFALL = COLUMNS.index("shortfall_t")


@dataclass
class _Trail:
    """What the cascade did, for the audit record and the notice."""

    returned: Returned
    #: The offset caps of the corrected obligation.
    caps: OffsetCaps
    penalty: dict[str, Any] = field(default_factory=dict)


def _previous_approved(session: Session, report: EmissionReport) -> EmissionReport | None:
    return session.scalar(
        select(EmissionReport)
        .where(
            EmissionReport.enterprise_id == report.enterprise_id,
            EmissionReport.year == report.year,
            EmissionReport.status == ReportStatus.APPROVED,
            EmissionReport.version < report.version,
        )
        .order_by(EmissionReport.version.desc())
        .limit(1)
    )


def _newer_approved(session: Session, report: EmissionReport) -> int | None:
    return session.scalar(
        select(EmissionReport.version).where(
            EmissionReport.enterprise_id == report.enterprise_id,
            EmissionReport.year == report.year,
            EmissionReport.status == ReportStatus.APPROVED,
            EmissionReport.version > report.version,
        )
    )


def _due(session: Session, found: ComplianceYear, owner: int, verified_t: int) -> int:
    year = found.year
    facts = ObligationInput(
        year=year,
        verified_t=verified_t,
        allocation_t=queries.allocations(session, year, owner).get(owner),
        is_gas_unit=owner in queries.gas_units(session, owner),
    )
    return obligation(facts, queries.book_of(found)).obligation_t


def _notify(
    session: Session, correction: ComplianceCorrection, credit_code: str, trail: _Trail
) -> None:
    lines = [
        f"Report {correction.report_id} (version {correction.version}) corrected the "
        f"{correction.year} figure.",
        f"Obligation: {correction.previous_obligation_t} t → {correction.obligation_t} t.",
        f"Status: {correction.status_before or 'none'} → {correction.status_after}.",
    ]
    if correction.returned_t:
        lines.append(
            f"{correction.returned_t} surrendered unit(s) returned to the compliance account "
            f"(reversals {', '.join(map(str, trail.returned.reversals))})."
        )
    if trail.returned.offsets_returned_t:
        lines.append(
            f"Of them, {trail.returned.offsets_returned_t} offset(s): at most "
            f"{trail.caps.total_t} t of offsets count towards the corrected obligation."
        )
    if trail.penalty.get("cancelled"):
        lines.append(f"Penalty {trail.penalty['previous_id']} cancelled.")
    elif trail.penalty.get("too_large"):
        lines.append(
            f"Penalty {trail.penalty['previous_id']} stands: the one recomputed for "
            f"{trail.penalty['shortfall_t']} t is beyond what an amount holds; a regulator "
            "must decide it."
        )
    elif trail.penalty:
        lines.append(
            f"Penalty recomputed: {trail.penalty['amount']} CNY for "
            f"{trail.penalty['shortfall_t']} t (was {trail.penalty['previous_amount']} CNY)."
        )
    enqueue(
        session,
        kind="correction",
        subject=f"{correction.year} compliance recomputed after a report correction",
        body="\n".join(lines),
        dedupe_key=(
            f"correction:{correction.year}:{credit_code}:report-{correction.report_id}"
            f":v{correction.version}"
        ),
        enterprise_id=correction.enterprise_id,
        to_regulators=True,
    )


def _record(
    session: Session,
    actor: Actor,
    correction: ComplianceCorrection,
    credit_code: str,
    trail: _Trail,
) -> None:
    """The audit record of the whole cascade: every downstream change by its id."""
    returned = trail.returned
    record(
        session,
        actor,
        action="compliance_correction:apply",
        entity_type="compliance_correction",
        entity_id=correction.id,
        after={
            "correction_of": {"report_id": correction.report_id, "version": correction.version},
            "enterprise": credit_code,
            "year": correction.year,
            "obligation_t": [correction.previous_obligation_t, correction.obligation_t],
            "returned_t": correction.returned_t,
            "offsets_returned_t": returned.offsets_returned_t,
            "offset_cap_t": trail.caps.total_t,
            "reversals": returned.reversals,
            # The last re-surrender (there was at most one before offsets were capped).
            "resurrender": returned.resurrenders[-1] if returned.resurrenders else None,
            "resurrenders": returned.resurrenders,
            "status": [correction.status_before, correction.status_after],
            "penalty": trail.penalty,
        },
    )


@transactional
def apply_correction(session: Session, actor: Actor, report_id: int) -> ComplianceCorrection | None:
    """Recompute the enterprise's year from the approved corrected version ``report_id``.

    Returns the correction (the existing one when it was applied already: nothing changes),
    or None when there is nothing to correct: the version is the year's first approved one,
    or the compliance year is not open (the sweep reads the new figure when it is).
    Raises NotFound (report), Conflict (not approved, or a later version is approved)."""
    authorize(actor, "compliance.manage")
    report, verified_t = _approved_version(session, report_id)
    done = session.scalar(
        select(ComplianceCorrection).where(ComplianceCorrection.report_id == report_id)
    )
    if done is not None:
        return done
    previous = _previous_approved(session, report)
    found = session.scalar(select(ComplianceYear).where(ComplianceYear.year == report.year))
    if previous is None or previous.obligation_t is None or found is None:
        return None
    newer = _newer_approved(session, report)
    if newer is not None:
        raise Conflict(f"version {newer} of the {report.year} report supersedes this one")
    account = lock_compliance_account(session, report.enterprise_id)
    figures = (previous.obligation_t, verified_t)
    correction = _open_correction(session, actor, report, found, figures)
    trail = _cascade(session, actor, correction, found, account)
    session.flush()  # the figures above are final before the audit record reads them
    credit_code = session.get_one(Enterprise, correction.enterprise_id).credit_code
    _record(session, actor, correction, credit_code, trail)
    _notify(session, correction, credit_code, trail)
    return correction


def _approved_version(session: Session, report_id: int) -> tuple[EmissionReport, int]:
    """The report and its obligation figure, refused unless approved with one: only an
    approved version is a fact the year can be recomputed from."""
    report = session.get(EmissionReport, report_id)
    if report is None:
        raise NotFound(f"report {report_id} does not exist")
    if report.status is not ReportStatus.APPROVED or report.obligation_t is None:
        raise Conflict(f"report {report_id} is {report.status}; only approved ones apply")
    return report, report.obligation_t


def _open_correction(
    session: Session,
    actor: Actor,
    report: EmissionReport,
    found: ComplianceYear,
    figures: tuple[int, int],
) -> ComplianceCorrection:
    """The correction's row, both obligations (from the previous and the corrected
    ``figures``) and the status before, written first: its id names every downstream
    change (ledger memos, penalty rows) made after it."""
    owner, year = report.enterprise_id, report.year
    previous_t, verified_t = figures
    # As the last sweep left it (None: never swept); recomputing it now would already
    # read the new approved figure.
    before = queries.status_of(session, year, owner)
    correction = ComplianceCorrection(
        report_id=report.id,
        version=report.version,
        year=year,
        enterprise_id=owner,
        previous_obligation_t=_due(session, found, owner, previous_t),
        obligation_t=_due(session, found, owner, verified_t),
        returned_t=0,
        status_before=before,
        status_after=before or "",
        applied_at=clock_of(session).now(),
        applied_by=actor.name,
    )
    session.add(correction)
    session.flush()  # the id names the correction in the ledger memos and the penalty rows
    return correction


def _cascade(
    session: Session,
    actor: Actor,
    correction: ComplianceCorrection,
    found: ComplianceYear,
    account: Account,
) -> _Trail:
    """Everything downstream of the new obligation, in order: surrendered units beyond it
    (or beyond its offset cap) go back, the status is re-run, the penalty follows the new
    shortfall. Fills ``correction``'s results in; returns what was done, to be told."""
    owner, year = correction.enterprise_id, correction.year
    today = queries.today_of(session)
    caps = offset_caps(
        queries.book_of(found),
        obligation_t=correction.obligation_t,
        allocation_t=queries.allocations(session, year, owner).get(owner),
    )
    trail = _Trail(return_units(session, actor, correction, account, caps), caps)
    correction.returned_t = trail.returned.returned_t
    row = sweep_one(session, year, owner, today)
    correction.status_after = row[STATUS] if row is not None else "not_covered"
    shortfall = int(row[SHORTFALL]) if row is not None else 0
    trail.penalty = repenalise(session, actor, correction, found, shortfall, today)
    return trail


@transactional
def approve_and_apply(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Approve a verified report and, when it corrects an approved version, apply the
    cascade in the same unit of work: the approval and its consequences commit together.

    What the API and the web UI do through MRV's ``approve_and_publish`` and compliance's
    subscription to ``ReportApproved`` (``wiring.py``), for a caller that holds compliance
    already (a script, a test) and wants the cascade whether or not the features are wired.
    """
    report = reports.approve_report(session, actor, report_id)
    apply_correction(session, actor, report_id)
    return report


def apply_pending(session: Session, actor: Actor) -> list[ComplianceCorrection]:
    """Apply every approved corrected version not applied yet (approved outside the HTTP
    route, or before its compliance year was opened): the latest approved version of each
    enterprise and opened year, one unit of work each. The daily ``compliance_sweep`` runs
    it first; applying is idempotent, so nothing is applied twice."""
    newer = aliased(EmissionReport)
    later_approved = (
        select(newer.id)
        .where(
            newer.enterprise_id == EmissionReport.enterprise_id,
            newer.year == EmissionReport.year,
            newer.status == ReportStatus.APPROVED,
            newer.version > EmissionReport.version,
        )
        .exists()
    )
    pending = list(
        session.scalars(
            select(EmissionReport.id)
            .where(
                EmissionReport.status == ReportStatus.APPROVED,
                EmissionReport.version >= 2,  # a correction: not the first version
                EmissionReport.year.in_(select(ComplianceYear.year)),
                EmissionReport.id.not_in(select(ComplianceCorrection.report_id)),
                ~later_approved,
            )
            .order_by(EmissionReport.id)
        )
    )
    applied = each_in_own_unit(
        session, pending, lambda report_id: apply_correction(session, actor, report_id)
    )
    return [found for found in applied if found is not None]


def list_corrections(session: Session, actor: Actor, year: int) -> list[ComplianceCorrection]:
    """The year's applied corrections (an enterprise user: its own), newest first."""
    authorize(actor, "compliance.read")
    queries.load_year(session, year)
    query = select(ComplianceCorrection).where(ComplianceCorrection.year == year)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(ComplianceCorrection.enterprise_id == scope)
    return list(session.scalars(query.order_by(ComplianceCorrection.id.desc())))
