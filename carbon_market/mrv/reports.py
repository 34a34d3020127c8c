"""Annual emission reports and their workflow (issue 5, item 3).

Rules:

* A report is one ``(enterprise, year, version)``. Enterprise users file drafts for their own
  enterprise; regulators for any. The streams are the calculator's input (plus an optional
  ``facility``, ``month`` 1-12 and ``evidence`` note each); the figures are computed with
  :mod:`carbon_market.mrv.calc` on the year's default factor set and stored with the report.
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
  (:func:`carbon_market.mrv.calc.obligation`).
* Visibility: enterprise users see their own enterprise's reports, verifiers the reports
  assigned to them, regulators and auditors all. Anything else is NotFound, never
  PermissionDenied, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carbon_market.audit.service import record, snapshot
from carbon_market.auth.models import User
from carbon_market.auth.policy import authorize, tenant_scope
from carbon_market.auth.roles import Actor, Role
from carbon_market.db import clock_of, config_of, transactional
from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.errors import Conflict, FieldError, NotFound, RuleViolation, ValidationFailed
from carbon_market.mrv import calc
from carbon_market.mrv.factor_library import as_factor_set, find_factor_set, mark_frozen
from carbon_market.mrv.factors import FactorLibrary
from carbon_market.mrv.models import EmissionFactorSet
from carbon_market.mrv.reports_models import (
    QUANTITY_SCALE,
    EmissionReport,
    ReportStatus,
    ReportStream,
)
from carbon_market.pagination import Page, PageRequest, paginate

REPORT_FIELDS = ["enterprise_id", "year", "version", "status", "factor_set_id", "co2_t"]
EDITABLE = frozenset({ReportStatus.DRAFT, ReportStatus.RETURNED})
#: Quantities are stored as ``ScaledDecimal(6)`` in a 64-bit integer: below 10**12.
MAX_QUANTITY = Decimal("1E12")


@dataclass(frozen=True)
class ReportFilter:
    enterprise: str | None = None
    year: int | None = None
    status: ReportStatus | None = None


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
        .options(selectinload(EmissionReport.streams))
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
    authorize(actor, action, enterprise_id=report.enterprise_id)
    if actor.role is Role.VERIFIER and report.verifier_id != actor.user_id:
        raise NotFound(f"emission report {report_id} does not exist")
    return report


def get_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """One report with its streams. NotFound when it does not exist or is not the actor's to
    see (another enterprise's; for a verifier, one not assigned to them)."""
    return _load_visible(session, actor, report_id, "reports.read")


def list_reports(
    session: Session, actor: Actor, *, filters: ReportFilter, page: PageRequest
) -> Page[EmissionReport]:
    """Reports the actor may see, filtered by enterprise credit code, year and status."""
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
    order = (EmissionReport.year, EmissionReport.enterprise_id, EmissionReport.version)
    return paginate(session, query.order_by(*order), page)


# --- streams and figures ------------------------------------------------------------------


def _stream_extra_errors(
    session: Session, enterprise_id: int, streams: list[dict[str, Any]]
) -> list[FieldError]:
    """Problems with what the calculator does not check: storage range, facility, month,
    evidence."""
    errors: list[FieldError] = []
    own = set(session.scalars(select(Facility.id).where(Facility.enterprise_id == enterprise_id)))
    for index, raw in enumerate(streams):
        at = f"#/streams/{index}"
        quantity = _quantity(raw)
        if quantity is not None and (quantity >= MAX_QUANTITY or _has_more_places(quantity)):
            detail = f"must be below 1E12 with at most {QUANTITY_SCALE} decimal places"
            errors.append(FieldError(f"{at}/quantity", detail))
        facility = raw.get("facility")
        if facility is not None and (
            isinstance(facility, bool) or not isinstance(facility, int) or facility not in own
        ):
            errors.append(FieldError(f"{at}/facility", f"{facility!r} is not a facility of yours"))
        month = raw.get("month")
        if month is not None and (
            isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12
        ):
            errors.append(FieldError(f"{at}/month", f"{month!r} is not a month (1-12)"))
        evidence = raw.get("evidence")
        if evidence is not None and (not isinstance(evidence, str) or len(evidence) > 1000):
            errors.append(FieldError(f"{at}/evidence", "must be text of at most 1000 characters"))
    return errors


def _has_more_places(number: Decimal) -> bool:
    scaled = number.scaleb(QUANTITY_SCALE)
    return scaled != scaled.to_integral_value()


def _quantity(raw: dict[str, Any]) -> Decimal | None:
    value = raw.get("quantity")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None  # the calculator reports it
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _calculate(
    session: Session, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> tuple[EmissionFactorSet, calc.Result | None, list[FieldError]]:
    """The year's default set, the calculation (None if the streams are bad) and every error."""
    stored = find_factor_set(session, year=year)  # ValidationFailed #/year when there is none
    library = FactorLibrary(sets=(as_factor_set(stored),))
    errors: list[FieldError] = []
    result = None
    try:
        result = calc.calculate(calc.parse_request({"year": year, "streams": streams}, library))
    except calc.CalculationInputError as exc:
        errors += exc.errors
    errors += _stream_extra_errors(session, enterprise_id, streams)
    return stored, result, errors


def stream_errors(
    session: Session, *, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> list[FieldError]:
    """Every problem :func:`create_report` and :func:`update_report` would find in
    ``streams`` (``#/streams/<i>/<field>``), returned instead of raised, so that a caller
    can report them together with its own (the workbook upload).

    No authorization: for services that have authorized their own action. Raises
    ValidationFailed (``#/year``) when no factor set applies to ``year``.
    """
    return _calculate(session, enterprise_id, year, streams)[2]


def _compute(
    session: Session, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> tuple[EmissionFactorSet, calc.Result]:
    """The year's default set and the calculation, or ValidationFailed with every error."""
    stored, result, errors = _calculate(session, enterprise_id, year, streams)
    if errors or result is None:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the streams; nothing was changed", errors=errors
        )
    return stored, result


def _stream_rows(streams: list[dict[str, Any]]) -> list[ReportStream]:
    rows = []
    for index, raw in enumerate(streams):
        kind = calc.StreamKind(raw["kind"])
        code_key = calc.CODE_KEY[kind]
        quantity = _quantity(raw)
        if quantity is None:  # _compute has refused such streams already
            raise ValueError(f"stream {index} has no quantity")
        rows.append(
            ReportStream(
                position=index,
                kind=kind.value,
                code=raw.get(code_key) if code_key else None,
                quantity=quantity + 0,  # -0 → 0
                unit=raw["unit"],
                facility_id=raw.get("facility"),
                month=raw.get("month"),
                evidence=raw.get("evidence"),
                factors={k: str(v) for k, v in (raw.get("factors") or {}).items()},
                pollutants={k: str(v) for k, v in (raw.get("pollutants") or {}).items()},
            )
        )
    return rows


def _apply(report: EmissionReport, stored: EmissionFactorSet, result: calc.Result) -> None:
    report.factor_set_id = stored.id
    report.co2_t = result.co2_t
    report.breakdown = calc.result_as_json(result)


# --- writes -------------------------------------------------------------------------------


@transactional
def create_report(
    session: Session, actor: Actor, *, enterprise: str, year: int, streams: list[dict[str, Any]]
) -> EmissionReport:
    """File a draft report for the enterprise with credit code ``enterprise`` and ``year``.

    Enterprise users for their own enterprise, regulators for any. When the year's latest
    version is approved, this is the next version (a correction). Raises NotFound for an
    unknown (or another tenant's) enterprise, ValidationFailed with every bad stream field or
    a year with no factor set, Conflict while a version of that year is still open.
    """
    authorize(actor, "reports.write")
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == enterprise))
    if found is None:
        raise NotFound(f"no enterprise with credit code {enterprise}")
    authorize(actor, "reports.write", enterprise_id=found.id)
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
    stored, result = _compute(session, found.id, year, streams)
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
        streams=_stream_rows(streams),
    )
    _apply(report, stored, result)
    session.add(report)
    try:
        session.flush()  # the audit record names the report by its id; UNIQUE(version)
    except IntegrityError as exc:  # a concurrent request filed the same version first
        raise Conflict(f"a report for {year} was filed concurrently; retry") from exc
    _audit(session, actor, report, "create")
    return report


