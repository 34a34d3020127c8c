"""A report's figures: checking its streams, computing them, and the review flags.

Everything here runs inside the report service's unit of work: the figures, the stream rows
and the flags are always written together, so a report never shows figures of other streams
than its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carbon_market.emitters.models import Facility
from carbon_market.kernel.db import config_of
from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.mrv.calculator import emissions as calc
from carbon_market.mrv.calculator.factor_sets import FactorLibrary
from carbon_market.mrv.factors.library import as_factor_set, find_factor_set
from carbon_market.mrv.factors.models import EmissionFactorSet
from carbon_market.mrv.reports import review
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import (
    QUANTITY_SCALE,
    EmissionReport,
    ReportFacility,
    ReportStream,
)
from carbon_market.mrv.reports.output import Output
from carbon_market.mrv.reports.schemas import stream_as_input
from finance.greenpower.claims import ClaimedGreenPower, claimed_for

#: Quantities are stored as ``ScaledDecimal(6)`` in a 64-bit integer: below 10**12.
MAX_QUANTITY = Decimal("1E12")
#: A report's CO2 is stored the same way (``CO2_SCALE`` = 6), and a verified figure is
#: limited to it too: each value of a stream may be in range while their product is not.
MAX_CO2 = Decimal("1E12")
#: Versions whose monthly data count as the enterprise's history for jump flags: what the
#: enterprise has filed and stood by, not a draft it may still be typing.
HISTORY_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.VERIFIED, ReportStatus.APPROVED)


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


@dataclass(frozen=True)
class Figures:
    """A report's computed figures: the set used, the calculation and the green power."""

    factor_set: EmissionFactorSet
    result: calc.Result
    green_power: ClaimedGreenPower

    def breakdown(self) -> dict[str, Any]:
        """The calculator's output plus what green power was claimed and deducted."""
        document = calc.result_as_json(self.result)
        deducted = sum(
            (s.factors_used.get("green_power_mwh", Decimal(0)) for s in self.result.streams),
            Decimal(0),
        )
        document["green_power"] = {
            "claimed_mwh": str(self.green_power.mwh),
            "deducted_mwh": str(deducted),
            "unused_mwh": str(self.green_power.mwh - deducted),
            "certificates": self.green_power.certificates,
        }
        return document


