"""The Excel round trip of emission reports (issue 5, item 4): enterprises download an XLSX
template for their facilities and year, fill it in, and upload it as a draft (or as a
draft's new streams).

Rules:

* Who: as for writing reports (``reports.write``): enterprise users for their own
  enterprise, regulators for any; another enterprise's is NotFound, other roles are refused.
* The template lists the codes and units of the year's default factor set (the set the
  report will be computed with) and the enterprise's facilities, with a place for each
  one's facility line; with ``report_id`` its ``streams`` sheet holds that report's streams
  and its ``facilities`` sheet the report's lines, so a draft can be downloaded, edited and
  uploaded back.
* Facility lines: a workbook with the facilities sheet's figure columns files its lines
  exactly like the JSON API's ``facilities`` member (the same schema, the same service), so
  an upload that fills none files none and a ``PUT`` replaces the report's lines with the
  workbook's. A workbook without those columns (a template made before them) says nothing
  about lines: a new draft has none, and a ``PUT`` leaves the report's lines as they are
  (as it leaves the report's output, which the workbook does not carry).
* An upload is all or nothing: every bad cell of the workbook is reported at once, each with
  its sheet, row (header = 1) and column, and nothing is saved while any remains. The rules
  of streams are the report service's own (:func:`carbon_market.mrv.reports.workflow.create_report`
  and ``update_report`` do the saving); this module only maps their errors back to cells.

The pure parts are :mod:`~carbon_market.mrv.xlsx.template` (``build_template``) and
:mod:`~carbon_market.mrv.xlsx.reading` (``read_streams``), both re-exported here.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    marshmallow_errors,
)
from carbon_market.mrv.factors.library import XLSX, ExportFile, as_factor_set, find_factor_set
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.figures import stream_errors
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.mrv.reports.schemas import FacilityLineSchema, facility_lines, stream_as_input
from carbon_market.mrv.xlsx.layout import FacilityRef, WorkbookContext, invalid, locate, merge
from carbon_market.mrv.xlsx.reading import StreamSheet, read_streams, read_workbook
from carbon_market.mrv.xlsx.template import build_template

__all__ = [
    "build_template",
    "create_report_from_workbook",
    "get_report_template",
    "read_streams",
    "update_report_from_workbook",
]


def _context(session: Session, enterprise: Enterprise, year: int) -> WorkbookContext:
    """The enterprise's facilities and the year's default factor set (ValidationFailed
    ``#/year`` when none applies)."""
    stored = find_factor_set(session, year=year)
    facilities = session.scalars(
        select(Facility).where(Facility.enterprise_id == enterprise.id).order_by(Facility.id)
    )
    return WorkbookContext(
        credit_code=enterprise.credit_code,
        enterprise_name=enterprise.name,
        year=year,
        factor_set=as_factor_set(stored),
        factor_set_label=f"{stored.name} v{stored.version}",
        facilities=tuple(FacilityRef(f.id, f.name, f.facility_type) for f in facilities),
    )


def get_report_template(
    session: Session, actor: Actor, *, enterprise: str, year: int, report_id: int | None = None
) -> ExportFile:
    """The XLSX template for the enterprise with credit code ``enterprise`` and ``year``;
    with ``report_id``, prefilled with that report's streams.

    Enterprise users for their own enterprise, regulators for any. Raises NotFound (unknown
    or another tenant's enterprise or report), ValidationFailed when no factor set applies to
    the year or the report is not the enterprise's report for that year.
    """
    authorize(actor, "reports.write")
    found = reports.writable_enterprise(session, actor, enterprise)
    streams: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    if report_id is not None:
        report = reports.get_report(session, actor, report_id)
        if (report.enterprise_id, report.year) != (found.id, year):
            detail = f"report {report_id} is not the report of {enterprise} for {year}"
            error = FieldError("#/query/report", detail, "reports.other_report")
            raise ValidationFailed(detail, errors=[error])
        streams = [stream_as_input(stream) for stream in report.streams]
        lines = facility_lines(report)
    context = _context(session, found, year)
    content = build_template(context, streams, lines=lines, report_id=report_id)
    return ExportFile(f"report-{found.credit_code}-{year}.xlsx", XLSX, content)


def _load_lines(sheet: StreamSheet) -> tuple[list[dict[str, Any]] | None, list[FieldError]]:
    """The sheet's facility lines loaded as the JSON API loads them (``FacilityLineSchema``:
    ranges and places), and the errors at ``#/facilities/<i>/<field>``. The reader has
    already named every line's facility, or reported why it could not."""
    if sheet.lines is None:
        return None, []
    schema = FacilityLineSchema()
    loaded, errors = [], []
    for index, line in enumerate(sheet.lines):
        try:
            loaded.append(schema.load(line))
        except ValidationError as exc:
            messages = {k: v for k, v in exc.messages_dict.items() if k != "facility"}
            errors += marshmallow_errors(messages, f"#/facilities/{index}")
    return loaded, errors


def _read(
    session: Session, enterprise: Enterprise, year: int, data: bytes
) -> tuple[StreamSheet, list[dict[str, Any]] | None]:
    """The workbook's streams and facility lines (None: the workbook has no figure columns),
    or ValidationFailed with every problem of the workbook: the reader's, the line schema's
    and, when any remains, the report service's on the streams the reader could read."""
    sheet = read_workbook(data, _context(session, enterprise, year))
    lines, line_errors = _load_lines(sheet)
    if sheet.errors or line_errors:
        found = [*sheet.errors, *locate(line_errors, sheet.rows, sheet.line_rows)]
        if sheet.streams:
            service = stream_errors(
                session, enterprise_id=enterprise.id, year=year, streams=sheet.streams
            )
            found += locate(service, sheet.rows)
        raise invalid(merge(found))
    return sheet, lines


@transactional
def create_report_from_workbook(
    session: Session, actor: Actor, *, enterprise: str, year: int, data: bytes
) -> EmissionReport:
    """File a draft report from an uploaded workbook (streams and facility lines), exactly
    as :func:`~carbon_market.mrv.reports.workflow.create_report` files one from JSON.

    Raises UnreadableFile (not an XLSX), ValidationFailed listing every bad cell (sheet, row,
    column), and whatever ``create_report`` raises (NotFound, Conflict).
    """
    authorize(actor, "reports.write")
    found = reports.writable_enterprise(session, actor, enterprise)
    sheet, lines = _read(session, found, year, data)
    try:
        return reports.create_report(
            session,
            actor,
            enterprise=found.credit_code,
            year=year,
            streams=sheet.streams,
            facilities=lines,
        )
    except ValidationFailed as exc:
        raise invalid(merge(locate(exc.errors, sheet.rows, sheet.line_rows))) from exc


@transactional
def update_report_from_workbook(
    session: Session, actor: Actor, report_id: int, *, data: bytes
) -> EmissionReport:
    """Replace a draft's (or returned report's) streams, and its facility lines when the
    workbook has the facilities sheet's figure columns, with an uploaded workbook's, exactly
    as :func:`~carbon_market.mrv.reports.workflow.update_report` does with JSON.

    Raises NotFound, Conflict (a report that is not editable, before the file is read),
    UnreadableFile, ValidationFailed listing every bad cell (sheet, row, column).
    """
    authorize(actor, "reports.write")
    report = reports.get_report(session, actor, report_id)
    if report.status not in reports.EDITABLE:
        raise Conflict(f"report {report_id} is {report.status}; only drafts can be edited")
    enterprise = session.get(Enterprise, report.enterprise_id)
    if enterprise is None:  # the foreign key keeps it (RESTRICT)
        raise NotFound(f"enterprise {report.enterprise_id} does not exist")
    sheet, lines = _read(session, enterprise, report.year, data)
    try:
        if lines is None:  # the workbook says nothing about lines: they stay
            return reports.update_report(session, actor, report_id, streams=sheet.streams)
        return reports.update_report(
            session, actor, report_id, streams=sheet.streams, facilities=lines
        )
    except ValidationFailed as exc:
        raise invalid(merge(locate(exc.errors, sheet.rows, sheet.line_rows))) from exc
