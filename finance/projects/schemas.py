"""Request and response schemas of the climate-finance API. Amounts are decimal strings in
CNY (two places), tonnes and kilograms decimal strings (three places), rates fractions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_market.emitters.schemas import CatalogueEntrySchema, CreditCodeField
from carbon_market.kernel.schemas import CODE, PageArgsSchema, Schema, max_places
from finance.projects.enums import Instrument, ProjectCategory, ProjectStatus

#: Ten trillion CNY, a trillion tonnes: beyond any project, well inside the integer columns.
MAX_MONEY = Decimal("1e13")
MAX_TONNES = Decimal("1e12")


def money(*, required: bool = False, positive: bool = False, **kwargs: Any) -> fields.Decimal:
    """A CNY amount: a string with at most two places, never negative (or zero)."""
    return fields.Decimal(
        as_string=True,
        required=required,
        validate=[
            validate.Range(min=Decimal(0), max=MAX_MONEY, min_inclusive=not positive),
            max_places(2),
        ],
        metadata={"description": "CNY, a decimal string with at most 2 places"},
        **kwargs,
    )


def tonnes(*, required: bool = False, **kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        required=required,
        validate=[validate.Range(min=Decimal(0), max=MAX_TONNES), max_places(3)],
        metadata={"description": "A decimal string with at most 3 places"},
        **kwargs,
    )


def fraction(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        validate=[validate.Range(min=Decimal(0), max=Decimal(1)), max_places(6)],
        metadata={"description": "Annual rate as a fraction: 0.0345 is 3.45 %"},
        **kwargs,
    )


def _out(places: int, attribute: str | None = None) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=places, allow_none=True, attribute=attribute)


def _kg(value: Decimal | None) -> str | None:
    # Three places, as the column keeps them: a new project reads as it will once reloaded.
    return None if value is None else format(value.quantize(Decimal("0.001")), "f")


# --- catalogue ----------------------------------------------------------------------------


class SubsectorSchema(CatalogueEntrySchema):
    is_active = fields.Boolean(dump_only=True)


# --- projects -----------------------------------------------------------------------------


class CoBenefitsSchema(Schema):
    """Pollutants the project avoids, kg per year (leave out what was not estimated)."""

    so2 = tonnes(load_default=None, allow_none=True)
    nox = tonnes(load_default=None, allow_none=True)
    pm = tonnes(load_default=None, allow_none=True)
    vocs = tonnes(load_default=None, allow_none=True)


class ProjectCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sponsor_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sponsor_credit_code = CreditCodeField(
        required=True, metadata={"description": "The sponsor's 统一社会信用代码"}
    )
    locality = fields.String(
        required=True, validate=CODE, metadata={"description": "A district code, e.g. miyun"}
    )
    category = fields.Enum(ProjectCategory, by_value=True, required=True)
    subsector = fields.String(
        required=True, validate=CODE, metadata={"description": "GET /api/v1/finance/subsectors"}
    )
    status = fields.Enum(ProjectStatus, by_value=True, load_default=ProjectStatus.PROPOSED)
    start_date = fields.Date(required=True)
    total_investment = money(required=True)
    expected_annual_reduction_t = tonnes(required=True)
    reduction_method = fields.String(load_default="", validate=validate.Length(max=500))
    co_benefits = fields.Nested(CoBenefitsSchema, load_default=None)


class ProjectUpdateSchema(Schema):
    """Every editable field, optional; the sponsor's credit code and the status are not."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    sponsor_name = fields.String(validate=validate.Length(min=1, max=200))
    locality = fields.String(validate=CODE)
    category = fields.Enum(ProjectCategory, by_value=True)
    subsector = fields.String(validate=CODE)
    start_date = fields.Date()
    total_investment = money()
    expected_annual_reduction_t = tonnes()
    reduction_method = fields.String(validate=validate.Length(max=500))
    co_benefits = fields.Nested(CoBenefitsSchema)


class ProjectSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    sponsor_name = fields.String()
    sponsor_credit_code = fields.String()
    locality = fields.String()
    category = fields.Enum(ProjectCategory, by_value=True)
    subsector = fields.String()
    status = fields.Enum(ProjectStatus, by_value=True)
    start_date = fields.Date()
    total_investment = _out(2)
    expected_annual_reduction_t = _out(3)
    reduction_method = fields.String()
    co_benefits = fields.Function(
        lambda p: {k: _kg(getattr(p, f"{k}_kg")) for k in ("so2", "nox", "pm", "vocs")},
        metadata={"description": "kg per year avoided: so2, nox, pm, vocs"},
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ProjectQueryArgsSchema(PageArgsSchema):
    locality = fields.String(validate=CODE)
    category = fields.Enum(ProjectCategory, by_value=True)
    subsector = fields.String(validate=CODE)
    status = fields.Enum(ProjectStatus, by_value=True)
    sponsor_credit_code = CreditCodeField()


class ProjectStatusChangeSchema(Schema):
    status = fields.Enum(ProjectStatus, by_value=True, required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))
    effective_date = fields.Date(
        load_default=None, metadata={"description": "Defaults to today (Asia/Shanghai)"}
    )


