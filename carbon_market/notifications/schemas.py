"""Notifications as the API shows them."""

from __future__ import annotations

from marshmallow import fields

from carbon_market.kernel.schemas import PageArgsSchema, Schema
from carbon_market.notifications.models import DeliveryStatus


class NotificationQueryArgsSchema(PageArgsSchema):
    kind = fields.String(metadata={"description": "e.g. deadline_reminder, approval_needed"})
    status = fields.Enum(DeliveryStatus, by_value=True)
    since = fields.Date(metadata={"description": "Created on or after this day (Beijing)"})


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    enterprise = fields.Function(
        lambda n: n.enterprise.credit_code if n.enterprise else None,
        metadata={"description": "The addressed enterprise's credit code, if any"},
    )
    to_regulators = fields.Boolean()
    recipients = fields.List(fields.String())
    subject = fields.String()
    body = fields.String()
    dedupe_key = fields.String()
    created_at = fields.DateTime()
    status = fields.Enum(DeliveryStatus, by_value=True)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    channel = fields.String(metadata={"description": "Channels it went out on: smtp,webhook"})
    sent_at = fields.DateTime(allow_none=True)
