"""HTTP resources of trading: ``/api/v1/trades`` and ``/api/v1/market`` (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields

from carbon_market.kernel.csv_export import schema_csv
from carbon_market.kernel.http import (
    Api,
    Blueprint,
    csv_response,
    current_actor,
    db_session,
    page_request,
)
from carbon_market.kernel.schemas import Schema, dump_page, page_of
from carbon_market.trading import disclosure, groups, market, service
from carbon_market.trading.intake import trade_file as bulk
from carbon_market.trading.schemas import (
    DailyStatsSchema,
    FlagSchema,
    GroupCreateSchema,
    GroupSchema,
    LargeHoldersArgsSchema,
    LargeHolderSchema,
    MarketRangeArgsSchema,
    MarketTradeCreateSchema,
    MarketTradeQueryArgsSchema,
    MarketTradeSchema,
    ReferencePriceCreateSchema,
    ReferencePriceSchema,
    StatsArgsSchema,
)

trades_blp = Blueprint(
    "trades",
    __name__,
    url_prefix="/api/v1/trades",
    description="Trades reported by the exchange: price-limit and holding checks, settlement "
    "in the registry (docs/trading.md).",
)
market_blp = Blueprint(
    "market",
    __name__,
    url_prefix="/api/v1/market",
    description="Reference prices, daily market statistics and surveillance.",
)


@trades_blp.route("")
class Trades(MethodView):
    @trades_blp.arguments(MarketTradeQueryArgsSchema, location="query")
    @trades_blp.response(200, page_of(MarketTradeSchema, "MarketTradePageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List trades (enterprise users: those of their own accounts)."""
        page = page_request(args)
        return dump_page(service.list_trades(db_session(), current_actor(), page=page, **args))

    @trades_blp.arguments(MarketTradeCreateSchema)
    @trades_blp.response(201, MarketTradeSchema)
    @trades_blp.alt_response(
        200, schema=MarketTradeSchema, description="Recorded before: the same trade"
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Record a trade (the exchange, regulators); under a T+0 rulebook it settles at
        once. An ``external_ref`` recorded before with the same content answers 200 with
        that trade; with other content, 409."""
        trade, is_new = service.record_trade(db_session(), current_actor(), **data)
        return trade, 201 if is_new else 200


@trades_blp.route("/<int:market_trade_id>")
class TradeById(MethodView):
    @trades_blp.response(200, MarketTradeSchema)
    def get(self, market_trade_id: int) -> Any:
        return service.get_trade(db_session(), current_actor(), market_trade_id)


class TradeFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV, header in row 1"})


class TradeImportResultSchema(Schema):
    rows = fields.Integer(metadata={"description": "Rows in the file"})
    recorded = fields.Integer(metadata={"description": "Trades recorded now"})
    unchanged = fields.Integer(metadata={"description": "Recorded before with the same content"})


@trades_blp.route("/import")
class TradeImport(MethodView):
    @trades_blp.arguments(TradeFileSchema, location="files")
    @trades_blp.response(201, TradeImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Record the exchange's end-of-day file, all or nothing (the exchange, regulators).
        Every bad row is reported at once as ``#/trades/rows/<row>/<column>``; a file
        imported again changes nothing."""
        upload = files["file"]
        table = bulk.read_table(upload.stream, upload.filename or "trades.csv")
        return bulk.import_trades(db_session(), current_actor(), table)


@market_blp.route("/reference-prices")
class ReferencePrices(MethodView):
    @market_blp.arguments(ReferencePriceCreateSchema)
    @market_blp.response(201, ReferencePriceSchema)
    @market_blp.alt_response(200, schema=ReferencePriceSchema, description="A day's price reset")
    def post(self, data: dict[str, Any]) -> Any:
        """Set the reference price of a unit kind from a day on (regulators): the first
        trading day's, before there is a close."""
        price, is_new = service.set_reference_price(db_session(), current_actor(), **data)
        return price, 201 if is_new else 200


@market_blp.route("/stats")
class Stats(MethodView):
    @market_blp.arguments(StatsArgsSchema, location="query")
    @market_blp.response(200, DailyStatsSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """One row per trading day with trades, chart-ready; ``?format=csv`` for a file."""
        as_csv = args.pop("format") == "csv"
        rows = market.market_stats(db_session(), current_actor(), **args)
        if not as_csv:
            return rows
        name = market.stats_csv_name(args["unit_kind"], args["start"], args["end"])
        return csv_response(market.stats_csv(rows), name)


def _csv(schema: type[Schema], rows: list[Any], name: str) -> Response:
    return csv_response(schema_csv(schema(), rows), name)


@market_blp.route("/large-holders")
class LargeHolders(MethodView):
    @market_blp.arguments(LargeHoldersArgsSchema, location="query")
    @market_blp.response(200, LargeHolderSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Holders above the disclosure threshold (allocation + 500,000 t for covered
        enterprises, 500,000 t for others under the national rules), largest first, for
        regulators and auditors; ``?format=csv`` for a file."""
        as_csv = args.pop("format") == "csv"
        rows = disclosure.large_holders(db_session(), current_actor(), **args)
        if not as_csv:
            return rows
        return _csv(LargeHolderSchema, rows, f"large-holders-{args['unit_kind']}.csv")


@market_blp.route("/surveillance")
class Surveillance(MethodView):
    @market_blp.arguments(MarketRangeArgsSchema, location="query")
    @market_blp.response(200, FlagSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Trades and days flagged for the regulator, each with its reason."""
        return market.surveillance(db_session(), current_actor(), **args)


def _group_out(group: Any, members: list[int]) -> dict[str, Any]:
    return {
        "id": group.id, "code": group.code, "name": group.name, "enterprise_ids": members,
        "created_at": group.created_at, "created_by": group.created_by,
    }  # fmt: skip


@market_blp.route("/groups")
class Groups(MethodView):
    @market_blp.response(200, GroupSchema(many=True))
    def get(self) -> Any:
        """The register of enterprise groups (regulators, auditors)."""
        return [_group_out(g, m) for g, m in groups.list_groups(db_session(), current_actor())]

    @market_blp.arguments(GroupCreateSchema)
    @market_blp.response(201, GroupSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a group (regulators); its trades between members are flagged
        ``same_group``."""
        return _group_out(groups.create_group(db_session(), current_actor(), **data), [])


@market_blp.route("/groups/<int:group_id>/members/<int:enterprise_id>")
class GroupMember(MethodView):
    @market_blp.response(204)
    @market_blp.alt_response(201, description="Added")
    def put(self, group_id: int, enterprise_id: int) -> Any:
        """Put an enterprise in the group (regulators): 201, or 204 when it was in it; 409
        when it belongs to another group."""
        added = groups.add_member(db_session(), current_actor(), group_id, enterprise_id)
        return Response(status=201 if added else 204)

    @market_blp.response(204)
    def delete(self, group_id: int, enterprise_id: int) -> Any:
        """Take an enterprise out of the group (regulators)."""
        groups.remove_member(db_session(), current_actor(), group_id, enterprise_id)
        return Response(status=204)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(trades_blp)
    api.register_blueprint(market_blp)
