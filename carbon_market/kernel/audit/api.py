"""GET /api/v1/audit-events: the audit log for regulators and auditors."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from carbon_market.kernel.audit.schemas import AuditEventSchema, AuditQueryArgsSchema
from carbon_market.kernel.audit.service import AuditFilter, list_events
from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import dump_page, page_of

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit-events",
    description="The append-only audit log (regulators and auditors).",
)
AuditPageSchema = page_of(AuditEventSchema, "AuditPageSchema")


@blp.route("")
class AuditEvents(MethodView):
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Audit events, newest first, filtered by entity, actor, action and time."""
        page = page_request(args)
        return dump_page(
            list_events(db_session(), current_actor(), filters=AuditFilter(**args), page=page)
        )


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
