"""Request and response schemas for the emission factor library."""

from __future__ import annotations

from marshmallow import fields, validate

from carbon_market.kernel.schemas import PageArgsSchema, Schema, max_places
from carbon_market.mrv.factors.models import FACTOR_SCALE, FactorCategory, FactorSetStatus

SET_NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9_.-]{0,63}$", error="must be a lower-case name like 'cn-default'"
)
FACTOR_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="must be a lower-case code")
#: Below 10**12 so that the value, scaled by 10**FACTOR_SCALE, fits a 64-bit integer column.
MAX_FACTOR = 10**12
YEAR = validate.Range(min=2000, max=2100)


class FactorRowSchema(Schema):
    """One factor: the CSV's per-value columns. Rules across rows are the service's."""

    category = fields.Enum(FactorCategory, by_value=True, required=True)
    code = fields.String(required=True, validate=FACTOR_CODE, metadata={"example": "raw_coal"})
    parameter = fields.String(
        required=True, validate=FACTOR_CODE, metadata={"example": "carbon_content"}
    )
    value = fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=0, max=MAX_FACTOR, max_inclusive=False),
            max_places(FACTOR_SCALE),
        ],
        metadata={"description": f"Exact decimal string, at most {FACTOR_SCALE} places"},
    )
    unit = fields.String(required=True, validate=validate.Length(min=1, max=32))
    source = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "The publication the value is taken from"},
    )


class FactorSetHeaderSchema(Schema):
    name = fields.String(required=True, validate=SET_NAME)
    jurisdiction = fields.String(required=True, validate=validate.Length(min=1, max=32))
    first_year = fields.Integer(required=True, validate=YEAR)
    last_year = fields.Integer(required=True, validate=YEAR)


class FactorFileRowSchema(FactorRowSchema):
    """One line of an import file: the packaged CSV's columns (``set`` is the set's name)."""

    set = fields.String(required=True, validate=SET_NAME)
    jurisdiction = fields.String(required=True, validate=validate.Length(min=1, max=32))
    first_year = fields.Integer(required=True, validate=YEAR)
    last_year = fields.Integer(required=True, validate=YEAR)


class FactorSetCreateSchema(FactorSetHeaderSchema):
    status = fields.Enum(
        FactorSetStatus,
        by_value=True,
        load_default=FactorSetStatus.PUBLISHED,
        metadata={"description": "A draft is never a year's default set"},
    )
    rows = fields.List(
        fields.Nested(FactorRowSchema), required=True, validate=validate.Length(min=1, max=5000)
    )


class FactorSetSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    version = fields.Integer()
    jurisdiction = fields.String()
    first_year = fields.Integer()
    last_year = fields.Integer()
    status = fields.Enum(FactorSetStatus, by_value=True)
    is_frozen = fields.Boolean()
    frozen_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class FactorOutSchema(Schema):
    category = fields.Enum(FactorCategory, by_value=True)
    code = fields.String()
    parameter = fields.String()
    # normalized: "0.0153", not the column's "0.015300"; still an exact decimal string.
    value = fields.Function(lambda f: format(f.value.normalize(), "f"))
    unit = fields.String()
    source = fields.String()


class FactorSetDetailSchema(FactorSetSchema):
    factors = fields.List(fields.Nested(FactorOutSchema))


class FactorSetQueryArgsSchema(PageArgsSchema):
    name = fields.String(validate=SET_NAME)
    year = fields.Integer(validate=YEAR, metadata={"description": "Sets that apply to the year"})
    status = fields.Enum(FactorSetStatus, by_value=True)


class ExportArgsSchema(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))


class ImportArgsSchema(Schema):
    status = fields.Enum(FactorSetStatus, by_value=True, load_default=FactorSetStatus.PUBLISHED)
