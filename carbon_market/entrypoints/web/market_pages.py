"""The market page: daily statistics of a unit kind (``GET /api/v1/market/stats``), as a
chart, a table and the API's CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, url_for

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.charts import market_charts
from carbon_market.entrypoints.web.views import bp, csp_nonce, query_args, render
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, config_of
from carbon_market.kernel.http import csv_response, db_session
from carbon_market.ledger.accounts import service as accounts
from carbon_market.trading import market
from carbon_market.trading.schemas import DailyStatsSchema, MarketRangeArgsSchema

#: The range shown when the form leaves it out: the last 30 days, today included.
DEFAULT_DAYS = 30
DEFAULT_UNIT_KIND = "allowance"


def _query() -> dict[str, Any]:
    """``unit_kind``, ``start`` and ``end`` from the form, read by the API's schema (its
    messages for a bad date); by default allowances over the last 30 days (Asia/Shanghai,
    where trading days are counted)."""
    session = db_session()
    today: date = local_date(clock_of(session).now(), config_of(session).deadline_tz)
    defaults = {
        "unit_kind": DEFAULT_UNIT_KIND,
        "from": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "to": today.isoformat(),
    }
    return query_args(MarketRangeArgsSchema(), ("unit_kind", "from", "to"), **defaults)


@bp.get("/market", endpoint="market")
def market_page() -> str:
    """The form, the charts and one table row per trading day with trades."""
    actor = web_actor()  # signed in before the form is read: a stranger is sent to sign in
    query = _query()
    rows = market.market_stats(db_session(), actor, **query)
    form = {"unit_kind": query["unit_kind"], "from": query["start"].isoformat(),
            "to": query["end"].isoformat()}  # fmt: skip
    return render(
        "market.html", form=form, csv_url=url_for("web.market_csv", **form),
        unit_kinds=accounts.list_unit_kinds(db_session()),
        # The table shows the API's JSON: prices as the same decimal strings.
        table=DailyStatsSchema(many=True).dump(rows),
        charts=market_charts(rows, csp_nonce()) if rows else None,
    )  # fmt: skip


@bp.get("/market.csv", endpoint="market_csv")
def market_csv() -> Response:
    """The same rows as the API's ``?format=csv``: one writer, the same bytes."""
    actor = web_actor()
    query = _query()
    rows = market.market_stats(db_session(), actor, **query)
    name = market.stats_csv_name(query["unit_kind"], query["start"], query["end"])
    return csv_response(market.stats_csv(rows), name)