class ProjectStatusHistorySchema(Schema):
    from_status = fields.Enum(ProjectStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(ProjectStatus, by_value=True)
    effective_date = fields.Date()
    note = fields.String()
    changed_at = fields.AwareDateTime()
    changed_by = fields.String()


# --- financing ----------------------------------------------------------------------------


class DisclosureSchema(Schema):
    """The emission-reduction disclosure a support-tool loan requires."""

    annual_reduction_t = tonnes(required=True)
    method = fields.String(required=True, validate=validate.Length(min=1, max=500))
    date = fields.Date(required=True)
    period_start = fields.Date(load_default=None)
    period_end = fields.Date(load_default=None)

    @validates_schema
    def _period_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None and end < start:
            raise ValidationError("must not be before period_start", "period_end")


class FinancingCreateSchema(Schema):
    instrument = fields.Enum(Instrument, by_value=True, required=True)
    institution = fields.String(required=True, validate=validate.Length(min=1, max=200))
    committed = money(required=True, positive=True)
    rate = fraction(load_default=None)
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None)
    disclosure = fields.Nested(DisclosureSchema, load_default=None)

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ValidationError("must not be before start_date", "end_date")


class DisclosureOutSchema(Schema):
    annual_reduction_t = _out(3, "disclosed_annual_reduction_t")
    method = fields.String(attribute="disclosure_method")
    date = fields.Date(attribute="disclosure_date")
    period_start = fields.Date(attribute="disclosure_period_start", allow_none=True)
    period_end = fields.Date(attribute="disclosure_period_end", allow_none=True)


class FinancingSchema(Schema):
    """A financing with its figures (``FinancingView``): amounts to date and interest."""

    id = fields.Integer(attribute="financing.id")
    project_id = fields.Integer(attribute="financing.project_id")
    instrument = fields.Enum(Instrument, by_value=True, attribute="financing.instrument")
    institution = fields.String(attribute="financing.institution")
    committed = _out(2, "financing.committed")
    disbursed = _out(2)
    undisbursed = _out(2)
    rate = _out(6, "financing.rate")
    start_date = fields.Date(attribute="financing.start_date")
    end_date = fields.Date(attribute="financing.end_date", allow_none=True)
    interest = _out(2)
    refinancing_share = _out(6, "financing.refinancing_share")
    refinancing_rate = _out(6, "financing.refinancing_rate")
    refinancing_amount = _out(2)
    refinancing_interest = _out(2)
    disclosure = fields.Function(
        lambda v: (
            DisclosureOutSchema().dump(v.financing)
            if v.financing.disclosed_annual_reduction_t is not None
            else None
        )
    )
    created_at = fields.AwareDateTime(attribute="financing.created_at")
    created_by = fields.String(attribute="financing.created_by")


class DisbursementCreateSchema(Schema):
    disbursed_on = fields.Date(required=True, data_key="date")
    amount = money(required=True, positive=True)


class DisbursementSchema(Schema):
    id = fields.Integer()
    financing_id = fields.Integer()
    disbursed_on = fields.Date(data_key="date")
    amount = _out(2)
    created_at = fields.AwareDateTime()
    created_by = fields.String()


# --- monitoring ---------------------------------------------------------------------------


class ReductionCreateSchema(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    achieved_t = tonnes(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))

    @validates_schema
    def _period_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None and end < start:
            raise ValidationError("must not be before period_start", "period_end")


class ReductionSchema(Schema):
    id = fields.Integer(attribute="report.id")
    period_start = fields.Date(attribute="report.period_start")
    period_end = fields.Date(attribute="report.period_end")
    achieved_t = _out(3, "report.achieved_t")
    expected_t = _out(3)
    achieved_vs_expected = _out(4)
    note = fields.String(attribute="report.note")
    reported_at = fields.AwareDateTime(attribute="report.reported_at")
    reported_by = fields.String(attribute="report.reported_by")


class MonitoringSummarySchema(Schema):
    expected_annual_reduction_t = _out(3)
    reported_periods = fields.Integer()
    achieved_to_date_t = _out(3)
    expected_to_date_t = _out(3)
    achieved_vs_expected = _out(4)
    total_investment = _out(2)
    cost_per_tonne = _out(2)
    expected_cost_per_annual_tonne = _out(2)


class MonitoringSchema(Schema):
    items = fields.List(fields.Nested(ReductionSchema))
    summary = fields.Nested(MonitoringSummarySchema)


class MilestoneCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_date = fields.Date(required=True)


class MilestoneDoneSchema(Schema):
    done_on = fields.Date(
        load_default=None, metadata={"description": "Defaults to today (Asia/Shanghai)"}
    )


class MilestoneSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    name = fields.String()
    due_date = fields.Date()
    done_on = fields.Date(allow_none=True)
    overdue_flagged_at = fields.AwareDateTime(allow_none=True)
    is_overdue = fields.Function(
        lambda m: m.overdue_flagged_at is not None and m.done_on is None,
        metadata={"description": "Flagged overdue by the milestone check and not yet done"},
    )
    created_at = fields.AwareDateTime()
    created_by = fields.String()


# --- portfolio and imports ----------------------------------------------------------------


class PortfolioQueryArgsSchema(Schema):
    locality = fields.String(validate=CODE)
    category = fields.Enum(ProjectCategory, by_value=True)
    subsector = fields.String(validate=CODE)
    status = fields.Enum(ProjectStatus, by_value=True)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class PortfolioSchema(Schema):
    """Totals, then one chart-ready section per dimension: ``labels`` and ``series``."""

    totals = fields.Dict(keys=fields.String())
    by_locality = fields.Dict(keys=fields.String())
    by_category = fields.Dict(keys=fields.String())
    by_subsector = fields.Dict(keys=fields.String())
    by_status = fields.Dict(keys=fields.String())
    by_instrument = fields.Dict(keys=fields.String())
    by_year = fields.Dict(keys=fields.String())


class ProjectImportResultSchema(Schema):
    projects_created = fields.Integer()


class FinancingImportResultSchema(Schema):
    financings_created = fields.Integer()
    disbursements_created = fields.Integer()
