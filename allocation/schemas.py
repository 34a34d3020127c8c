"""Request and response schemas of the allocation API.

The plan body is the plan document itself (``allocation.rules.plan``); its members are taken as
sent (``Raw``) and checked by ``parse_plan``, the same check the CLI and imports run, so
every channel reports the same problems with the same pointers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import fields, post_load, validate

from allocation.models import (
    FACTOR_SCALE,
    FREE_SCALE,
    SHARE_SCALE,
    AuctionStatus,
    BidStatus,
    EntrantKind,
    PlanStatus,
    RecordStatus,
    ReductionKind,
    Stage,
)
from allocation.rules.inputs import BenchmarkInputs
from carbon_market.kernel.schemas import PageArgsSchema, Schema, max_places
from carbon_market.kernel.types import MAX_ID
from carbon_market.ledger.rules import MAX_VINTAGE, MIN_VINTAGE
from carbon_market.mrv.reports.schemas import MAX_STORED

YEAR = validate.Range(min=2001, max=2100)
#: A row id the 64-bit columns can hold: a larger one would overflow the driver (a 500).
ID = validate.Range(min=1, max=MAX_ID)
#: A reserve record's output and heat: below 10**12, as a report's figures (the registry's
#: inputs to the same benchmark), so the pro-rata step stays within its Decimal context.
FIGURE = validate.Range(min=0, min_inclusive=False, max=MAX_STORED, max_inclusive=False)
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


class PlanFileSchema(Schema):
    """A multipart upload: the plan document as exported, and an optional scenario name."""

    file = Upload(required=True, metadata={"description": "The plan document, UTF-8 JSON"})
    name = fields.String(validate=NAME, metadata={"description": "Default: the year"})


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
    a = fields.Integer(required=True, validate=ID, metadata={"description": "First plan id"})
    b = fields.Integer(required=True, validate=ID, metadata={"description": "Second plan id"})


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


def _money(description: str, **kwargs: object) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        validate=[validate.Range(min=0, min_inclusive=False), max_places(2)],
        metadata={"description": description, "example": "58.20"},
        **kwargs,  # type: ignore[arg-type]
    )


UNITS = validate.Range(min=1)


class AuctionOpenSchema(Schema):
    """An auction's terms. Instants are ISO 8601 with an offset (stored in UTC)."""

    plan_id = fields.Integer(
        validate=ID, metadata={"description": "An approved plan; sets the year"}
    )
    year = fields.Integer(validate=YEAR, metadata={"description": "Required without a plan"})
    unit_kind = fields.String(load_default="allowance", validate=validate.Length(1, 32))
    vintage = fields.Integer(
        validate=validate.Range(MIN_VINTAGE, MAX_VINTAGE),
        metadata={"description": "Default: the year"},
    )
    volume = fields.Integer(required=True, strict=True, validate=UNITS)
    reserve_price = _money("CNY per unit; bids below it are refused", required=True)
    bidder_limit = fields.Integer(
        required=True,
        strict=True,
        validate=UNITS,
        metadata={"description": "Most units one enterprise may ask for, over all its bids"},
    )
    opens_at = fields.AwareDateTime(required=True, metadata={"example": "2026-06-01T09:00+08:00"})
    closes_at = fields.AwareDateTime(required=True, metadata={"example": "2026-06-01T15:00+08:00"})


class AuctionSchema(Schema):
    id = fields.Integer()
    plan_id = fields.Integer(allow_none=True)
    year = fields.Integer()
    unit_kind = fields.String()
    vintage = fields.Integer()
    volume = fields.Integer()
    reserve_price = fields.Decimal(as_string=True, places=2)
    bidder_limit = fields.Integer()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    status = fields.Enum(AuctionStatus, by_value=True)
    clearing_price = fields.Decimal(
        as_string=True,
        places=2,
        allow_none=True,
        metadata={"description": "Empty until cleared, and when no bid was accepted"},
    )
    sold = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    cleared_at = fields.AwareDateTime(allow_none=True)
    settled_at = fields.AwareDateTime(allow_none=True)


class AuctionQueryArgsSchema(PageArgsSchema):
    year = fields.Integer(validate=YEAR)
    status = fields.Enum(AuctionStatus, by_value=True)


class BidInSchema(Schema):
    price = _money("CNY per unit, at most two places", required=True)
    quantity = fields.Integer(required=True, strict=True, validate=UNITS)


class BidSchema(Schema):
    id = fields.Integer(metadata={"description": "Also the order of arrival"})
    auction_id = fields.Integer()
    enterprise_id = fields.Integer()
    price = fields.Decimal(as_string=True, places=2)
    quantity = fields.Integer()
    submitted_at = fields.AwareDateTime()
    submitted_by = fields.String()
    status = fields.Enum(
        BidStatus, by_value=True, metadata={"description": "withdrawn: out of the clearing"}
    )
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    awarded = fields.Integer(allow_none=True, metadata={"description": "Set at clearing"})
    amount_due = fields.Decimal(
        as_string=True,
        places=2,
        allow_none=True,
        metadata={"description": "awarded × clearing price, CNY; set at clearing"},
    )
    settlement_tx_id = fields.Integer(allow_none=True)


