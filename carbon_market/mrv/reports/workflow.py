"""Annual emission reports and their workflow (issue 5, item 3).

Rules:

* A report is one ``(enterprise, year, version)``. Enterprise users file drafts for their own
  enterprise; regulators for any. The streams are the calculator's input (plus an optional
  ``facility``, ``month`` 1-12 and ``evidence`` note each); the figures are computed with
  :mod:`carbon_market.mrv.calculator.emissions` on the year's default factor set and stored with
  the report.
  Streams filed month by month are simply more streams: the calculator adds them up.
* Status: ``draft`` → ``submitted`` (the enterprise; the factor set used is frozen) →
  ``verified`` (the assigned verifier) → ``approved`` (a regulator), or ``returned`` by a
  regulator from ``submitted`` or ``verified`` (editable and submittable again). A step
  from any other status is a Conflict, so doing a step twice is refused.
* An approved version is immutable. Filing the same enterprise and year again makes the next
  version, which goes through the same workflow; only one version may be open at a time.
* A verified figure that differs from the reported one by more than
  ``Config.mrv_verification_threshold`` (a fraction of the reported figure, default 5 %)
  needs a written reason.
* The obligation is the verified figure rounded once, half up, to whole tonnes
  (:func:`carbon_market.mrv.calculator.emissions.obligation`).
* Visibility: enterprise users see their own enterprise's reports, verifiers the reports
  assigned to them, regulators and auditors all. Anything else is NotFound, never
  PermissionDenied, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    FourEyesViolation,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.events import publish
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.mrv.calculator import emissions as calc
from carbon_market.mrv.factors.library import mark_frozen
from carbon_market.mrv.factors.models import EmissionFactorSet
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.events import ReportApproved
from carbon_market.mrv.reports.figures import (
    apply,
    apply_output,
    apply_split,
    compute,
    facility_rows,
    refresh_claims,
    split_errors,
    stream_rows,
)
from carbon_market.mrv.reports.indicators import monthly_co2
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.mrv.reports.output import Output
from carbon_market.mrv.reports.schemas import stream_as_input

REPORT_FIELDS = [
    "enterprise_id",
    "year",
    "version",
    "status",
    "factor_set_id",
    "co2_t",
    "output_quantity",
    "output_unit",
    "output_value_10k_cny",
    "flag_count",
]
EDITABLE = frozenset({ReportStatus.DRAFT, ReportStatus.RETURNED})
#: The statuses each workflow step starts from; a step from any other status is a Conflict.
#: One table, so that what a user is offered (the web UI shows a step's form only on these)
#: and what the service accepts cannot drift apart.
STEP_FROM: Final[Mapping[str, frozenset[ReportStatus]]] = MappingProxyType(
    {
        "submit": EDITABLE,
        "assign": frozenset({ReportStatus.SUBMITTED}),
        "verify": frozenset({ReportStatus.SUBMITTED}),
        "approve": frozenset({ReportStatus.VERIFIED}),
        "return": frozenset({ReportStatus.SUBMITTED, ReportStatus.VERIFIED}),
    }
)


class _Unchanged:
    """The marker of a field a partial edit (PATCH) leaves as it is."""


UNCHANGED: Final = _Unchanged()


@dataclass(frozen=True)
class ReportFilter:
    enterprise: str | None = None
    year: int | None = None
    status: ReportStatus | None = None
    #: True: only reports with review flags; False: only reports without.
    flagged: bool | None = None


def is_beyond_threshold(reported: Decimal, verified: Decimal, threshold: Decimal) -> bool:
    """Whether ``verified`` differs from ``reported`` by more than ``threshold`` × reported.

    A reported zero makes any non-zero verified figure a difference beyond the threshold.
    """
    return abs(verified - reported) > threshold * reported


# --- reads --------------------------------------------------------------------------------


def _load(session: Session, report_id: int, *, for_update: bool = False) -> EmissionReport:
    query = (
        select(EmissionReport)
        .where(EmissionReport.id == report_id)
        .options(selectinload(EmissionReport.streams), selectinload(EmissionReport.facilities))
    )
    if for_update:
        query = query.with_for_update()
    report = session.scalar(query)
    if report is None:
        raise NotFound(f"emission report {report_id} does not exist")
    return report


def _load_visible(
    session: Session, actor: Actor, report_id: int, action: str, *, for_update: bool = False
) -> EmissionReport:
    """Authorize ``action`` (role first), then load the report if ``actor`` may see it."""
    authorize(actor, action)
    report = _load(session, report_id, for_update=for_update)
    # The very answer _load gives for an id that does not exist: another tenant's report
    # (or, for a verifier, one not assigned to them) must not tell that its id is taken.
    missing = NotFound(f"emission report {report_id} does not exist")
    try:
        authorize(actor, action, enterprise_id=report.enterprise_id)
    except NotFound:
        raise missing from None
    if actor.role is Role.VERIFIER and report.verifier_id != actor.user_id:
        raise missing
    return report


def get_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """One report with its streams. NotFound when it does not exist or is not the actor's to
    see (another enterprise's; for a verifier, one not assigned to them)."""
    return _load_visible(session, actor, report_id, "reports.read")


def list_reports(
    session: Session,
    actor: Actor,
    *,
    filters: ReportFilter,
    page: PageRequest,
    newest_first: bool = False,
) -> Page[EmissionReport]:
    """Reports the actor may see, filtered by enterprise credit code, year and status.

    By year, enterprise and version (the API's order); ``newest_first``: the latest year
    first and, within a year, the latest filed first (a person reading the list in the web
    UI looks for what came in last)."""
    authorize(actor, "reports.read")
    query = select(EmissionReport)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(EmissionReport.enterprise_id == scope)
    if actor.role is Role.VERIFIER:
        query = query.where(EmissionReport.verifier_id == actor.user_id)
    if filters.enterprise:
        query = query.join(Enterprise, Enterprise.id == EmissionReport.enterprise_id).where(
            Enterprise.credit_code == filters.enterprise
        )
    if filters.year is not None:
        query = query.where(EmissionReport.year == filters.year)
    if filters.status:
        query = query.where(EmissionReport.status == filters.status)
    if filters.flagged is not None:
        flagged = EmissionReport.flag_count > 0
        query = query.where(flagged if filters.flagged else ~flagged)
    order = (
        (EmissionReport.year.desc(), EmissionReport.id.desc())
        if newest_first
        else (EmissionReport.year, EmissionReport.enterprise_id, EmissionReport.version)
    )
    return paginate(session, query.order_by(*order), page)


# --- writes -------------------------------------------------------------------------------


def writable_enterprise(session: Session, actor: Actor, credit_code: str) -> Enterprise:
    """The enterprise whose reports ``actor`` files, by credit code. NotFound when there is
    none or it is another tenant's (the same answer, so codes cannot be probed)."""
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if found is None:
        raise NotFound(f"no enterprise with credit code {credit_code}")
    authorize(actor, "reports.write", enterprise_id=found.id)
    return found


@transactional
def create_report(
    session: Session,
    actor: Actor,
    *,
    enterprise: str,
    year: int,
    streams: list[dict[str, Any]],
    output: Output | None = None,
    facilities: list[dict[str, Any]] | None = None,
) -> EmissionReport:
    """File a draft report for the enterprise with credit code ``enterprise`` and ``year``,
    with the year's ``output`` if given (the intensity denominators) and its per-facility
    lines (``facilities``: facility, output and the power corrections' yearly inputs).

    Enterprise users for their own enterprise, regulators for any. When the year's latest
    version is approved, this is the next version (a correction). Raises NotFound for an
    unknown (or another tenant's) enterprise, ValidationFailed with every bad stream field or
    a year with no factor set, Conflict while a version of that year is still open.
    """
    authorize(actor, "reports.write")
    found = writable_enterprise(session, actor, enterprise)
    latest = session.scalar(
        select(EmissionReport)
        .where(EmissionReport.enterprise_id == found.id, EmissionReport.year == year)
        .order_by(EmissionReport.version.desc())
        .limit(1)
    )
    if latest is not None and latest.status is not ReportStatus.APPROVED:
        raise Conflict(
            f"report {latest.id} (version {latest.version}) for {year} is {latest.status}; "
            "edit it instead of filing another"
        )
    figures = compute(session, found.id, year, streams)
    lines = facility_rows(session, found.id, facilities or [])
    now = clock_of(session).now()
    report = EmissionReport(
        enterprise_id=found.id,
        year=year,
        version=latest.version + 1 if latest else 1,
        status=ReportStatus.DRAFT,
        return_reasons=[],
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        streams=stream_rows(streams),
        facilities=lines,
    )
    apply(session, report, figures)
    apply_output(report, output)
    session.add(report)
    try:
        session.flush()  # the audit record names the report by its id; UNIQUE(version)
    except IntegrityError as exc:  # a concurrent request filed the same version first
        raise Conflict(f"a report for {year} was filed concurrently; retry") from exc
    _audit(session, actor, report, "create")
    return report


@transactional
def update_report(
    session: Session,
    actor: Actor,
    report_id: int,
    *,
    streams: list[dict[str, Any]] | _Unchanged = UNCHANGED,
    output: Output | _Unchanged | None = UNCHANGED,
    facilities: list[dict[str, Any]] | _Unchanged = UNCHANGED,
) -> EmissionReport:
    """Edit a draft (or a returned report): replace its streams and recompute its figures
    and flags, set its output (None clears it), and/or replace its facility lines. A field
    left ``UNCHANGED`` keeps its value, which makes PATCH; PUT passes all three.

    Enterprise users for their own reports, regulators for any. Raises NotFound, Conflict
    when the report is not editable (submitted, verified, approved), ValidationFailed.
    """
    report = _load_visible(session, actor, report_id, "reports.write", for_update=True)
    if report.status not in EDITABLE:
        raise Conflict(f"report {report_id} is {report.status}; only drafts can be edited")
    before = snapshot(report, REPORT_FIELDS) | {"facilities": facility_snapshot(report)}
    if not isinstance(streams, _Unchanged):
        figures = compute(session, report.enterprise_id, report.year, streams)
        report.streams.clear()
        session.flush()  # delete the old streams before their positions are reused (UNIQUE)
        report.streams.extend(stream_rows(streams))
        apply(session, report, figures)
    if not isinstance(output, _Unchanged):
        apply_output(report, output)
    if not isinstance(facilities, _Unchanged):
        lines = facility_rows(session, report.enterprise_id, facilities)
        report.facilities.clear()
        session.flush()  # delete the old lines before a facility is named again (UNIQUE)
        report.facilities.extend(lines)
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "update", before=before)
    return report