@transactional
def update_report(
    session: Session, actor: Actor, report_id: int, *, streams: list[dict[str, Any]]
) -> EmissionReport:
    """Replace a draft's (or a returned report's) streams and recompute its figures.

    Enterprise users for their own reports, regulators for any. Raises NotFound, Conflict
    when the report is not editable (submitted, verified, approved), ValidationFailed.
    """
    report = _load_visible(session, actor, report_id, "reports.write", for_update=True)
    if report.status not in EDITABLE:
        raise Conflict(f"report {report_id} is {report.status}; only drafts can be edited")
    stored, result = _compute(session, report.enterprise_id, report.year, streams)
    before = snapshot(report, REPORT_FIELDS)
    report.streams.clear()
    session.flush()  # delete the old streams before their positions are reused (UNIQUE)
    report.streams.extend(_stream_rows(streams))
    _apply(report, stored, result)
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "update", before=before)
    return report


def _require(report: EmissionReport, allowed: set[ReportStatus], step: str) -> None:
    if report.status not in allowed:
        expected = " or ".join(sorted(allowed))
        raise Conflict(f"report {report.id} is {report.status}; only {expected} can be {step}")


@transactional
def submit_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Submit a draft or returned report for verification. Enterprise users, own reports.

    Freezes the factor set the figures were computed with. Raises NotFound, Conflict when
    the report is not a draft or returned (submitting twice).
    """
    report = _load_visible(session, actor, report_id, "reports.submit", for_update=True)
    _require(report, set(EDITABLE), "submitted")
    before = snapshot(report, ["status"])
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
    _require(report, {ReportStatus.SUBMITTED}, "assigned")
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
) -> EmissionReport:
    """Record the verified emissions and the opinion. Only the assigned verifier.

    Raises NotFound (also for a report not assigned to the actor), Conflict when the report
    is not submitted, RuleViolation (``#/reason``) when the figure differs from the reported
    one beyond the configured threshold and no reason is given.
    """
    report = _load_visible(session, actor, report_id, "reports.verify", for_update=True)
    _require(report, {ReportStatus.SUBMITTED}, "verified")
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
    report.opinion = opinion
    report.reason = reason.strip() or None
    report.verified_at = report.updated_at = now
    _audit(session, actor, report, "verify", before=before)
    return report


@transactional
def approve_report(session: Session, actor: Actor, report_id: int) -> EmissionReport:
    """Approve a verified report: its obligation becomes the verified figure rounded once,
    half up, to whole tonnes; the version is immutable from then on. Regulators only.

    Raises NotFound, Conflict when the report is not verified.
    """
    report = _load_visible(session, actor, report_id, "reports.decide", for_update=True)
    _require(report, {ReportStatus.VERIFIED}, "approved")
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
def return_report(
    session: Session, actor: Actor, report_id: int, *, reasons: list[str]
) -> EmissionReport:
    """Return a submitted or verified report to the enterprise with ``reasons``; it becomes
    editable again and the verification is cleared. Regulators only.

    Raises NotFound, Conflict when the report is neither submitted nor verified.
    """
    report = _load_visible(session, actor, report_id, "reports.decide", for_update=True)
    _require(report, {ReportStatus.SUBMITTED, ReportStatus.VERIFIED}, "returned")
    before = snapshot(report, ["status"])
    report.status = ReportStatus.RETURNED
    report.return_reasons = list(reasons)
    report.verified_co2_t = None
    report.opinion = report.reason = None
    report.verified_at = None
    report.updated_at = clock_of(session).now()
    _audit(session, actor, report, "return", before=before)
    return report


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
    record(session, actor, action=f"emission_report:{step}", entity_type="emission_report",
           entity_id=report.id, before=before, after=after | (extra or {}))  # fmt: skip
