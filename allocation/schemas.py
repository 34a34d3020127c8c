"""Request and response schemas of the allocation API.

The plan body is the plan document itself (``allocation.plan``); its members are taken as
sent (``Raw``) and checked by ``parse_plan``, the same check the CLI and imports run, so
every channel reports the same problems with the same pointers.
"""

from __future__ import annotations

from marshmallow import fields, validate

from allocation.models import FACTOR_SCALE, FREE_SCALE, SHARE_SCALE, PlanStatus
from carbon_market.schemas import PageArgsSchema, Schema

YEAR = validate.Range(min=2001, max=2100)
NAME = validate.Length(min=1, max=100)


class PlanDocumentSchema(Schema):
    """The plan document (decimals as strings), plus an optional ``name`` (default: the
    year) that tells scenarios of one year apart."""

    name = fields.String(validate=NAME)
    year = fields.Raw(metadata={"example": 2025})
    cap = fields.Raw(metadata={"example": 45000000, "description": "Whole allowances"})
    reserve_share = fields.Raw(metadata={"example": "0.05"})
    auction_share = fields.Raw(metadata={"example": "0.03"})
    base_years = fields.Raw(metadata={"example": [2022, 2023, 2024]})
    pre_allocation_share = fields.Raw(metadata={"example": "0.7"})
    sectors = fields.Raw(
        metadata={
            "example": {"cement": {"method": "historical_emissions", "control_factor": "0.97"}}
        }
    )


class PlanSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    status = fields.Enum(PlanStatus, by_value=True)
    cap = fields.Integer()
    reserve_share = fields.Decimal(as_string=True, places=SHARE_SCALE)
    auction_share = fields.Decimal(as_string=True, places=SHARE_SCALE)
    document = fields.Dict()
    scale_factor = fields.Decimal(as_string=True, places=FACTOR_SCALE, allow_none=True)
    total_allocation = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    approved_at = fields.AwareDateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    issued_at = fields.AwareDateTime(allow_none=True)


class PlanQueryArgsSchema(PageArgsSchema):
    year = fields.Integer(validate=YEAR)
    status = fields.Enum(PlanStatus, by_value=True)


class CopySchema(Schema):
    year = fields.Integer(validate=YEAR, metadata={"description": "Default: the next year"})
    name = fields.String(validate=NAME)


class CompareArgsSchema(Schema):
    a = fields.Integer(required=True, metadata={"description": "First plan id"})
    b = fields.Integer(required=True, metadata={"description": "Second plan id"})


class FacilityResultSchema(Schema):
    """One facility in a dry run: ``allocation`` is empty when ``note`` says why."""

    facility_id = fields.Raw()
    enterprise = fields.String()
    sector = fields.String()
    category = fields.String()
    method = fields.String(allow_none=True)
    free_allocation = fields.String(allow_none=True)
    scale_factor = fields.String()
    allocation = fields.Integer(allow_none=True)
    note = fields.String()
    breakdown = fields.Dict()


class SummarySchema(Schema):
    facilities = fields.Integer()
    allocated = fields.Integer()
    not_allocated = fields.Integer()
    free_budget = fields.Decimal(as_string=True)
    total_free_allocation = fields.Decimal(as_string=True)
    scale_factor = fields.Decimal(as_string=True)
    total_allocation = fields.Integer()


class DryRunSchema(Schema):
    summary = fields.Nested(SummarySchema)
    results = fields.List(fields.Nested(FacilityResultSchema))


class ComparisonRowSchema(Schema):
    facility_id = fields.Raw()
    enterprise = fields.String()
    sector = fields.String()
    allocation_a = fields.Integer(allow_none=True)
    allocation_b = fields.Integer(allow_none=True)
    difference = fields.Integer(allow_none=True)


class StoredResultSchema(Schema):
    id = fields.Integer()
    facility_id = fields.Integer()
    enterprise_id = fields.Integer()
    sector = fields.String()
    category = fields.String()
    method = fields.String(allow_none=True)
    free_allocation = fields.Decimal(as_string=True, places=FREE_SCALE, allow_none=True)
    allocation = fields.Integer(allow_none=True)
    note = fields.String()
    breakdown = fields.Dict()
    issued_tx_id = fields.Integer(allow_none=True)


class IssueSummarySchema(Schema):
    plan_id = fields.Integer()
    issued = fields.Integer(metadata={"description": "Results issued by this request"})
    units = fields.Integer(metadata={"description": "Allowances moved by this request"})
    already_issued = fields.Integer(metadata={"description": "Issued by earlier requests"})
    batches = fields.Integer()
