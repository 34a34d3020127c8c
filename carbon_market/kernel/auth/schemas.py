"""Schemas for users, tokens and login."""

from __future__ import annotations

from marshmallow import fields, validate

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.schemas import Schema

NAME = validate.Regexp(r"^[A-Za-z0-9._@-]{2,64}$", error="2-64 letters, digits or . _ @ -")


class LoginSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class TokenCreatedSchema(Schema):
    id = fields.Integer()
    token = fields.String(metadata={"description": "Shown once; store it now"})
    prefix = fields.String()
    expires_at = fields.AwareDateTime()


class TokenSchema(Schema):
    id = fields.Integer()
    prefix = fields.String()
    label = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class UserCreateSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    role = fields.Enum(Role, by_value=True, required=True)
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=10, max=1024)
    )
    enterprise = fields.String(
        load_default=None,
        metadata={"description": "Credit code of the enterprise (role enterprise only)"},
    )
    can_initiate = fields.Boolean(load_default=None)
    can_approve = fields.Boolean(load_default=None)


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    enterprise_id = fields.Integer(allow_none=True)
    can_initiate = fields.Boolean()
    can_approve = fields.Boolean()
    is_active = fields.Boolean()
    created_at = fields.AwareDateTime()


class MeSchema(Schema):
    name = fields.String()
    role = fields.String(allow_none=True)
    enterprise_id = fields.Integer(allow_none=True)
    can_initiate = fields.Boolean()
    can_approve = fields.Boolean()
