"""HTTP resources for green power under ``/api/v1/green-power`` (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields

from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import Schema, dump_page, page_of
from finance.greenpower import bulk, certificates, registry
from finance.greenpower.schemas import (
    CertificateIssueSchema,
    CertificateQueryArgsSchema,
    CertificateSchema,
    ClaimCreateSchema,
    ClaimQueryArgsSchema,
    ClaimSchema,
    PlantCreateSchema,
    PlantQueryArgsSchema,
    PlantSchema,
    TargetCreateSchema,
    TargetQueryArgsSchema,
    TargetSchema,
    TradeCreateSchema,
    TradeQueryArgsSchema,
    TradeSchema,
    TransferSchema,
    target_document,
)

blp = Blueprint(
    "green_power",
    __name__,
    url_prefix="/api/v1/green-power",
    description="Green power (绿电): plants, green electricity trades, green certificates "
    "(绿证) by serial range, their transfers and claims, and policy targets.",
)


@blp.route("/plants")
class Plants(MethodView):
    @blp.arguments(PlantQueryArgsSchema, location="query")
    @blp.response(200, page_of(PlantSchema, "PlantPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List plants (``kind``, ``province`` filter)."""
        page = page_request(args)
        return dump_page(registry.list_plants(db_session(), current_actor(), page=page, **args))

    @blp.arguments(PlantCreateSchema)
    @blp.response(201, PlantSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a plant (regulators)."""
        return registry.create_plant(db_session(), current_actor(), **data)


@blp.route("/plants/<int:plant_id>")
class PlantById(MethodView):
    @blp.response(200, PlantSchema)
    def get(self, plant_id: int) -> Any:
        return registry.get_plant(db_session(), current_actor(), plant_id)


@blp.route("/trades")
class Trades(MethodView):
    @blp.arguments(TradeQueryArgsSchema, location="query")
    @blp.response(200, page_of(TradeSchema, "GreenTradePageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List trades (enterprise users: their own purchases)."""
        page = page_request(args)
        filters = registry.TradeFilter(**args)
        return dump_page(
            registry.list_trades(db_session(), current_actor(), filters=filters, page=page)
        )

    @blp.arguments(TradeCreateSchema)
    @blp.response(201, TradeSchema)
    @blp.alt_response(200, schema=TradeSchema, description="Recorded before: the same trade")
    def post(self, data: dict[str, Any]) -> Any:
        """Record a trade (regulators). A reference recorded before with the same values
        answers 200 with that trade; with other values, 409."""
        trade, is_new = registry.record_trade(db_session(), current_actor(), **data)
        return trade, 201 if is_new else 200


@blp.route("/trades/<int:trade_id>")
class TradeById(MethodView):
    @blp.response(200, TradeSchema)
    def get(self, trade_id: int) -> Any:
        return registry.get_trade(db_session(), current_actor(), trade_id)


@blp.route("/certificates")
class Certificates(MethodView):
    @blp.arguments(CertificateQueryArgsSchema, location="query")
    @blp.response(200, page_of(CertificateSchema, "CertificatePageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List certificate blocks by serial (enterprise users: what they hold)."""
        page = page_request(args)
        filters = certificates.CertificateFilter(**args)
        return dump_page(
            certificates.list_certificates(
                db_session(), current_actor(), filters=filters, page=page
            )
        )

    @blp.arguments(CertificateIssueSchema)
    @blp.response(201, CertificateSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Issue certificates ``serial_start``-``serial_end``, one per MWh (regulators)."""
        return certificates.issue_certificates(db_session(), current_actor(), **data)


@blp.route("/certificates/transfers")
class CertificateTransfers(MethodView):
    @blp.arguments(TransferSchema)
    @blp.response(200, CertificateSchema(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Move certificates to another enterprise (the holder, or a regulator)."""
        return certificates.transfer_certificates(db_session(), current_actor(), **data)


@blp.route("/claims")
class Claims(MethodView):
    @blp.arguments(ClaimQueryArgsSchema, location="query")
    @blp.response(200, page_of(ClaimSchema, "ClaimPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List claims (enterprise users: their own)."""
        page = page_request(args)
        return dump_page(certificates.list_claims(db_session(), current_actor(), page=page, **args))

    @blp.arguments(ClaimCreateSchema)
    @blp.response(201, ClaimSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Claim (cancel) certificates for an enterprise's consumption in a year; its open
        report of that year is recomputed."""
        return certificates.claim_certificates(db_session(), current_actor(), **data)


@blp.route("/targets")
class Targets(MethodView):
    @blp.arguments(TargetQueryArgsSchema, location="query")
    @blp.response(200, page_of(TargetSchema, "TargetPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Targets with the progress the records show (``year`` filters)."""
        session, page = db_session(), page_request(args)
        found = registry.list_targets(session, current_actor(), page=page, **args)
        envelope = dump_page(found)
        envelope["items"] = [target_document(t, registry.achieved(session, t)) for t in found.items]
        return envelope

    @blp.arguments(TargetCreateSchema)
    @blp.response(201, TargetSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Set a target (regulators)."""
        session = db_session()
        target = registry.create_target(session, current_actor(), **data)
        return target_document(target, registry.achieved(session, target))


class GreenImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV or XLSX, header in row 1"})


class GreenImportResultSchema(Schema):
    kind = fields.String()
    rows = fields.Integer(metadata={"description": "Rows in the file"})
    unchanged = fields.Integer(
        metadata={"description": "Trades already recorded with the same values"}
    )


def _import(files: dict[str, Any], kind: str) -> Any:
    upload = files["file"]
    table = bulk.read_table(upload.stream, upload.filename or f"{kind}.csv", kind)
    run = bulk.import_trades if kind == bulk.TRADES else bulk.import_certificates
    return run(db_session(), current_actor(), table)


@blp.route("/trades/import")
class TradeImport(MethodView):
    @blp.arguments(GreenImportFileSchema, location="files")
    @blp.response(201, GreenImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Record trades from CSV or XLSX, all or nothing (regulators). Every bad row is
        reported at once as ``#/trades/rows/<row>/<column>``; a file imported again changes
        nothing."""
        return _import(files, bulk.TRADES)


@blp.route("/certificates/import")
class CertificateImport(MethodView):
    @blp.arguments(GreenImportFileSchema, location="files")
    @blp.response(201, GreenImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Issue certificate blocks from CSV or XLSX, all or nothing (regulators). Every
        bad row is reported at once as ``#/certificates/rows/<row>/<column>``."""
        return _import(files, bulk.CERTIFICATES)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
