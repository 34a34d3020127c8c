"""HTTP resources for the emission factor library (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from flask_smorest.fields import Upload

from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import Schema, dump_page, page_of
from carbon_market.mrv.factors import library as svc
from carbon_market.mrv.factors.schemas import (
    ExportArgsSchema,
    FactorSetCreateSchema,
    FactorSetDetailSchema,
    FactorSetQueryArgsSchema,
    FactorSetSchema,
    ImportArgsSchema,
)

blp = Blueprint(
    "emission_factors",
    __name__,
    url_prefix="/api/v1/emission-factors",
    description="Versioned emission factor sets (排放因子库): fuels, electricity, heat, "
    "process and co-pollutant factors, each with its cited source.",
)

FactorSetPageSchema = page_of(FactorSetSchema, "FactorSetPageSchema")


class FactorFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "One factor set: CSV or XLSX"})


@blp.route("")
class FactorSets(MethodView):
    @blp.arguments(FactorSetQueryArgsSchema, location="query")
    @blp.response(200, FactorSetPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List factor sets (``name``, ``year`` and ``status`` filter them)."""
        page = page_request(args)
        result = svc.list_factor_sets(
            db_session(), current_actor(), filters=svc.FactorSetFilter(**args), page=page
        )
        return dump_page(result)

    @blp.arguments(FactorSetCreateSchema)
    @blp.response(201, FactorSetDetailSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Store a new set, or the next version of a set of that name (regulators).

        Every bad row is reported at once (``#/rows/<index>/<field>``); nothing is stored.
        """
        return svc.create_factor_set(db_session(), current_actor(), **data)


@blp.route("/import")
class FactorSetImport(MethodView):
    @blp.arguments(ImportArgsSchema, location="query")
    @blp.arguments(FactorFileSchema, location="files")
    @blp.response(201, FactorSetDetailSchema)
    def post(self, args: dict[str, Any], files: dict[str, Any]) -> Any:
        """Import one set from CSV or XLSX in the packaged format, all or nothing (regulators).

        Errors point at spreadsheet rows: ``#/rows/<row>/<column>`` (header = row 1).
        """
        upload = files["file"]
        return svc.import_factor_set(
            db_session(),
            current_actor(),
            data=upload.read(),
            filename=upload.filename or "factors.csv",
            **args,
        )


@blp.route("/<int:set_id>")
class FactorSetById(MethodView):
    @blp.response(200, FactorSetDetailSchema)
    def get(self, set_id: int) -> Any:
        """One set with its factors."""
        return svc.get_factor_set(db_session(), current_actor(), set_id)


@blp.route("/<int:set_id>/export")
class FactorSetExport(MethodView):
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any], set_id: int) -> Response:
        """The set as ``?format=csv`` (default) or ``xlsx``, ready to import again."""
        exported = svc.export_factor_set(db_session(), current_actor(), set_id, fmt=args["format"])
        return Response(
            exported.content,
            mimetype=exported.mimetype,
            headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
        )


@blp.route("/<int:set_id>/freeze")
class FactorSetFreeze(MethodView):
    @blp.response(200, FactorSetSchema)
    def post(self, set_id: int) -> Any:
        """Freeze a published set (regulators; submitted reports freeze their set too)."""
        return svc.freeze_factor_set(db_session(), current_actor(), set_id)


@blp.route("/<int:set_id>/publish")
class FactorSetPublish(MethodView):
    @blp.response(200, FactorSetSchema)
    def post(self, set_id: int) -> Any:
        """Publish a draft set, making it eligible as a year's default (regulators)."""
        return svc.publish_factor_set(db_session(), current_actor(), set_id)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