class SettleSummarySchema(Schema):
    auction_id = fields.Integer()
    settled = fields.Integer(metadata={"description": "Bids settled by this request"})
    units = fields.Integer(metadata={"description": "Units moved by this request"})
    amount_due = fields.Decimal(
        as_string=True, places=2, metadata={"description": "Cash owed for those bids"}
    )
    already_settled = fields.Integer(metadata={"description": "Settled by earlier requests"})


class StageSummarySchema(Schema):
    plan_id = fields.Integer()
    stage = fields.String()
    moved = fields.Integer(metadata={"description": "Facilities moved by this request"})
    issued = fields.Integer(metadata={"description": "Allowances issued by this request"})
    clawed_back = fields.Integer(metadata={"description": "Allowances taken back"})
    short = fields.Integer(
        metadata={"description": "Claw-backs pending: the account does not hold the units"}
    )
    already_moved = fields.Integer(metadata={"description": "Moved by earlier requests"})


class AdjustmentArgsSchema(PageArgsSchema):
    stage = fields.Enum(Stage, by_value=True)
    status = fields.Enum(RecordStatus, by_value=True)


class AdjustmentSchema(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    stage = fields.Enum(Stage, by_value=True)
    facility_id = fields.Integer()
    enterprise_id = fields.Integer()
    basis = fields.Integer(
        allow_none=True, metadata={"description": "The allocation the movement derives from"}
    )
    quantity = fields.Integer(metadata={"description": "Negative: clawed back"})
    note = fields.String()
    breakdown = fields.Dict()
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    tx_id = fields.Integer(
        allow_none=True,
        metadata={"description": "Empty while pending, and for an approved reduction: owed"},
    )
    status = fields.Enum(
        RecordStatus,
        by_value=True,
        metadata={"description": "Reserve records: pending until a second regulator decides"},
    )
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


#: The loaded fields that make up a reserve record's :class:`BenchmarkInputs`.
_INPUT_FIELDS = frozenset(field.name for field in dataclasses.fields(BenchmarkInputs))


def _annual_output(description: str | None = None) -> fields.Decimal:
    """A reserve record's annual output: one rule (positive, below what is stored, six
    places) for every kind of record; each describes it its own way."""
    metadata = {"description": description, "example": "1000"} if description else {}
    return fields.Decimal(
        required=True, as_string=True, validate=[FIGURE, max_places(6)], metadata=metadata
    )


class _BenchmarkInputsSchema(Schema):
    """The benchmark's inputs a reserve record gives beside its output (the facility's
    category unless named). Each record's schema adds ``facility_id`` and ``output`` (the
    two describe the output differently), its date and its kind; loading gives the record's
    own fields and ``inputs``, the shared ones as one value, as the services take them."""

    category = fields.String(
        validate=validate.Length(1, 40), metadata={"description": "Default: the facility type"}
    )
    heat_supplied_gj = fields.Decimal(
        as_string=True,
        validate=[validate.Range(min=0, max=MAX_STORED, max_inclusive=False), max_places(6)],
    )
    cooling = fields.String(validate=validate.OneOf(["air", "water"]))
    heat_supply_ratio = fields.Decimal(
        as_string=True, validate=[validate.Range(min=0, max=1), max_places(6)]
    )
    load_rate = fields.Decimal(
        as_string=True, validate=[validate.Range(min=0, max=1), max_places(6)]
    )

    @post_load
    def _inputs(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        own = {name: value for name, value in data.items() if name not in _INPUT_FIELDS}
        shared = {name: value for name, value in data.items() if name in _INPUT_FIELDS}
        return own | {"inputs": BenchmarkInputs(**shared)}


class BenchmarkInputsSchema(_BenchmarkInputsSchema):
    """The shared inputs alone, for a channel that takes a record's date and kind its own
    way (the command line's options): the same checks and messages as the API's."""

    facility_id = fields.Integer(required=True, validate=ID)
    output = _annual_output()


class EntrantInSchema(_BenchmarkInputsSchema):
    """A new entrant or capacity change: annual figures; the allocation is pro rata."""

    facility_id = fields.Integer(required=True, validate=ID)
    kind = fields.Enum(EntrantKind, by_value=True, load_default=EntrantKind.NEW_ENTRANT)
    output = _annual_output("Annual output (a change: the added output)")
    start_date = fields.Date(required=True, metadata={"description": "First day operating"})


class ReductionInSchema(_BenchmarkInputsSchema):
    """A capacity reduction or closure: annual figures removed; the return is pro rata."""

    facility_id = fields.Integer(required=True, validate=ID)
    kind = fields.Enum(ReductionKind, by_value=True, load_default=ReductionKind.CAPACITY_REDUCTION)
    output = _annual_output("Annual output removed (a closure: the facility's whole output)")
    effective_date = fields.Date(
        required=True, metadata={"description": "First day without the capacity"}
    )


class RejectSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))
