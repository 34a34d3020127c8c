"""Request and response schemas for emission reports.

The streams are checked by the calculator (every error at once, with its pointer), not
here: a schema would report the same problems in a second, different shape.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from carbon_market.emitters.schemas import CreditCodeField
from carbon_market.kernel.schemas import PageArgsSchema, Schema, max_places
from carbon_market.mrv.calculator.emissions import CODE_KEY, StreamKind
from carbon_market.mrv.factors.schemas import YEAR
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.indicators import intensity, monthly_document
from carbon_market.mrv.reports.models import CO2_SCALE, QUANTITY_SCALE, EmissionReport, ReportStream
from carbon_market.mrv.reports.output import Output

#: Stored decimals are ``ScaledDecimal(6)`` in a 64-bit integer: below 10**12.
MAX_STORED = Decimal("1E12")

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


def _positive_stored(description: str) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        allow_none=True,
        load_default=None,
        validate=[
            validate.Range(min=0, min_inclusive=False, max=Decimal("1E12"), max_inclusive=False),
            max_places(QUANTITY_SCALE),
        ],
        metadata={"description": description},
    )


class OutputSchema(Schema):
    """The year's output: the denominators of the intensity indicators."""

    quantity = _positive_stored("Physical output in `unit` (e.g. 1200000 t clinker)")
    unit = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Free text, e.g. `t clinker`, `MWh`; given with quantity"},
    )
    value_10k_cny = _positive_stored("Output value in 10⁴ CNY (万元)")

    @validates_schema
    def _unit_with_quantity(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("quantity") is None) != (data.get("unit") is None):
            raise ValidationError("quantity and unit go together", "unit")
        if data.get("quantity") is None and data.get("value_10k_cny") is None:
            raise ValidationError("give quantity and unit, value_10k_cny, or both", "quantity")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Output:
        return Output(**data)


OUTPUT = fields.Nested(
    OutputSchema,
    allow_none=True,
    metadata={"description": "The year's output, for the intensity indicators; null clears it"},
)


def _stored(description: str, *, fraction: bool = False) -> fields.Decimal:
    """A non-negative decimal of a facility line (a fraction of 1 when ``fraction``)."""
    top = {"max": Decimal(1)} if fraction else {"max": MAX_STORED, "max_inclusive": False}
    return fields.Decimal(
        as_string=True,
        allow_none=True,
        load_default=None,
        validate=[validate.Range(min=0, **top), max_places(QUANTITY_SCALE)],
        metadata={"description": description},
    )


class FacilityLineSchema(Schema):
    """One facility's share of the report: output and the power corrections' yearly inputs."""

    facility = fields.Integer(
        required=True, strict=True, metadata={"description": "Facility id (of this enterprise)"}
    )
    output = _stored("The facility's output of the year (MWh for a power unit)")
    heat_supply_ratio = _stored(
        "Heat-supply ratio r, a fraction 0–1 (0: pure condensing)", fraction=True
    )
    load_rate = _stored("Load rate F, a fraction 0–1 (0.82 = 82 %)", fraction=True)
    heat_supplied_gj = _stored("Heat supplied, GJ")


FACILITIES = fields.List(
    fields.Nested(FacilityLineSchema),
    validate=validate.Length(max=500),
    metadata={
        "description": "Per-facility figures, one line per facility: required for allocation "
        "from the registry when the enterprise has several facilities; the verifier splits "
        "the verified figure over them"
    },
)


class ReportCreateSchema(Schema):
    enterprise = CreditCodeField(required=True, metadata={"description": "Credit code"})
    year = fields.Integer(required=True, validate=YEAR)
    streams = STREAMS
    output = OUTPUT
    facilities = fields.List(
        fields.Nested(FacilityLineSchema),
        load_default=list,
        validate=validate.Length(max=500),
        metadata=FACILITIES.metadata,
    )


