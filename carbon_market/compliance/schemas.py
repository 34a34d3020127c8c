"""Request and response schemas of compliance. Tonnes are integers; money and multiples
decimal strings; deadlines ISO dates (Asia/Shanghai)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_market.compliance.enums import ComplianceStatusKind
from carbon_market.compliance.models import MULTIPLE_SCALE
from carbon_market.compliance.rules.rulebook import RULEBOOKS
from carbon_market.kernel.schemas import Schema, max_places
from carbon_market.ledger.rules import MAX_VINTAGE, MIN_VINTAGE

YEAR = {"validate": validate.Range(min=MIN_VINTAGE, max=MAX_VINTAGE), "strict": True}
CREDIT_CODE = {"description": "The enterprise's unified social credit code"}
FORMAT = validate.OneOf(["json", "csv"])
#: The highest penalty multiple anyone may set, the rulebook's range included (national
#: 5–10, Beijing 3–5). A range edited beyond it let a multiple overflow its 64-bit column
#: (a 500) or a penalty overflow its amount.
MAX_MULTIPLE = 100
MULTIPLE_RANGE = validate.Range(min=0, max=MAX_MULTIPLE)


class YearCreateSchema(Schema):
    year = fields.Integer(required=True, **YEAR)  # type: ignore[arg-type]
    rulebook = fields.String(required=True, validate=validate.OneOf(RULEBOOKS))
    reporting_deadline = fields.Date(metadata={"description": "Default: the rulebook's"})
    verification_deadline = fields.Date(metadata={"description": "Default: the rulebook's"})
    surrender_deadline = fields.Date(metadata={"description": "Default: the rulebook's"})


class OffsetsPatchSchema(Schema):
    basis = fields.String(validate=validate.OneOf(["obligation", "allocation"]))
    share_cap = fields.Decimal(as_string=True, validate=validate.Range(min=0, max=1))
    outside_share_cap = fields.Decimal(
        as_string=True, allow_none=True, validate=validate.Range(min=0, max=1)
    )


class PenaltyPatchSchema(Schema):
    multiple_min = fields.Decimal(
        as_string=True, validate=[MULTIPLE_RANGE, max_places(MULTIPLE_SCALE)]
    )
    multiple_max = fields.Decimal(
        as_string=True, validate=[MULTIPLE_RANGE, max_places(MULTIPLE_SCALE)]
    )
    price_window = fields.String(
        validate=validate.OneOf(["month_before_deadline", "six_months_before_deadline"])
    )
    deduct_uncorrected = fields.Boolean()


class CapsPatchSchema(Schema):
    gas_capped_at_allocation = fields.Boolean()
    shortfall_share_cap = fields.Decimal(
        as_string=True, allow_none=True, validate=validate.Range(min=0, max=1)
    )
    shortfall_cap_years = fields.List(fields.Integer(strict=True))


class YearPatchSchema(Schema):
    """Any of these; ``offsets``, ``penalty`` and ``obligation_caps`` merge member by
    member, the rest replace."""

    reporting_deadline = fields.Date()
    verification_deadline = fields.Date()
    surrender_deadline = fields.Date()
    banking = fields.Boolean()
    surrenderable = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(["allowance", "offset"])),
    )
    outside_kinds = fields.List(fields.String())
    offsets = fields.Nested(OffsetsPatchSchema)
    penalty = fields.Nested(PenaltyPatchSchema)
    obligation_caps = fields.Nested(CapsPatchSchema)

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one member to change", "_schema")


class YearSchema(Schema):
    year = fields.Integer()
    rulebook = fields.String(attribute="rulebook_name")
    reporting_deadline = fields.Date()
    verification_deadline = fields.Date()
    surrender_deadline = fields.Date()
    penalty_multiple = fields.Decimal(as_string=True, places=2)
    rules = fields.Dict(attribute="document", metadata={"description": "The rulebook as edited"})
    opened_at = fields.AwareDateTime()
    opened_by = fields.String()
    updated_at = fields.AwareDateTime()


class MultipleSchema(Schema):
    multiple = fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=0, min_inclusive=False, max=MAX_MULTIPLE),
            max_places(MULTIPLE_SCALE),
        ],
        metadata={"description": "Within the rulebook's range", "example": "5"},
    )


class ExtensionCreateSchema(Schema):
    enterprise = fields.String(required=True, metadata=CREDIT_CODE)
    until = fields.Date(required=True, metadata={"description": "The new surrender deadline"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ExtensionSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    enterprise = fields.Function(lambda e: e.enterprise.credit_code)
    until = fields.Date()
    reason = fields.String()
    granted_by = fields.String()
    granted_at = fields.AwareDateTime()


class ExemptionCreateSchema(Schema):
    enterprise = fields.String(required=True, metadata=CREDIT_CODE)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ExemptionSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    enterprise = fields.Function(lambda e: e.enterprise.credit_code)
    reason = fields.String()
    granted_by = fields.String()
    granted_at = fields.AwareDateTime()


class SurrenderCreateSchema(Schema):
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    vintage = fields.Integer(required=True, **YEAR)  # type: ignore[arg-type]
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    account = fields.String(
        metadata={"description": "Optional: the caller's own compliance account number"}
    )


class SurrenderSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    enterprise = fields.Function(lambda s: s.enterprise.credit_code)
    unit_kind = fields.String()
    vintage = fields.Integer()
    quantity = fields.Integer()
    counts_as = fields.String(metadata={"description": "allowance or offset"})
    is_outside = fields.Boolean(metadata={"description": "An offset from outside"})
    transaction_id = fields.Integer(
        metadata={"description": "Approve it at /api/v1/transactions/{id}/approve"}
    )
    transaction_status = fields.Function(lambda s: s.transaction.status.value)
    requested_at = fields.AwareDateTime()
    requested_by = fields.String()


class StatusArgsSchema(Schema):
    sector = fields.String()
    district = fields.String()
    status = fields.Enum(ComplianceStatusKind, by_value=True)
    format = fields.String(load_default="json", validate=FORMAT)


class FormatArgsSchema(Schema):
    format = fields.String(load_default="json", validate=FORMAT)


class StatusRowSchema(Schema):
    enterprise = fields.String(metadata=CREDIT_CODE)
    name = fields.String()
    sector = fields.String()
    district = fields.String()
    obligation_t = fields.Integer()
    surrendered_t = fields.Integer()
    offsets_surrendered_t = fields.Integer()
    shortfall_t = fields.Integer()
    status = fields.Enum(ComplianceStatusKind, by_value=True)
    as_of = fields.Date(metadata={"description": "The day the last sweep computed it for"})


class SweepSchema(Schema):
    year = fields.Integer()
    as_of = fields.Date()
    enterprises = fields.Integer()
    statuses = fields.Dict(keys=fields.String(), values=fields.Integer())


class PenaltySchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    enterprise = fields.Function(lambda p: p.enterprise.credit_code)
    name = fields.Function(lambda p: p.enterprise.name)
    shortfall_t = fields.Integer()
    multiple = fields.Decimal(as_string=True, places=2)
    average_price = fields.Decimal(as_string=True, places=2)
    amount = fields.Decimal(as_string=True, places=2)
    allocation_deduction_t = fields.Integer()
    price_from = fields.Date()
    price_to = fields.Date()
    assessed_on = fields.Date()
    assessed_by = fields.String()
    #: ``current``; ``superseded`` or ``cancelled`` by a correction (docs/compliance.md).
    status = fields.String()
    correction_id = fields.Integer(allow_none=True)
    ended_by_id = fields.Integer(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)


class PenaltyArgsSchema(Schema):
    format = fields.String(load_default="json", validate=FORMAT)
    #: ``superseded``: also the penalties corrections superseded or cancelled.
    include = fields.String(validate=validate.OneOf(["superseded"]))


class CorrectionSchema(Schema):
    """A corrected report version applied to the enterprise's year."""

    id = fields.Integer()
    year = fields.Integer()
    enterprise = fields.Function(lambda c: c.enterprise.credit_code)
    report_id = fields.Integer()
    version = fields.Integer()
    previous_obligation_t = fields.Integer()
    obligation_t = fields.Integer()
    returned_t = fields.Integer()
    status_before = fields.String(allow_none=True)
    status_after = fields.String()
    applied_at = fields.DateTime()
    applied_by = fields.String()


