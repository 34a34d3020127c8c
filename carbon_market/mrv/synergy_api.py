"""HTTP resource of the synergy (协同) view: JSON, or CSV for a spreadsheet (thin handler)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask, Response
from flask.views import MethodView

from carbon_market.http import Api, Blueprint, current_actor, db_session
from carbon_market.mrv import synergy_service as svc
from carbon_market.mrv.synergy import SynergyTable
from carbon_market.mrv.synergy_schemas import (
    SynergyQueryArgsSchema,
    SynergyRowSchema,
    SynergyViewSchema,
    csv_columns,
)

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
    buffer = io.StringIO()
    columns = csv_columns(view.group_by)
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in SynergyRowSchema(many=True).dump(view.records):
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    name = f"synergy-{view.year}-by-{'-'.join(view.group_by)}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
