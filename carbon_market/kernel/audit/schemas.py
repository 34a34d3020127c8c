"""Audit log query and output schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from carbon_market.kernel.schemas import PageArgsSchema, Schema


class AuditQueryArgsSchema(PageArgsSchema):
    entity_type = fields.String(validate=validate.Length(max=32))
    entity_id = fields.String(validate=validate.Length(max=64))
    actor = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=64))
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset, inclusive"})
    until = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset, exclusive"})


class AuditEventSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    actor_name = fields.String()
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)
