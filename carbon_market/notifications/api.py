"""HTTP resources of notifications: ``/api/v1/notifications`` (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import dump_page, page_of
from carbon_market.notifications import service
from carbon_market.notifications.schemas import NotificationQueryArgsSchema, NotificationSchema

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="The outbox of messages to enterprises and regulators, delivered or not "
    "(docs/notifications.md).",
)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, page_of(NotificationSchema, "NotificationPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Messages, newest first: an enterprise user its enterprise's; regulators and
        auditors all."""
        page = page_request(args)
        return dump_page(
            service.list_notifications(db_session(), current_actor(), page=page, **args)
        )


@blp.route("/<int:notification_id>")
class NotificationById(MethodView):
    @blp.response(200, NotificationSchema)
    def get(self, notification_id: int) -> Any:
        return service.get_notification(db_session(), current_actor(), notification_id)
