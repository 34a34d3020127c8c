"""Request and response schemas for emission reports.

The streams are checked by the calculator (every error at once, with its pointer), not
here: a schema would report the same problems in a second, different shape.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields, validate

from carbon_market.emitters.schemas import CreditCodeField, max_places
from carbon_market.mrv.calc import CODE_KEY, StreamKind
from carbon_market.mrv.reports_models import CO2_SCALE, ReportStatus, ReportStream
from carbon_market.mrv.schemas import YEAR
from carbon_market.schemas import PageArgsSchema, Schema

STREAMS = fields.List(
    fields.Dict(keys=fields.String()),
    required=True,
    validate=validate.Length(min=1, max=2000),
    metadata={
        "description": "Streams in the calculator's format (`carbon-market mrv calc`), each "
        'with an optional "facility" (id), "month" (1-12) and "evidence" note',
        "example": [
            {"kind": "fuel", "fuel": "natural_gas", "quantity": "1000", "unit": "10^4 Nm3"},
            {"kind": "electricity", "quantity": "10000", "unit": "MWh", "month": 1},
        ],
    },
)


class ReportCreateSchema(Schema):
    enterprise = CreditCodeField(required=True, metadata={"description": "Credit code"})
    year = fields.Integer(required=True, validate=YEAR)
    streams = STREAMS


class ReportUpdateSchema(Schema):
    streams = STREAMS


class ReportAssignSchema(Schema):
    verifier = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ReportVerifySchema(Schema):
    verified_co2_t = fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=0, max=Decimal("1E12"), max_inclusive=False),
            max_places(CO2_SCALE),
        ],
    )
    opinion = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Required when the difference exceeds the threshold"},
    )


class ReportReturnSchema(Schema):
    reasons = fields.List(
        fields.String(validate=validate.Length(min=1, max=1000)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def stream_as_input(stream: ReportStream) -> dict[str, Any]:
    """A stored stream in the format it was filed in (so a GET can be edited and PUT back)."""
    out: dict[str, Any] = {"kind": stream.kind}
    code_key = CODE_KEY[StreamKind(stream.kind)]
    if code_key:
        out[code_key] = stream.code
    out |= {"quantity": _decimal_text(stream.quantity), "unit": stream.unit}
    if stream.factors:
        out["factors"] = stream.factors
    if stream.pollutants:
        out["pollutants"] = stream.pollutants
    for key, value in (
        ("facility", stream.facility_id),
        ("month", stream.month),
        ("evidence", stream.evidence),
    ):
        if value is not None:
            out[key] = value
    return out


class ReportSummarySchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    year = fields.Integer()
    version = fields.Integer()
    status = fields.Enum(ReportStatus, by_value=True)
    factor_set_id = fields.Integer()
    co2_t = fields.Decimal(as_string=True)
    verified_co2_t = fields.Decimal(as_string=True, allow_none=True)
    obligation_t = fields.Integer(allow_none=True)
    verifier_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    updated_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)


class ReportSchema(ReportSummarySchema):
    opinion = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    return_reasons = fields.List(fields.String())
    breakdown = fields.Dict(
        metadata={"description": "The calculator's output: totals and per-stream breakdown"}
    )
    streams = fields.Function(lambda report: [stream_as_input(s) for s in report.streams])


class ReportTemplateArgsSchema(Schema):
    enterprise = CreditCodeField(required=True, metadata={"description": "Credit code"})
    year = fields.Integer(required=True, validate=YEAR)
    report = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "Prefill the streams sheet with this report's streams"},
    )


class ReportQueryArgsSchema(PageArgsSchema):
    enterprise = CreditCodeField(metadata={"description": "Credit code"})
    year = fields.Integer(validate=YEAR)
    status = fields.Enum(ReportStatus, by_value=True)
