"""HTTP resources for annual emission reports and their workflow (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import dump_page, page_of
from carbon_market.mrv.reports import workflow as svc
from carbon_market.mrv.reports.schemas import (
    ReportAssignSchema,
    ReportCreateSchema,
    ReportPatchSchema,
    ReportQueryArgsSchema,
    ReportReturnSchema,
    ReportSchema,
    ReportSummarySchema,
    ReportUpdateSchema,
    ReportVerifySchema,
)

blp = Blueprint(
    "emission_reports",
    __name__,
    url_prefix="/api/v1/reports",
    description="Annual emission reports (排放报告): draft → submitted → verified → approved, "
    "or returned to the enterprise. Decimals are strings.",
)

ReportPageSchema = page_of(ReportSummarySchema, "ReportPageSchema")


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportQueryArgsSchema, location="query")
    @blp.response(200, ReportPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the reports you may see (``enterprise``, ``year`` and ``status`` filter)."""
        page = page_request(args)
        result = svc.list_reports(
            db_session(), current_actor(), filters=svc.ReportFilter(**args), page=page
        )
        return dump_page(result)

    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """File a draft (enterprise users for their own enterprise; regulators for any).

        When the year's latest version is approved, this files the next version.
        """
        return svc.create_report(db_session(), current_actor(), **data)


@blp.route("/<int:report_id>")
class ReportById(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, report_id: int) -> Any:
        """One report: status, version, streams, breakdown and figures."""
        return svc.get_report(db_session(), current_actor(), report_id)

    @blp.arguments(ReportUpdateSchema)
    @blp.response(200, ReportSchema)
    def put(self, data: dict[str, Any], report_id: int) -> Any:
        """Replace a draft's (or returned report's) streams and output; recompute it."""
        return svc.update_report(db_session(), current_actor(), report_id, **data)

    @blp.arguments(ReportPatchSchema)
    @blp.response(200, ReportSchema)
    def patch(self, data: dict[str, Any], report_id: int) -> Any:
        """Change a draft's streams or output; members not given stay as they are."""
        return svc.update_report(db_session(), current_actor(), report_id, **data)


@blp.route("/<int:report_id>/submit")
class ReportSubmit(MethodView):
    @blp.response(200, ReportSchema)
    def post(self, report_id: int) -> Any:
        """Submit for verification (enterprise users); freezes the factor set used."""
        return svc.submit_report(db_session(), current_actor(), report_id)


@blp.route("/<int:report_id>/assign")
class ReportAssign(MethodView):
    @blp.arguments(ReportAssignSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: int) -> Any:
        """Assign a verifier to a submitted report (regulators)."""
        return svc.assign_verifier(db_session(), current_actor(), report_id, **data)


@blp.route("/<int:report_id>/verify")
class ReportVerify(MethodView):
    @blp.arguments(ReportVerifySchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: int) -> Any:
        """State the verified emissions and the opinion (the assigned verifier only)."""
        return svc.verify_report(db_session(), current_actor(), report_id, **data)


@blp.route("/<int:report_id>/approve")
class ReportApprove(MethodView):
    @blp.response(200, ReportSchema)
    def post(self, report_id: int) -> Any:
        """Approve a verified report; sets ``obligation_t`` (regulators). A corrected
        version (an earlier one was approved) recomputes the compliance year in the same
        unit of work: obligation, surrenders, status, penalty, notice (docs/compliance.md)."""
        return svc.approve_and_publish(db_session(), current_actor(), report_id)


@blp.route("/<int:report_id>/return")
class ReportReturn(MethodView):
    @blp.arguments(ReportReturnSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: int) -> Any:
        """Return a submitted or verified report to the enterprise with reasons (regulators)."""
        return svc.return_report(db_session(), current_actor(), report_id, **data)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
