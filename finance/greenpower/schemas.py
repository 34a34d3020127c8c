"""Request and response schemas of the green-power API. Decimals are strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields, validate

from carbon_market.emitters.schemas import CreditCodeField
from carbon_market.kernel.schemas import PageArgsSchema, Schema, max_places
from carbon_market.kernel.types import round_half_up
from finance.greenpower.models import ENERGY_SCALE, CertificateStatus, PlantKind, TargetMetric

YEAR = validate.Range(min=2000, max=2100)
SERIAL = fields.Integer(required=True, validate=validate.Range(min=1, max=10**15))
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$", error="a lower-case code such as hebei")


def _energy(description: str, *, required: bool = True) -> fields.Decimal:
    return fields.Decimal(
        required=required,
        as_string=True,
        validate=[
            validate.Range(min=0, min_inclusive=False, max=Decimal("1E12"), max_inclusive=False),
            max_places(ENERGY_SCALE),
        ],
        metadata={"description": description},
    )


def _money(description: str) -> fields.Decimal:
    return fields.Decimal(
        required=True,
        as_string=True,
        validate=[validate.Range(min=0, max=Decimal("1E12"), max_inclusive=False), max_places(2)],
        metadata={"description": description},
    )


class PlantCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.Enum(PlantKind, by_value=True, required=True)
    capacity_mw = _energy("Installed capacity, MW")
    province = fields.String(
        required=True, validate=CODE, metadata={"description": "`beijing`, `hebei`, ..."}
    )
    grid_region = fields.String(required=True, validate=CODE, metadata={"example": "north_china"})
    location = fields.String(validate=validate.Length(max=200))
    commissioned_on = fields.Date()


def _stated(places: int) -> fields.Decimal:
    """A stored decimal shown with the column's places, as read back or just written."""
    return fields.Decimal(as_string=True, places=places)


class PlantSchema(PlantCreateSchema):
    id = fields.Integer()
    capacity_mw = _stated(ENERGY_SCALE)
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class PlantQueryArgsSchema(PageArgsSchema):
    kind = fields.Enum(PlantKind, by_value=True)
    province = fields.String(validate=CODE)


class TradeCreateSchema(Schema):
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The trading centre's reference; recorded once"},
    )
    plant = fields.Integer(required=True, metadata={"description": "Seller plant id"})
    buyer = CreditCodeField(required=True, metadata={"description": "Buyer's credit code"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    mwh = _energy("Energy traded, MWh")
    price_cny_per_mwh = _money("Energy price, CNY/MWh")
    green_premium_cny_per_mwh = _money("Green premium (绿色电力环境价值), CNY/MWh")


class TradeSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    plant = fields.Integer(attribute="plant_id")
    buyer_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    mwh = _stated(ENERGY_SCALE)
    price_cny_per_mwh = _stated(2)
    green_premium_cny_per_mwh = _stated(2)
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class TradeQueryArgsSchema(PageArgsSchema):
    buyer = CreditCodeField()
    plant = fields.Integer()
    year = fields.Integer(validate=YEAR, metadata={"description": "Year the period ends in"})


class CertificateIssueSchema(Schema):
    plant = fields.Integer(required=True)
    generation_year = fields.Integer(required=True, validate=YEAR)
    serial_start = SERIAL
    serial_end = SERIAL
    holder = CreditCodeField(metadata={"description": "Holder's credit code (default: plant)"})
    trade = fields.Integer(metadata={"description": "Trade the certificates belong to"})


class CertificateSchema(Schema):
    id = fields.Integer()
    plant = fields.Integer(attribute="plant_id")
    trade = fields.Integer(attribute="trade_id", allow_none=True)
    generation_year = fields.Integer()
    serial_start = fields.Integer()
    serial_end = fields.Integer()
    mwh = fields.Integer(metadata={"description": "Certificates in the block (1 per MWh)"})
    holder_id = fields.Integer(allow_none=True)
    status = fields.Enum(CertificateStatus, by_value=True)
    claim = fields.Integer(attribute="claim_id", allow_none=True)
    issued_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CertificateQueryArgsSchema(PageArgsSchema):
    holder = CreditCodeField()
    status = fields.Enum(CertificateStatus, by_value=True)
    plant = fields.Integer()


class TransferSchema(Schema):
    serial_start = SERIAL
    serial_end = SERIAL
    to = CreditCodeField(required=True, metadata={"description": "Receiver's credit code"})
    sender = CreditCodeField(
        metadata={"description": "Regulators only: whose certificates (default: the plant's)"}
    )


class ClaimCreateSchema(Schema):
    enterprise = CreditCodeField(required=True, metadata={"description": "Consumer"})
    year = fields.Integer(required=True, validate=YEAR)
    serial_start = SERIAL
    serial_end = SERIAL
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClaimSchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    year = fields.Integer()
    purpose = fields.String()
    serial_start = fields.Integer()
    serial_end = fields.Integer()
    mwh = fields.Integer()
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class ClaimQueryArgsSchema(PageArgsSchema):
    year = fields.Integer(validate=YEAR)


class TargetCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    metric = fields.Enum(TargetMetric, by_value=True, required=True)
    year = fields.Integer(required=True, validate=YEAR)
    target_value = _energy("MWh or MW, as the metric says")
    plant_kind = fields.Enum(PlantKind, by_value=True, metadata={"description": "Capacity only"})


class TargetSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    metric = fields.Enum(TargetMetric, by_value=True)
    year = fields.Integer()
    plant_kind = fields.Enum(PlantKind, by_value=True, allow_none=True)
    target_value = _stated(ENERGY_SCALE)
    achieved = _stated(ENERGY_SCALE)
    progress_pct = fields.Decimal(
        as_string=True, metadata={"description": "achieved ÷ target × 100, 2 places, half up"}
    )
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class TargetQueryArgsSchema(PageArgsSchema):
    year = fields.Integer(validate=YEAR)


def target_document(target: Any, achieved: Decimal) -> dict[str, Any]:
    """A target with its progress, for :class:`TargetSchema`."""
    progress = round_half_up(achieved * 100 / target.target_value, 2)
    return {
        name: getattr(target, name)
        for name in ("id", "name", "metric", "year", "plant_kind", "target_value", "created_at")
    } | {"created_by": target.created_by, "achieved": achieved, "progress_pct": progress}
