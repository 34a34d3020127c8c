"""Request and response schemas for enterprises, facilities and the catalogues."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from carbon_market.emitters.credit_code import InvalidCreditCode, normalize_credit_code
from carbon_market.emitters.enums import CapacityUnit, Cooling, EnterpriseStatus, PowerCategory
from carbon_market.kernel.schemas import CODE, PageArgsSchema, Schema, max_places

MAX_CONTACTS = 10
#: A name of spaces only names nothing (the import trims cells, so there it is "missing").
NOT_BLANK = validate.Regexp(r"^\s*\S", error="must not be blank")
#: What a capacity's column (ScaledDecimal(3), a 64-bit integer of thousandths) can hold,
#: rounded down to a power of ten: beyond it the database refused it with a 500.
MAX_CAPACITY = Decimal("1E12")


def _name(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=max_length), NOT_BLANK], **kwargs)


class CreditCodeField(fields.String):
    """A unified social credit code, normalised and checked against GB 32100."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_credit_code(raw)
        except InvalidCreditCode as exc:
            raise ValidationError(str(exc)) from exc


class ContactSchema(Schema):
    name = _name(100, required=True)
    title = fields.String(load_default=None, validate=validate.Length(max=100))
    phone = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\+?[0-9][0-9 \-]{4,24}$", error="is not a phone number"),
    )
    email = fields.Email(load_default=None)


def _contacts_field() -> fields.List[Any]:
    return fields.List(
        fields.Nested(ContactSchema),
        validate=validate.Length(max=MAX_CONTACTS),
        metadata={"description": f"Contact people, at most {MAX_CONTACTS}"},
    )


class EnterpriseCreateSchema(Schema):
    credit_code = CreditCodeField(
        required=True, metadata={"description": "统一社会信用代码, GB 32100 check character"}
    )
    name = _name(200, required=True)
    name_en = fields.String(load_default=None, validate=validate.Length(max=200))
    sector = fields.String(required=True, validate=CODE)
    district = fields.String(required=True, validate=CODE)
    contacts = _contacts_field()
    status_effective_from = fields.Date(
        load_default=None, metadata={"description": "Defaults to today (Asia/Shanghai)"}
    )


class EnterpriseUpdateSchema(Schema):
    """Regulators correct names, sector and district; the credit code never changes."""

    name = _name(200)
    name_en = fields.String(allow_none=True, validate=validate.Length(max=200))
    sector = fields.String(validate=CODE)
    district = fields.String(validate=CODE)
    contacts = _contacts_field()


class ContactsUpdateSchema(Schema):
    contacts = fields.List(
        fields.Nested(ContactSchema), required=True, validate=validate.Length(max=MAX_CONTACTS)
    )


class StatusChangeSchema(Schema):
    status = fields.Enum(EnterpriseStatus, by_value=True, required=True)
    effective_from = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class StatusChangeOutSchema(Schema):
    from_status = fields.String()
    to_status = fields.String()
    effective_from = fields.Date()
    reason = fields.String()
    changed_at = fields.AwareDateTime()
    changed_by = fields.String()


class EnterpriseSchema(Schema):
    id = fields.Integer()
    credit_code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    sector = fields.String()
    district = fields.String()
    status = fields.Enum(EnterpriseStatus, by_value=True)
    status_effective_from = fields.Date()
    contacts = fields.List(fields.Nested(ContactSchema))
    account_number = fields.Function(
        lambda e: e.compliance_account.number if e.compliance_account else None,
        metadata={"description": "The enterprise's compliance registry account"},
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class EnterpriseQueryArgsSchema(PageArgsSchema):
    sector = fields.String(validate=CODE)
    district = fields.String(validate=CODE)
    status = fields.Enum(EnterpriseStatus, by_value=True)
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Substring of the name, English name or credit code"},
    )


def power_categories() -> list[str]:
    """The categories a power unit's ``category`` may take (:class:`PowerCategory`): the ones
    the allocation rulebooks' benchmarks and corrections name, so that they apply to it."""
    return sorted(category.value for category in PowerCategory)


class FacilityCreateSchema(Schema):
    name = _name(200, required=True)
    facility_type = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="must be a lower-case code"),
        metadata={"example": "coal_unit"},
    )
    capacity = fields.Decimal(
        load_default=None,
        as_string=True,
        validate=[
            validate.Range(min=0, max=MAX_CAPACITY, max_inclusive=False),
            max_places(3),
        ],
        metadata={
            "description": "Exact decimal string, at most 3 places, below 10^12",
            "example": "350",
        },
    )
    capacity_unit = fields.Enum(CapacityUnit, by_value=True, load_default=None)
    commissioned_on = fields.Date(load_default=None)
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(power_categories()),
        metadata={
            "description": "Benchmark category of the power rulebook (the correction factors' "
            "categories); null: allocation uses facility_type",
            "example": "coal_300mw_plus",
        },
    )
    cooling = fields.Enum(
        Cooling,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "Cooling mode of a power unit (the cooling correction)"},
    )


class FacilityUpdateSchema(FacilityCreateSchema):
    """Every field optional (loaded with ``partial=True``)."""


class FacilitySchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    name = fields.String()
    facility_type = fields.String()
    # places=3: the column's scale, so a new facility reads "116.500" as it will once reloaded.
    capacity = fields.Decimal(as_string=True, allow_none=True, places=3)
    capacity_unit = fields.Enum(CapacityUnit, by_value=True, allow_none=True)
    commissioned_on = fields.Date(allow_none=True)
    category = fields.String(allow_none=True)
    cooling = fields.Enum(Cooling, by_value=True, allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CatalogueEntrySchema(Schema):
    code = fields.String(required=True, validate=CODE)
    label_zh = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label_en = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SectorSchema(CatalogueEntrySchema):
    is_active = fields.Boolean(dump_only=True)


class ImportResultSchema(Schema):
    enterprises_created = fields.Integer()
    facilities_created = fields.Integer()