def _calculate(
    session: Session, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> tuple[Figures | None, list[FieldError]]:
    """The figures (None when the streams are bad) and every error in the streams."""
    stored = find_factor_set(session, year=year)  # ValidationFailed #/year when there is none
    library = FactorLibrary(sets=(as_factor_set(stored),))
    claimed = claimed_for(session, enterprise_id, year)
    errors: list[FieldError] = []
    result = None
    try:
        request = calc.parse_request({"year": year, "streams": streams}, library)
        result = calc.calculate(request, green_power_mwh=claimed.mwh)
    except calc.CalculationInputError as exc:
        errors += exc.errors
    if result is not None and result.co2_t >= MAX_CO2:
        detail = f"the streams add up to {result.co2_t} t CO2; a report holds below 1E12 t"
        errors.append(FieldError("#/streams", detail))
    errors += _stream_extra_errors(session, enterprise_id, streams)
    figures = None if result is None else Figures(stored, result, claimed)
    return figures, errors


def compute(
    session: Session, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> Figures:
    """The figures on the year's default set with the enterprise's green-power claims for
    the year, or ValidationFailed with every error."""
    figures, errors = _calculate(session, enterprise_id, year, streams)
    if errors or figures is None:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the streams; nothing was changed", errors=errors
        )
    return figures


def stream_errors(
    session: Session, *, enterprise_id: int, year: int, streams: list[dict[str, Any]]
) -> list[FieldError]:
    """Every problem :func:`compute` would find in ``streams`` (``#/streams/<i>/<field>``),
    returned instead of raised, so that a caller can report them together with its own
    (the workbook upload).

    No authorization: for services that have authorized their own action. Raises
    ValidationFailed (``#/year``) when no factor set applies to ``year``.
    """
    return _calculate(session, enterprise_id, year, streams)[1]


def stream_rows(streams: list[dict[str, Any]]) -> list[ReportStream]:
    """The rows to store for validated ``streams`` (``compute`` has accepted them)."""
    rows = []
    for index, raw in enumerate(streams):
        kind = calc.StreamKind(raw["kind"])
        code_key = calc.CODE_KEY[kind]
        quantity = _quantity(raw)
        if quantity is None:  # compute has refused such streams already
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


def _points(
    year: int, rows: list[ReportStream], breakdown: dict[str, Any], *, current: bool
) -> list[review.MonthlyPoint]:
    """Monthly points of a report's streams, quantities in their base unit (as the
    breakdown states them)."""
    points = []
    for row, stream in zip(rows, breakdown["streams"], strict=True):
        if row.month is None:
            continue
        points.append(
            review.MonthlyPoint(
                series=review.Series(row.facility_id, row.kind, row.code),
                year=year,
                month=row.month,
                quantity=Decimal(str(stream["factors_used"]["quantity"])),
                stream=row.position if current else None,
            )
        )
    return points


def _history(session: Session, enterprise_id: int, year: int) -> list[review.MonthlyPoint]:
    """The monthly points of the previous year's latest filed version, if any."""
    previous = session.scalar(
        select(EmissionReport)
        .where(
            EmissionReport.enterprise_id == enterprise_id,
            EmissionReport.year == year - 1,
            EmissionReport.status.in_(HISTORY_STATUSES),
        )
        .order_by(EmissionReport.version.desc())
        .limit(1)
        .options(selectinload(EmissionReport.streams))
    )
    if previous is None:
        return []
    return _points(previous.year, previous.streams, previous.breakdown, current=False)


def review_flags(
    session: Session, report: EmissionReport, rows: list[ReportStream], breakdown: dict[str, Any]
) -> list[dict[str, Any]]:
    """The flags of a report whose streams are ``rows`` and figures ``breakdown``."""
    ratio = config_of(session).mrv_monthly_jump_ratio
    current = _points(report.year, rows, breakdown, current=True)
    history = _history(session, report.enterprise_id, report.year) if current else []
    flags = [
        *review.range_flags(breakdown["streams"]),
        *review.jump_flags(current, history, ratio),
    ]
    flags.sort(key=lambda f: (f.stream, f.code, f.field))
    return [f.as_dict() for f in flags]


def apply(session: Session, report: EmissionReport, figures: Figures) -> None:
    """Store the figures and the flags of ``report``'s current streams."""
    report.factor_set_id = figures.factor_set.id
    report.co2_t = figures.result.co2_t
    report.breakdown = figures.breakdown()
    report.flags = review_flags(session, report, report.streams, report.breakdown)
    report.flag_count = len(report.flags)


def refresh_claims(session: Session, report: EmissionReport) -> bool:
    """Recompute ``report`` on its own streams when the enterprise's green-power claims for
    its year are no longer the ones its figures deduct; True when it did.

    A claim made while the report was submitted or verified leaves it alone; once returned
    and filed again, the same version must deduct that claim, or the certificates would be
    cancelled and never deducted. The streams are the report's own ``stream_as_input``.
    """
    stored = (report.breakdown.get("green_power") or {}).get("certificates", [])
    claimed = claimed_for(session, report.enterprise_id, report.year)
    if stored == claimed.certificates:
        return False
    streams = [stream_as_input(s) for s in report.streams]
    apply(session, report, compute(session, report.enterprise_id, report.year, streams))
    return True


def apply_output(report: EmissionReport, output: Output | None) -> None:
    """Store the year's output (None clears it)."""
    output = output or Output()
    report.output_quantity = output.quantity
    report.output_unit = output.unit
    report.output_value_10k_cny = output.value_10k_cny


def facility_rows(
    session: Session, enterprise_id: int, lines: list[dict[str, Any]]
) -> list[ReportFacility]:
    """The rows of a report's facility lines (the schema has checked their values), or
    ValidationFailed with every line naming another enterprise's facility or a facility
    already named (``#/facilities/<i>/facility``). Each facility once: allocation takes
    its figures from its one line."""
    own = set(session.scalars(select(Facility.id).where(Facility.enterprise_id == enterprise_id)))
    errors: list[FieldError] = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        facility = line["facility"]
        if facility not in own:
            detail = f"{facility!r} is not a facility of this enterprise"
            errors.append(FieldError(f"#/facilities/{index}/facility", detail))
        elif facility in seen:
            errors.append(FieldError(f"#/facilities/{index}/facility", "appears twice"))
        seen.add(facility)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the facility lines; nothing was changed", errors=errors
        )
    return [
        ReportFacility(
            facility_id=line["facility"],
            output_quantity=line.get("output"),
            heat_supply_ratio=line.get("heat_supply_ratio"),
            load_rate=line.get("load_rate"),
            heat_supplied_gj=line.get("heat_supplied_gj"),
        )
        for line in lines
    ]


def split_errors(
    report: EmissionReport, verified_co2_t: Decimal, split: list[dict[str, Any]] | None
) -> list[FieldError]:
    """Problems with a verifier's per-facility split of ``verified_co2_t``: a report with
    facility lines needs one figure per line, and together they make the report's figure
    exactly (the lines are the report, cut up; nothing is left over or counted twice)."""
    lines = {line.facility_id for line in report.facilities}
    if not lines:
        if split:
            return [FieldError("#/facilities", "the report has no facility lines to split over")]
        return []
    if split is None:
        return [FieldError("#/facilities", "required: the report has facility lines")]
    errors = []
    named = [entry["facility"] for entry in split]
    for index, facility in enumerate(named):
        if facility not in lines or named.index(facility) != index:
            detail = "not a facility line of the report, or named twice"
            errors.append(FieldError(f"#/facilities/{index}/facility", detail))
    missing = sorted(lines - set(named))
    if missing:
        errors.append(FieldError("#/facilities", f"no figure for facilities {missing}"))
    total = sum((entry["verified_co2_t"] for entry in split), Decimal(0))
    if not errors and total != verified_co2_t:
        detail = f"the facilities' figures add up to {total} t, not {verified_co2_t} t"
        errors.append(FieldError("#/facilities", detail))
    return errors


def apply_split(report: EmissionReport, split: list[dict[str, Any]] | None) -> None:
    """Store the verifier's per-facility figures (``split_errors`` has passed them); None
    clears them (a returned report is verified again)."""
    figures = {entry["facility"]: entry["verified_co2_t"] for entry in split or []}
    for line in report.facilities:
        line.verified_co2_t = figures.get(line.facility_id)
