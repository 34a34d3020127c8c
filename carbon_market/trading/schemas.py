"""Request and response schemas of trades and the market. Prices are decimal strings."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

from carbon_market.kernel.schemas import PageArgsSchema, Schema, max_places
from carbon_market.ledger.rules import MAX_VINTAGE, MIN_VINTAGE
from carbon_market.ledger.schemas import ACCOUNT_NUMBER
from carbon_market.trading.models import TradeKind, TradeStatus

#: Prices above this are typing errors, not carbon prices (CNY per tonne).
MAX_PRICE = Decimal("1000000")


def price_field(**kwargs: object) -> fields.Decimal:
    return fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=0, min_inclusive=False, max=MAX_PRICE, max_inclusive=False),
            max_places(2),
        ],
        metadata={"description": "CNY per tonne, at most two places", "example": "58.20"},
        **kwargs,  # type: ignore[arg-type]
    )


class MarketTradeCreateSchema(Schema):
    """A trade as the exchange reports it."""

    kind = fields.Enum(TradeKind, by_value=True, required=True)
    seller_account = fields.String(required=True, metadata=ACCOUNT_NUMBER)
    buyer_account = fields.String(required=True, metadata=ACCOUNT_NUMBER)
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    vintage = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=MIN_VINTAGE, max=MAX_VINTAGE)
    )
    quantity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "Whole units (tCO2e)"},
    )
    price = price_field()
    traded_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "ISO 8601 with offset; its date in Asia/Shanghai is the trading day"
        },
    )
    external_ref = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The exchange's trade number: a trade is recorded once"},
    )


class MarketTradeSchema(Schema):
    id = fields.Integer()
    external_ref = fields.String()
    kind = fields.Enum(TradeKind, by_value=True)
    seller_account = fields.Function(lambda t: t.seller.number)
    buyer_account = fields.Function(lambda t: t.buyer.number)
    unit_kind = fields.String()
    vintage = fields.Integer()
    quantity = fields.Integer()
    price = fields.Decimal(as_string=True, places=2)
    amount = fields.Decimal(
        as_string=True, places=2, metadata={"description": "Cash due, quantity × price, CNY"}
    )
    reference_price = fields.Decimal(as_string=True, places=2)
    traded_at = fields.AwareDateTime()
    trade_date = fields.Date(metadata={"description": "Trading day (Asia/Shanghai)"})
    status = fields.Enum(TradeStatus, by_value=True)
    settlement_tx_id = fields.Integer(allow_none=True)
    settled_at = fields.AwareDateTime(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    recorded_at = fields.AwareDateTime()
    recorded_by = fields.String()


class MarketTradeQueryArgsSchema(PageArgsSchema):
    unit_kind = fields.String()
    kind = fields.Enum(TradeKind, by_value=True)
    status = fields.Enum(TradeStatus, by_value=True)
    account = fields.String(metadata={"description": "Seller or buyer account number"})
    since = fields.Date(metadata={"description": "First trading day (inclusive)"})
    until = fields.Date(metadata={"description": "Last trading day (inclusive)"})


class ReferencePriceCreateSchema(Schema):
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    day = fields.Date(required=True, data_key="date", metadata={"description": "From this day"})
    price = price_field()


class ReferencePriceSchema(Schema):
    id = fields.Integer()
    unit_kind = fields.String()
    day = fields.Date(data_key="date")
    price = fields.Decimal(as_string=True, places=2)
    set_at = fields.AwareDateTime()
    set_by = fields.String()


class MarketRangeArgsSchema(Schema):
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    start = fields.Date(required=True, data_key="from", metadata={"description": "First day"})
    end = fields.Date(required=True, data_key="to", metadata={"description": "Last day"})


class StatsArgsSchema(MarketRangeArgsSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


def _price(description: str) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=2, metadata={"description": description})


class DailyStatsSchema(Schema):
    date = fields.Date()
    open = _price("First trade's price")
    high = _price("Highest price")
    low = _price("Lowest price")
    close = _price("VWAP of the day's listed trades; the previous close when it had none")
    vwap = _price("Volume-weighted average price of all the day's trades")
    volume = fields.Integer(metadata={"description": "Units traded"})
    turnover = _price("Σ quantity × price, CNY")
    trades = fields.Integer(metadata={"description": "Number of trades"})
    close_ma5 = fields.Decimal(as_string=True, places=2, allow_none=True)
    close_ma20 = fields.Decimal(as_string=True, places=2, allow_none=True)
    volume_ma20 = fields.Integer(allow_none=True)


class FlagSchema(Schema):
    reason = fields.String(
        metadata={"description": "same_enterprise, same_group, price_at_limit or unusual_volume"}
    )
    detail = fields.String()
    date = fields.Date()
    trade = fields.Nested(MarketTradeSchema, allow_none=True)


class LargeHoldersArgsSchema(Schema):
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    vintage = fields.Integer(
        validate=validate.Range(min=MIN_VINTAGE, max=MAX_VINTAGE),
        metadata={"description": "Allocation year counted (default: the latest allocated)"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class LargeHolderSchema(Schema):
    account = fields.String()
    holder_name = fields.String(allow_none=True)
    account_kind = fields.String()
    position = fields.Integer(
        metadata={"description": "Units held (every vintage) plus unsettled purchases"}
    )
    allocation = fields.Integer(metadata={"description": "Annual allocation counted"})
    vintage = fields.Integer(allow_none=True, metadata={"description": "Its year"})
    threshold = fields.Integer(metadata={"description": "Disclosure threshold"})
    limit = fields.Integer(metadata={"description": "Position limit"})
    excess = fields.Integer(metadata={"description": "Units above the threshold"})


class GroupCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class GroupSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    enterprise_ids = fields.List(fields.Integer())
    created_at = fields.AwareDateTime()
    created_by = fields.String()