@transactional
def recompute_open_report(
    session: Session, actor: Actor, enterprise_id: int, year: int
) -> EmissionReport | None:
    """Recompute the enterprise's open (draft or returned) report of ``year`` after
    something it depends on changed (a green-power claim), on its own streams. Submitted
    versions keep what was filed. Returns the report, or None when none is open.

    Called inside the unit of work of the change, by a service that authorized its actor.
    """
    report = session.scalar(
        select(EmissionReport)
        .where(
            EmissionReport.enterprise_id == enterprise_id,
            EmissionReport.year == year,
            EmissionReport.status.in_(EDITABLE),
        )
        .options(selectinload(EmissionReport.streams), selectinload(EmissionReport.facilities))
        .with_for_update()
    )
    if report is None:
        return None
    before = snapshot(report, REPORT_FIELDS)
    figures = compute(session, enterprise_id, year, [stream_as_input(s) for s in report.streams])
    apply(session, report, figures)
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "recompute", before=before)
    return report


def _require(report: EmissionReport, allowed: Set[ReportStatus], step: str) -> None:
    if report.status not in allowed:
        expected = " or ".join(sorted(allowed))
        raise Conflict(f"report {report.id} is {report.status}; only {expected} can be {step}")


@transactional
def submit_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Submit a draft or returned report for verification. Enterprise users, own reports.

    First recomputes the figures if the enterprise's green-power claims for the year changed
    since they were computed (a claim made while an earlier submission was under review),
    so that what is filed deducts every claim once. Freezes the factor set the figures were
    computed with. Raises NotFound, Conflict when the report is not a draft or returned
    (submitting twice).
    """
    report = _load_visible(session, actor, report_id, "reports.submit", for_update=True)
    _require(report, STEP_FROM["submit"], "submitted")
    before = snapshot(report, ["status", "co2_t"])
    refresh_claims(session, report)
    factor_set = session.scalar(
        select(EmissionFactorSet)
        .where(EmissionFactorSet.id == report.factor_set_id)
        .with_for_update()
    )
    if factor_set is None:  # the foreign key keeps it (RESTRICT)
        raise NotFound(f"factor set {report.factor_set_id} does not exist")
    mark_frozen(session, actor, factor_set)
    now = clock_of(session).now()
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = report.updated_at = now
    _audit(session, actor, report, "submit", before=before)
    return report


@transactional
def assign_verifier(
    session: Session, actor: Actor, report_id: int, *, verifier: str
) -> EmissionReport:
    """Assign the verifier user named ``verifier`` to a submitted report. Regulators only.

    Raises NotFound, Conflict when the report is not submitted, ValidationFailed
    (``#/verifier``) when no active user of role verifier has that name.
    """
    report = _load_visible(session, actor, report_id, "reports.assign", for_update=True)
    _require(report, STEP_FROM["assign"], "assigned")
    user = session.scalar(select(User).where(User.name == verifier))
    if user is None or user.role is not Role.VERIFIER or not user.is_active:
        raise ValidationFailed(
            f"{verifier!r} is not an active verifier",
            errors=[FieldError("#/verifier", "not an active user of role verifier")],
        )
    before = {"verifier_id": report.verifier_id}
    report.verifier_id = user.id
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "assign", before=before, extra={"verifier": user.name})
    return report


@transactional
def verify_report(
    session: Session,
    actor: Actor,
    report_id: int,
    *,
    verified_co2_t: Decimal,
    opinion: str,
    reason: str = "",
    facilities: list[dict[str, Any]] | None = None,
) -> EmissionReport:
    """Record the verified emissions and the opinion. Only the assigned verifier. A report
    with facility lines needs the figure split over them (``facilities``: one
    ``{facility, verified_co2_t}`` per line, adding up to ``verified_co2_t`` exactly), so
    that allocation gives each facility its own verified emissions.

    Raises NotFound (also for a report not assigned to the actor), Conflict when the report
    is not submitted, ValidationFailed (``#/facilities…``) for a missing or inexact split,
    RuleViolation (``#/reason``) when the figure differs from the reported one beyond the
    configured threshold and no reason is given.
    """
    report = _load_visible(session, actor, report_id, "reports.verify", for_update=True)
    _require(report, STEP_FROM["verify"], "verified")
    errors = split_errors(report, verified_co2_t, facilities)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the per-facility figures; nothing was changed",
            errors=errors,
        )
    threshold = config_of(session).mrv_verification_threshold
    if is_beyond_threshold(report.co2_t, verified_co2_t, threshold) and not reason.strip():
        raise RuleViolation(
            f"the verified {verified_co2_t} t differs from the reported {report.co2_t} t by "
            f"more than {threshold:%}; give the reason",
            errors=[FieldError("#/reason", "required above the threshold", "reports.reason")],
        )
    before = snapshot(report, ["status"])
    now = clock_of(session).now()
    report.status = ReportStatus.VERIFIED
    report.verified_co2_t = verified_co2_t
    apply_split(report, facilities)
    report.opinion = opinion
    report.reason = reason.strip() or None
    report.verified_at = report.updated_at = now
    _audit(session, actor, report, "verify", before=before)
    return report


@transactional
def approve_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Approve a verified report: its obligation becomes the verified figure rounded once,
    half up, to whole tonnes; the version is immutable from then on. Regulators only, and
    not the regulator who filed it: the approved figure becomes an obligation, so whoever
    typed the figures in must not also be the one who signs them off.

    Raises NotFound, Conflict when the report is not verified, FourEyesViolation.
    """
    report = _load_visible(session, actor, report_id, "reports.decide", for_update=True)
    _require(report, STEP_FROM["approve"], "approved")
    if report.created_by == actor.name:
        raise FourEyesViolation(
            f"report {report_id} was filed by {actor.name}; another regulator must approve it"
        )
    if report.verified_co2_t is None:  # verify_report always sets it with the status
        raise Conflict(f"report {report_id} has no verified figure")
    before = snapshot(report, ["status"])
    now = clock_of(session).now()
    report.status = ReportStatus.APPROVED
    report.obligation_t = calc.obligation(report.verified_co2_t)
    report.approved_at = report.updated_at = now
    _audit(session, actor, report, "approve", before=before)
    return report


@transactional
def approve_and_publish(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Approve the report (:func:`approve_report`, same rules and errors) and publish
    :class:`~carbon_market.mrv.reports.events.ReportApproved` in the same unit of work: the
    features above MRV act on it there (compliance applies a corrected version's cascade),
    so the approval and its consequences commit together. The API and the web UI approve
    through this; :func:`approve_report` alone leaves the consequences to the daily sweep.
    """
    report = approve_report(session, actor, report_id)
    publish(session, ReportApproved(actor, report.id))
    return report


@transactional
def return_report(
    session: Session, actor: Actor, report_id: int, *, reasons: list[str]
) -> EmissionReport:
    """Return a submitted or verified report to the enterprise with ``reasons``; it becomes
    editable again and the verification is cleared. Regulators only.

    Raises NotFound, Conflict when the report is neither submitted nor verified.
    """
    report = _load_visible(session, actor, report_id, "reports.decide", for_update=True)
    _require(report, STEP_FROM["return"], "returned")
    before = snapshot(report, ["status"])
    report.status = ReportStatus.RETURNED
    report.return_reasons = list(reasons)
    report.verified_co2_t = None
    apply_split(report, None)
    report.opinion = report.reason = None
    report.verified_at = None
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "return", before=before)
    return report


def facility_snapshot(report: EmissionReport) -> list[dict[str, Any]]:
    """The report's facility lines for the audit log (decimals as strings)."""
    fields = ["facility_id", "output_quantity", "heat_supply_ratio", "load_rate"]
    return [
        snapshot(line, [*fields, "heat_supplied_gj", "verified_co2_t"])
        for line in report.facilities
    ]


def _audit(
    session: Session,
    actor: Actor,
    report: EmissionReport,
    step: str,
    *,
    before: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    after = snapshot(report, [*REPORT_FIELDS, "verified_co2_t", "obligation_t", "return_reasons"])
    after["facilities"] = facility_snapshot(report)
    record(session, actor, action=f"emission_report:{step}", entity_type="emission_report",
           entity_id=report.id, before=before, after=after | (extra or {}))  # fmt: skip


def monthly_series(
    session: Session, actor: Actor, enterprise_id: int, year: int
) -> dict[int, Decimal]:
    """CO2 by month of the latest version of ``enterprise_id``'s ``year`` report, whatever its
    status: the compliance forecast's input (months without streams are absent; streams
    filed for the whole year are not in it). Empty when there is no report.
    """
    authorize(actor, "reports.read", enterprise_id=enterprise_id)
    latest = session.scalar(
        select(EmissionReport)
        .where(EmissionReport.enterprise_id == enterprise_id, EmissionReport.year == year)
        .order_by(EmissionReport.version.desc())
        .limit(1)
        .options(selectinload(EmissionReport.streams))
    )
    if latest is None:
        return {}
    by_month, _annual = monthly_co2([s.month for s in latest.streams], latest.breakdown["streams"])
    return by_month
