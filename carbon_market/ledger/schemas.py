"""Request and response schemas of the registry ledger."""

from __future__ import annotations

from marshmallow import fields, validate

from carbon_market.kernel.schemas import PageArgsSchema, Schema
from carbon_market.ledger.enums import (
    AccountKind,
    AccountStatus,
    TransactionKind,
    TransactionStatus,
)
from carbon_market.ledger.models import TrustStatus
from carbon_market.ledger.posting.chain import chain_of
from carbon_market.ledger.rules import MAX_QUANTITY, MAX_VINTAGE, MIN_VINTAGE

ACCOUNT_NUMBER = {
    "example": "BJ10920852613507",
    "description": "16 characters; the last two are ISO 7064 MOD 97-10 check digits",
}


def _quantity() -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_QUANTITY),
        metadata={"description": "Whole units (1 unit = 1 tCO2e)"},
    )


def _vintage() -> fields.Integer:
    return fields.Integer(
        required=True, strict=True, validate=validate.Range(min=MIN_VINTAGE, max=MAX_VINTAGE)
    )


class TransferCreateSchema(Schema):
    from_account = fields.String(required=True, metadata=ACCOUNT_NUMBER)
    to_account = fields.String(required=True, metadata=ACCOUNT_NUMBER)
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    vintage = _vintage()
    quantity = _quantity()
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class IssuanceCreateSchema(Schema):
    unit_kind = fields.String(required=True, metadata={"example": "allowance"})
    vintage = _vintage()
    quantity = _quantity()
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class ReverseSchema(Schema):
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class TransactionSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    kind = fields.Enum(TransactionKind, by_value=True)
    status = fields.Enum(TransactionStatus, by_value=True)
    from_account = fields.Function(lambda tx: tx.source.number)
    to_account = fields.Function(lambda tx: tx.destination.number)
    unit_kind = fields.String()
    vintage = fields.Integer()
    quantity = fields.Integer()
    memo = fields.String()
    initiated_by = fields.String()
    decided_by = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    execute_after = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Delayed transfers complete at this time"}
    )
    completed_at = fields.AwareDateTime(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    seq = fields.Integer(
        allow_none=True,
        metadata={"description": "Position in its hash chain (numbers are unique across chains)"},
    )
    chain = fields.Function(
        lambda tx: None if tx.seq is None else chain_of(tx.seq),
        metadata={"description": "Which of the hash chains (1-8) the transaction is in"},
    )
    hash = fields.String(allow_none=True)


class TransactionQueryArgsSchema(PageArgsSchema):
    account = fields.String(metadata=ACCOUNT_NUMBER)
    kind = fields.Enum(TransactionKind, by_value=True)
    status = fields.Enum(TransactionStatus, by_value=True)
    since = fields.AwareDateTime(metadata={"description": "created at or after (inclusive)"})
    until = fields.AwareDateTime(metadata={"description": "created before (exclusive)"})


class AccountSchema(Schema):
    number = fields.String()
    kind = fields.Enum(AccountKind, by_value=True)
    owner = fields.String(metadata={"description": "Credit code, or 'government'"})
    holder_name = fields.String(allow_none=True)
    status = fields.Enum(AccountStatus, by_value=True)
    transfer_limit = fields.Integer(allow_none=True)
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)


class AccountQueryArgsSchema(PageArgsSchema):
    kind = fields.Enum(AccountKind, by_value=True)
    owner = fields.String(metadata={"description": "A credit code, or 'government'"})
    status = fields.Enum(AccountStatus, by_value=True)


class AccountUpdateSchema(Schema):
    transfer_limit = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_QUANTITY),
    )


class AccountStatusSchema(Schema):
    status = fields.Enum(AccountStatus, by_value=True, required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class HoldingSchema(Schema):
    unit_kind = fields.String()
    vintage = fields.Integer()
    quantity = fields.Integer()
    reserved = fields.Integer(metadata={"description": "Promised to pending transfers"})
    available = fields.Function(lambda h: h.quantity - h.reserved)


class StatementQueryArgsSchema(PageArgsSchema):
    unit_kind = fields.String()
    vintage = fields.Integer(strict=False)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class StatementLineSchema(Schema):
    posting_id = fields.Integer()
    transaction_id = fields.Integer()
    transaction_uuid = fields.String()
    kind = fields.String()
    completed_at = fields.AwareDateTime()
    unit_kind = fields.String()
    vintage = fields.Integer()
    quantity = fields.Integer(metadata={"description": "Positive in, negative out"})
    balance = fields.Integer(
        metadata={"description": "Running balance of this unit kind and vintage"}
    )
    counterparty = fields.String()
    memo = fields.String()


class TrustRequestSchema(Schema):
    account_number = fields.String(required=True, metadata=ACCOUNT_NUMBER)


class TrustedAccountSchema(Schema):
    id = fields.Integer()
    account_number = fields.Function(lambda entry: entry.trusted.number)
    status = fields.Enum(TrustStatus, by_value=True)
    requested_by = fields.String()
    decided_by = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)


class UnitKindSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,31}$", error="must be a lower-case code like 'ccer'"
        ),
    )
    label_zh = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label_en = fields.String(required=True, validate=validate.Length(min=1, max=64))
    is_offset = fields.Boolean(load_default=True)


class TradingAccountCreateSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.Equal(
            "trading",
            error="only trading accounts are opened here; compliance accounts open "
            "when an enterprise is registered",
        ),
    )
    holder_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