class ReportUpdateSchema(Schema):
    """PUT: the whole editable content; an absent ``output`` or ``facilities`` clears it."""

    streams = STREAMS
    output = fields.Nested(OutputSchema, allow_none=True, load_default=None)
    facilities = fields.List(
        fields.Nested(FacilityLineSchema),
        load_default=list,
        validate=validate.Length(max=500),
        metadata=FACILITIES.metadata,
    )


class ReportPatchSchema(Schema):
    """PATCH: the members given replace theirs; the others stay."""

    streams = fields.List(
        fields.Dict(keys=fields.String()),
        validate=validate.Length(min=1, max=2000),
        metadata=STREAMS.metadata,
    )
    output = OUTPUT
    facilities = FACILITIES

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("give streams, output, facilities or several", "_schema")


class ReportAssignSchema(Schema):
    verifier = fields.String(required=True, validate=validate.Length(min=1, max=64))


def _verified_co2() -> fields.Decimal:
    return fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=0, max=MAX_STORED, max_inclusive=False),
            max_places(CO2_SCALE),
        ],
    )


class FacilityVerifiedSchema(Schema):
    facility = fields.Integer(required=True, strict=True)
    verified_co2_t = _verified_co2()


class ReportVerifySchema(Schema):
    verified_co2_t = _verified_co2()
    facilities = fields.List(
        fields.Nested(FacilityVerifiedSchema),
        load_default=None,
        validate=validate.Length(max=500),
        metadata={
            "description": "The verified figure split over the report's facility lines (one "
            "entry per line, adding up to verified_co2_t); required when it has lines"
        },
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


def _output(report: EmissionReport) -> dict[str, Any] | None:
    output = report.output()
    if output.quantity is None and output.value_10k_cny is None:
        return None
    return {
        "quantity": _decimal_text(output.quantity),
        "unit": output.unit,
        "value_10k_cny": _decimal_text(output.value_10k_cny),
    }


def facility_lines(report: EmissionReport) -> list[dict[str, Any]]:
    """The report's facility lines as filed (decimals as text), with the verified split."""
    return [
        {
            "facility": line.facility_id,
            "output": _decimal_text(line.output_quantity),
            "heat_supply_ratio": _decimal_text(line.heat_supply_ratio),
            "load_rate": _decimal_text(line.load_rate),
            "heat_supplied_gj": _decimal_text(line.heat_supplied_gj),
            "verified_co2_t": _decimal_text(line.verified_co2_t),
        }
        for line in report.facilities
    ]


def _intensity(report: EmissionReport) -> dict[str, Any] | None:
    """On the verified figure once there is one, else on the reported figure."""
    if report.verified_co2_t is not None:
        return intensity(report.verified_co2_t, report.output(), basis="verified")
    return intensity(report.co2_t, report.output(), basis="reported")


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
    flag_count = fields.Integer(metadata={"description": "How many review flags it has"})
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
    output = fields.Function(_output, metadata={"description": "The year's output or null"})
    facilities = fields.Function(
        facility_lines,
        metadata={
            "description": "Per-facility lines as filed, with the verifier's per-facility "
            "verified_co2_t once verified"
        },
    )
    intensity = fields.Function(
        _intensity,
        metadata={
            "description": "tCO2 per output unit and per 10⁴ CNY (6 places, half up), on "
            "the verified figure once verified (`basis`); null without output"
        },
    )
    monthly = fields.Function(
        lambda report: monthly_document(
            [s.month for s in report.streams], report.breakdown["streams"]
        ),
        metadata={"description": "CO2 by month and of streams filed for the whole year"},
    )
    flags = fields.List(
        fields.Dict(),
        metadata={
            "description": "Values for the verifier and the regulator to look at: "
            "`fuel_range` (a supplied factor outside the fuel's expected range) and "
            "`monthly_jump` (a month against the same month last year, or the three before)"
        },
    )


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
    flagged = fields.Boolean(metadata={"description": "Only reports with (true) or without flags"})