class ForecastArgsSchema(Schema):
    warnings = fields.Boolean(
        load_default=False, metadata={"description": "Only enterprises likely to fall short"}
    )
    format = fields.String(load_default="json", validate=FORMAT)


class ForecastRowSchema(Schema):
    """One enterprise's projection and outlook (``compliance.projections``)."""

    enterprise = fields.String(metadata=CREDIT_CODE)
    name = fields.String()
    sector = fields.String()
    district = fields.String()
    months_filed = fields.Function(lambda r: r.projection.months_filed)
    method = fields.Function(
        lambda r: r.projection.method,
        metadata={"description": "complete, seasonal, run_rate or annual_only"},
    )
    projected_t = fields.Function(lambda r: r.projection.projected_t)
    obligation_t = fields.Function(lambda r: r.outlook.obligation_t)
    covered_t = fields.Function(lambda r: r.outlook.covered_t)
    expected_shortfall_t = fields.Function(lambda r: r.outlook.expected_shortfall_t)
    price = fields.Function(lambda r: None if r.price is None else f"{r.price:.2f}")
    expected_cost = fields.Function(
        lambda r: None if r.outlook.expected_cost is None else f"{r.outlook.expected_cost:.2f}"
    )
    penalty_exposure = fields.Function(
        lambda r: (
            None if r.outlook.penalty_exposure is None else f"{r.outlook.penalty_exposure:.2f}"
        )
    )
    warn = fields.Function(lambda r: r.outlook.warn)
