"""The emission report pages: the reports a user may see, and one report with the forms
of the workflow steps the user may take on it (the steps themselves: ``report_actions``).

The figures are dumped with the API's own response schemas, so every decimal is the very
string ``GET /api/v1/reports`` gives (never a float, never re-rounded here).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.views import bp, query_filters, render, requested_page
from carbon_market.kernel.access.policy import is_allowed
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.db import config_of
from carbon_market.kernel.errors import DomainError
from carbon_market.kernel.http import db_session
from carbon_market.kernel.pagination import PageRequest
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.schemas import (
    ReportQueryArgsSchema,
    ReportSchema,
    ReportSummarySchema,
)

#: The list's filters (query parameters), as the API names them.
FILTERS = ("year", "status")
#: Versions of one enterprise's year shown on a report's page (a year has a handful).
VERSIONS_SHOWN = 50


@bp.get("/reports", endpoint="reports")
def report_list() -> str:
    """The reports the user may see, newest first, filtered by ``?year=`` and ``?status=``."""
    filters = query_filters(ReportQueryArgsSchema(), FILTERS)
    page = reports.list_reports(
        db_session(), web_actor(), filters=reports.ReportFilter(**filters),
        page=requested_page(), newest_first=True,
    )  # fmt: skip
    shown = ReportSummarySchema(many=True).dump(page.items)
    return render(
        "reports.html", page=page, rows=list(zip(page.items, shown, strict=True)),
        query={name: request.args[name] for name in filters}, statuses=list(ReportStatus),
    )  # fmt: skip


@bp.get("/reports/<int:report_id>", endpoint="report")
def report_detail(report_id: int) -> str:
    """One report: status and its steps, figures, streams, facility lines, flags, green
    power, the other versions of the same enterprise's year, and the workflow steps the
    user may take on it now (``report_actions``)."""
    return report_page(report_id)


@dataclass(frozen=True)
class Refusal:
    """A workflow step the service refused: which form (``step``) and why."""

    step: str
    error: DomainError


def report_page(report_id: int, refusal: Refusal | None = None) -> str:
    """The report's page; with ``refusal``, the service's message and field errors beside
    the refused step's form (and the values the user typed kept in it)."""
    session, actor = db_session(), web_actor()
    report = reports.get_report(session, actor, report_id)
    same_year = reports.ReportFilter(enterprise=report.enterprise.credit_code, year=report.year)
    versions = reports.list_reports(
        session, actor, filters=same_year, page=PageRequest(1, VERSIONS_SHOWN), newest_first=True
    )
    names = {line.facility_id: line.facility.name for line in report.facilities}
    may_assign = report.status in reports.STEP_FROM["assign"] and is_allowed(
        actor, "reports.assign"
    )
    verifiers = auth_service.list_verifiers(session, actor) if may_assign else []
    threshold = config_of(session).mrv_verification_threshold
    return render(
        "report.html", report=report, shown=ReportSchema().dump(report), versions=versions,
        facility_names=names, steps=reports.STEP_FROM, verifiers=verifiers, refusal=refusal,
        threshold_percent=format((threshold * 100).normalize(), "f"),
    )  # fmt: skip
