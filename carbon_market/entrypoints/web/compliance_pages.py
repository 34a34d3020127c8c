"""The compliance pages: the compliance years, and one year's status table and penalties.

Rows are dumped with the API's own response schemas (tonnes as integers, money and the
multiple as the API's decimal strings). The services scope an enterprise user to its own
rows; the status table and the penalties refuse roles that may not read them (403 page).
"""

from __future__ import annotations

from flask import request

from carbon_market.compliance import penalties, service, sweep
from carbon_market.compliance.enums import ComplianceStatusKind
from carbon_market.compliance.schemas import (
    PenaltySchema,
    StatusArgsSchema,
    StatusRowSchema,
    YearSchema,
)
from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.views import (
    bp,
    page_of_rows,
    query_filters,
    render,
    requested_page,
)
from carbon_market.kernel.db import config_of
from carbon_market.kernel.http import db_session


@bp.get("/compliance", endpoint="compliance")
def year_list() -> str:
    """Every opened compliance year with its deadlines, the latest first."""
    session = db_session()
    years = service.list_years(session, web_actor())
    return render(
        "compliance.html", years=YearSchema(many=True).dump(reversed(years)),
        deadline_tz=config_of(session).deadline_tz.key,
    )  # fmt: skip


@bp.get("/compliance/<int:year>", endpoint="compliance_year")
def year_detail(year: int) -> str:
    """The year's status table as the last sweep left it (``?status=`` filters), a page at
    a time, and its current penalties."""
    session, actor = db_session(), web_actor()
    filters = query_filters(StatusArgsSchema(), ("status",))
    rows = sweep.list_status(session, actor, year, **filters)
    found = service.get_year(session, actor, year)
    assessed = penalties.list_penalties(session, actor, year)
    return render(
        "compliance_year.html", year=YearSchema().dump(found),
        page=page_of_rows(StatusRowSchema(many=True).dump(rows), requested_page()),
        penalties=PenaltySchema(many=True).dump(assessed),
        query={name: request.args[name] for name in filters},
        statuses=list(ComplianceStatusKind), deadline_tz=config_of(session).deadline_tz.key,
    )  # fmt: skip
