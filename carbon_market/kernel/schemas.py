"""Schema building blocks shared by every feature: strict base, field checks, pages, problems.

Every request schema derives from :class:`Schema`, which raises on unknown fields: a client
that misspells ``sectr`` learns so at once instead of silently registering nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import ValidationError, fields, validate


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


#: A catalogue code (a sector, a district, a sub-sector): lower case, as the catalogues keep it.
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="must be a lower-case code like 'power'")


def max_places(places: int) -> Any:
    """Refuse, rather than round, a decimal with more places than its column keeps."""

    def check(value: Decimal) -> None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise ValidationError(f"has more than {places} decimal places")

    return check


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: Pages beyond this are refused: their offset (page × page_size) would overflow the 64-bit
#: OFFSET the databases take, and no list here has anywhere near 500 billion rows.
MAX_PAGE = 10**9


class PageArgsSchema(Schema):
    """Query-string ``page`` and a bounded ``page_size``; list filters inherit from it."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class PageMetaSchema(Schema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer(metadata={"description": "Items matching the filters, all pages"})
    pages = fields.Integer()


def page_of(item_schema: type[ma.Schema], name: str) -> type[Schema]:
    """A response schema ``{"items": [...], "page": {...}}`` for one item schema."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Nested(PageMetaSchema),
        },
    )


def dump_page(page: Any) -> dict[str, Any]:
    """The envelope for a :class:`carbon_market.kernel.pagination.Page`."""
    return {
        "items": page.items,
        "page": {
            "page": page.request.page,
            "page_size": page.request.page_size,
            "total": page.total,
            "pages": page.pages,
        },
    }


class FieldErrorSchema(Schema):
    pointer = fields.String(metadata={"example": "#/credit_code"})
    code = fields.String()
    detail = fields.String()
    row = fields.Integer(metadata={"description": "Bulk imports: spreadsheet row (header = 1)"})
    column = fields.String(metadata={"description": "Bulk imports: column name"})


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(metadata={"example": "/api/problems/validation-failed"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
