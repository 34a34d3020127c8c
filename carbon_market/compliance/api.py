"""HTTP resources of compliance: ``/api/v1/compliance`` (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView

from carbon_market.compliance import penalties, projections, service, sweep
from carbon_market.compliance.corrections import cascade as corrections
from carbon_market.compliance.queries import today_of
from carbon_market.compliance.schemas import (
    CorrectionSchema,
    ExemptionCreateSchema,
    ExemptionSchema,
    ExtensionCreateSchema,
    ExtensionSchema,
    ForecastArgsSchema,
    ForecastRowSchema,
    FormatArgsSchema,
    MultipleSchema,
    PenaltyArgsSchema,
    PenaltySchema,
    StatusArgsSchema,
    StatusRowSchema,
    SurrenderCreateSchema,
    SurrenderSchema,
    SweepSchema,
    YearCreateSchema,
    YearPatchSchema,
    YearSchema,
)
from carbon_market.kernel.csv_export import schema_csv
from carbon_market.kernel.http import Api, Blueprint, csv_response, current_actor, db_session
from carbon_market.kernel.schemas import Schema

blp = Blueprint(
    "compliance",
    __name__,
    url_prefix="/api/v1/compliance",
    description="Compliance years, surrenders, statuses, results and penalties "
    "(docs/compliance.md).",
)


def _csv(schema: Schema, rows: Any, name: str) -> Response:
    return csv_response(schema_csv(schema, rows), name)


@blp.route("/years")
class Years(MethodView):
    @blp.response(200, YearSchema(many=True))
    def get(self) -> Any:
        """Every opened compliance year (every signed-in user)."""
        return service.list_years(db_session(), current_actor())

    @blp.arguments(YearCreateSchema)
    @blp.response(201, YearSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open a year from a shipped rulebook (regulators); deadlines may be given."""
        return service.open_year(db_session(), current_actor(), **data)


@blp.route("/years/<int:year>")
class YearById(MethodView):
    @blp.response(200, YearSchema)
    def get(self, year: int) -> Any:
        return service.get_year(db_session(), current_actor(), year)

    @blp.arguments(YearPatchSchema)
    @blp.response(200, YearSchema)
    def patch(self, data: dict[str, Any], year: int) -> Any:
        """Edit a year until its first (reporting) deadline passes (regulators); 409
        after."""
        return service.update_year(db_session(), current_actor(), year, **data)


@blp.route("/<int:year>/penalty-multiple")
class PenaltyMultiple(MethodView):
    @blp.arguments(MultipleSchema)
    @blp.response(200, YearSchema)
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Set the year's penalty multiple within the rulebook's range (regulators)."""
        return service.set_penalty_multiple(db_session(), current_actor(), year, **data)


@blp.route("/<int:year>/extensions")
class Extensions(MethodView):
    @blp.arguments(ExtensionCreateSchema)
    @blp.response(201, ExtensionSchema)
    @blp.alt_response(200, schema=ExtensionSchema, description="An extension replaced")
    def post(self, data: dict[str, Any], year: int) -> Any:
        """Extend one enterprise's surrender deadline (regulators)."""
        found, is_new = service.grant_extension(db_session(), current_actor(), year, **data)
        return found, 201 if is_new else 200


@blp.route("/<int:year>/exemptions")
class Exemptions(MethodView):
    @blp.arguments(ExemptionCreateSchema)
    @blp.response(201, ExemptionSchema)
    @blp.alt_response(200, schema=ExemptionSchema, description="An exemption's reason replaced")
    def post(self, data: dict[str, Any], year: int) -> Any:
        """Exempt an enterprise from the year's obligation, with the reason (regulators)."""
        found, is_new = service.grant_exemption(db_session(), current_actor(), year, **data)
        return found, 201 if is_new else 200


@blp.route("/<int:year>/surrenders")
class Surrenders(MethodView):
    @blp.response(200, SurrenderSchema(many=True))
    def get(self, year: int) -> Any:
        """The year's surrenders (an enterprise user: its own)."""
        return service.list_surrenders(db_session(), current_actor(), year)

    @blp.arguments(SurrenderCreateSchema)
    @blp.response(201, SurrenderSchema)
    def post(self, data: dict[str, Any], year: int) -> Any:
        """Surrender units from the caller's compliance account (enterprise initiators);
        pending until a second user approves the transaction."""
        return service.surrender(db_session(), current_actor(), year, **data)


@blp.route("/<int:year>/sweep")
class Sweep(MethodView):
    @blp.response(200, SweepSchema)
    def post(self, year: int) -> Any:
        """Recompute every status of the year now (regulators); the daily job does the
        same."""
        session = db_session()
        return sweep.sweep(session, current_actor(), year, today_of(session))


@blp.route("/<int:year>/status")
class Status(MethodView):
    @blp.arguments(StatusArgsSchema, location="query")
    @blp.response(200, StatusRowSchema(many=True))
    def get(self, args: dict[str, Any], year: int) -> Any:
        """One row per covered enterprise as the last sweep left it (regulators and
        auditors: all, filterable; an enterprise user: its own); ``?format=csv``."""
        as_csv = args.pop("format") == "csv"
        rows = sweep.list_status(db_session(), current_actor(), year, **args)
        return _csv(StatusRowSchema(), rows, f"compliance-{year}.csv") if as_csv else rows


@blp.route("/<int:year>/results")
class Results(MethodView):
    @blp.arguments(FormatArgsSchema, location="query")
    @blp.response(200, StatusRowSchema(many=True))
    def get(self, args: dict[str, Any], year: int) -> Any:
        """The published results: every signed-in user, after the surrender deadline."""
        rows = sweep.list_results(db_session(), current_actor(), year)
        if args["format"] == "csv":
            return _csv(StatusRowSchema(), rows, f"compliance-results-{year}.csv")
        return rows


@blp.route("/<int:year>/penalties")
class Penalties(MethodView):
    @blp.arguments(PenaltyArgsSchema, location="query")
    @blp.response(200, PenaltySchema(many=True))
    def get(self, args: dict[str, Any], year: int) -> Any:
        """The year's current penalties (an enterprise user: its own); ``?format=csv``;
        ``?include=superseded`` adds those corrections superseded or cancelled."""
        rows = penalties.list_penalties(
            db_session(),
            current_actor(),
            year,
            include_superseded=args.get("include") == "superseded",
        )
        if args["format"] == "csv":
            return _csv(PenaltySchema(), rows, f"penalties-{year}.csv")
        return rows


@blp.route("/<int:year>/forecast")
class Forecast(MethodView):
    @blp.arguments(ForecastArgsSchema, location="query")
    @blp.response(200, ForecastRowSchema(many=True))
    def get(self, args: dict[str, Any], year: int) -> Any:
        """The year-end projection of every enterprise with monthly data, against what it
        holds and has surrendered (regulators and auditors: all; an enterprise: its own);
        ``?warnings=true`` for the likely shortfalls only; ``?format=csv``."""
        rows = projections.list_forecast(
            db_session(), current_actor(), year, warnings_only=args["warnings"]
        )
        if args["format"] == "csv":
            return _csv(ForecastRowSchema(), rows, f"forecast-{year}.csv")
        return rows


@blp.route("/<int:year>/corrections")
class Corrections(MethodView):
    @blp.response(200, CorrectionSchema(many=True))
    def get(self, year: int) -> Any:
        """Corrected report versions applied to the year, newest first (an enterprise user:
        its own). Applied when the corrected version is approved (docs/compliance.md)."""
        return corrections.list_corrections(db_session(), current_actor(), year)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
