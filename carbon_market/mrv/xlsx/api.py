"""HTTP resources for the Excel round trip of emission reports (thin handlers).

The uploads are ``multipart/form-data`` like the other imports: the workbook is the ``file``
field, and the text fields travel beside it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields

from carbon_market.emitters.schemas import CreditCodeField
from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session
from carbon_market.kernel.schemas import Schema
from carbon_market.mrv.factors.library import XLSX, ExportFile
from carbon_market.mrv.factors.schemas import YEAR
from carbon_market.mrv.reports.schemas import ReportSchema, ReportTemplateArgsSchema
from carbon_market.mrv.xlsx import service as svc

blp = Blueprint(
    "emission_report_workbooks",
    __name__,
    url_prefix="/api/v1/reports",
    description="Emission reports as Excel workbooks (排放报告 Excel 模板): download a template "
    "for an enterprise and year, fill it in, upload it. Every bad cell is reported with its "
    "sheet, row and column, and nothing is saved while any remains.",
)

#: Documents the template download: the handler returns the file itself (a ``Response``).
BINARY = {"type": "string", "format": "binary"}
WORKBOOK = Upload(required=True, metadata={"description": "The filled template (XLSX)"})


class WorkbookSchema(Schema):
    file = WORKBOOK


class NewReportWorkbookSchema(WorkbookSchema):
    enterprise = CreditCodeField(required=True, metadata={"description": "Credit code"})
    year = fields.Integer(required=True, validate=YEAR)


def _attachment(exported: ExportFile) -> Response:
    return Response(
        exported.content,
        mimetype=exported.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@blp.route("/template")
class ReportTemplate(MethodView):
    @blp.arguments(ReportTemplateArgsSchema, location="query")
    @blp.response(200, BINARY, content_type=XLSX, description="The XLSX template")
    def get(self, args: dict[str, Any]) -> Response:
        """The XLSX template for an enterprise and year (enterprise users: their own).

        Sheets: ``streams`` and ``facilities`` (the facility lines' figures) to fill in,
        ``codes`` and ``about``. ``report`` prefills them with that report's streams and
        lines.
        """
        exported = svc.get_report_template(
            db_session(),
            current_actor(),
            enterprise=args["enterprise"],
            year=args["year"],
            report_id=args.get("report"),
        )
        return _attachment(exported)


@blp.route("/upload")
class ReportUpload(MethodView):
    @blp.arguments(NewReportWorkbookSchema, location="files")
    @blp.response(201, ReportSchema)
    def post(self, form: dict[str, Any]) -> Any:
        """File a draft from a filled template, as ``POST /api/v1/reports`` does.

        Errors carry ``sheet``, ``row`` (header = 1) and ``column``.
        """
        return svc.create_report_from_workbook(
            db_session(),
            current_actor(),
            enterprise=form["enterprise"],
            year=form["year"],
            data=form["file"].read(),
        )


@blp.route("/<int:report_id>/upload")
class ReportUploadById(MethodView):
    @blp.arguments(WorkbookSchema, location="files")
    @blp.response(200, ReportSchema)
    def put(self, form: dict[str, Any], report_id: int) -> Any:
        """Replace a draft's (or returned report's) streams with a filled template's, and
        its facility lines when the facilities sheet has the figure columns."""
        return svc.update_report_from_workbook(
            db_session(), current_actor(), report_id, data=form["file"].read()
        )


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
