"""Query and response schemas of the synergy view. Decimals are strings, nulls are null."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from carbon_market.kernel.schemas import CODE, Schema
from carbon_market.mrv.calculator.factor_sets import POLLUTANTS
from carbon_market.mrv.factors.schemas import YEAR
from carbon_market.mrv.synergy import tables as synergy

#: Both orders of both keys name the same grouping; rows always show sector first.
GROUP_BY_CHOICES = ["sector", "district", "sector,district", "district,sector"]


class SynergyQueryArgsSchema(Schema):
    year = fields.Integer(required=True, validate=YEAR, metadata={"description": "Year Y"})
    group_by = fields.String(
        load_default="sector",
        validate=validate.OneOf(GROUP_BY_CHOICES),
        metadata={"description": "`sector` (default), `district` or `sector,district`"},
    )
    sector = fields.String(validate=CODE, metadata={"description": "Only this sector"})
    district = fields.String(validate=CODE, metadata={"description": "Only this district"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))

    @post_load
    def split_group_by(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return data | {"group_by": synergy.group_keys(data["group_by"].split(","))}


def _decimal(description: str) -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_none=True, metadata={"description": description})


FIGURES: dict[str, fields.Field[Any]] = {
    "enterprises": fields.Integer(metadata={"description": "Enterprises approved for Y"}),
    "matched_enterprises": fields.Integer(
        metadata={"description": "Of those, the ones also approved for Y−1 (the change's base)"}
    ),
    "co2_t": _decimal("Approved CO2 of Y, t"),
    **{f"{p}_kg": _decimal(f"{p.upper()} of Y, kg") for p in POLLUTANTS},
    "co2_change_t": _decimal("Like-for-like CO2 change Y − (Y−1), t; null without a match"),
    "co2_change_pct": _decimal("co2_change_t / CO2 of Y−1 × 100, 2 places half up"),
    **{f"{p}_change_kg": _decimal(f"Like-for-like {p.upper()} change, kg") for p in POLLUTANTS},
    **{
        f"{p}_kg_per_t_co2_reduced": _decimal(
            f"−{p}_change_kg / −co2_change_t, kg/t, 3 places half up; only when CO2 fell"
        )
        for p in POLLUTANTS
    },
}
KEYS: dict[str, fields.Field[Any]] = {
    name: fields.String()
    for key in synergy.GROUP_KEYS
    for name in (key, f"{key}_label_zh", f"{key}_label_en")
}

#: The figures of a group, or of the whole view (``total``).
SynergyFiguresSchema = Schema.from_dict(FIGURES, name="SynergyFiguresSchema")
#: A group: its keys with their labels (only the keys grouped by), then its figures.
SynergyRowSchema = Schema.from_dict(KEYS | FIGURES, name="SynergyRowSchema")


class SynergyViewSchema(Schema):
    year = fields.Integer()
    previous_year = fields.Integer()
    group_by = fields.List(fields.String())
    rows = fields.List(fields.Nested(SynergyRowSchema), attribute="records")
    total = fields.Nested(SynergyFiguresSchema)


def csv_columns(group_by: tuple[str, ...]) -> list[str]:
    """The CSV header: the JSON row's members, in order, for this grouping."""
    keys = [name for key in group_by for name in (key, f"{key}_label_zh", f"{key}_label_en")]
    return [*keys, *synergy.COLUMNS]
