"""The emission report pages: the reports a user may see, and one report, read-only.

The figures are dumped with the API's own response schemas, so every decimal is the very
string ``GET /api/v1/reports`` gives (never a float, never re-rounded here).
"""

from __future__ import annotations

from flask import request

from carbon_market.http import db_session
from carbon_market.mrv import reports
from carbon_market.mrv.reports_models import ReportStatus
from carbon_market.mrv.reports_schemas import (
    ReportQueryArgsSchema,
    ReportSchema,
    ReportSummarySchema,
)
from carbon_market.pagination import PageRequest
from carbon_market.web.signin import web_actor
from carbon_market.web.views import bp, query_filters, render, requested_page

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
    power, and the other versions of the same enterprise's year."""
    session, actor = db_session(), web_actor()
    report = reports.get_report(session, actor, report_id)
    same_year = reports.ReportFilter(enterprise=report.enterprise.credit_code, year=report.year)
    versions = reports.list_reports(
        session, actor, filters=same_year, page=PageRequest(1, VERSIONS_SHOWN), newest_first=True
    )
    names = {line.facility_id: line.facility.name for line in report.facilities}
    return render(
        "report.html", report=report, shown=ReportSchema().dump(report), versions=versions,
        facility_names=names,
    )  # fmt: skip
