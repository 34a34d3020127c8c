"""HTTP resource of the synergy (协同) view: JSON, or CSV for a spreadsheet (thin handler)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView

from carbon_market.kernel.csv_export import csv_text
from carbon_market.kernel.http import Api, Blueprint, csv_response, current_actor, db_session
from carbon_market.mrv.synergy import service as svc
from carbon_market.mrv.synergy.schemas import (
    SynergyQueryArgsSchema,
    SynergyRowSchema,
    SynergyViewSchema,
    csv_columns,
)
from carbon_market.mrv.synergy.tables import SynergyTable

blp = Blueprint(
    "synergy",
    __name__,
    url_prefix="/api/v1/synergy",
    description="The synergy (协同) view: CO2 and co-pollutants per sector and district, their "
    "like-for-like change on the year before and the pollutant reduced per tonne of CO2 "
    "reduced. Regulators and auditors. Decimals are strings.",
)


@blp.route("")
class Synergy(MethodView):
    @blp.arguments(SynergyQueryArgsSchema, location="query")
    @blp.response(200, SynergyViewSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The view for a year over the latest approved reports (regulators, auditors).

        Grouped by ``group_by``, with the like-for-like change on the year before. With
        ``?format=csv``, a spreadsheet: one row per group, the JSON row's members as columns,
        UTF-8 with BOM so that Excel reads the Chinese labels; the total is JSON only.
        """
        as_csv = args.pop("format") == "csv"
        view = svc.get_synergy_view(db_session(), current_actor(), **args)
        return _csv(view) if as_csv else view


def _csv(view: SynergyTable) -> Response:
    rows = SynergyRowSchema(many=True).dump(view.records)
    text = csv_text(csv_columns(view.group_by), rows, bom=True)
    return csv_response(text, f"synergy-{view.year}-by-{'-'.join(view.group_by)}.csv")


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
