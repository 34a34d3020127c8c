"""Reading and shape-checking project and financing import files (pure: no database).

The file rules are the emitter import's (``docs/import-format.md``): UTF-8 CSV or an XLSX
workbook, the header in row 1, cells read as text, unknown and missing columns refused, rows
numbered as a spreadsheet shows them. The reader itself is the emitter import's, so both
imports accept and refuse exactly the same files. Columns: ``docs/finance.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_market.emitters.schemas import CreditCodeField
from carbon_market.kernel.errors import FieldError
from carbon_market.kernel.schemas import CODE, Schema
from carbon_market.kernel.tabular import (
    Table,
    column_errors,
    duplicate_rows,
    load_rows,
    read_single_table,
)
from finance.projects.enums import Instrument, ProjectCategory, ProjectStatus
from finance.projects.schemas import fraction, money, tonnes

PROJECTS = "projects"
FINANCINGS = "financings"


class ProjectRowSchema(Schema):
    """One project: the API's fields, with the co-benefits flattened into ``*_kg`` columns."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sponsor_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sponsor_credit_code = CreditCodeField(required=True)
    locality = fields.String(required=True, validate=CODE)
    category = fields.Enum(ProjectCategory, by_value=True, required=True)
    subsector = fields.String(required=True, validate=CODE)
    status = fields.Enum(ProjectStatus, by_value=True, load_default=ProjectStatus.PROPOSED)
    start_date = fields.Date(required=True)
    total_investment = money(required=True)
    expected_annual_reduction_t = tonnes(required=True)
    reduction_method = fields.String(load_default="", validate=validate.Length(max=500))
    so2_kg = tonnes(load_default=None)
    nox_kg = tonnes(load_default=None)
    pm_kg = tonnes(load_default=None)
    vocs_kg = tonnes(load_default=None)


class FinancingRowSchema(Schema):
    """One financing of a registered project (named by sponsor credit code and project
    name), with its disclosure flattened and an optional first disbursement."""

    sponsor_credit_code = CreditCodeField(required=True)
    project = fields.String(required=True, validate=validate.Length(min=1, max=200))
    instrument = fields.Enum(Instrument, by_value=True, required=True)
    institution = fields.String(required=True, validate=validate.Length(min=1, max=200))
    committed = money(required=True, positive=True)
    rate = fraction(load_default=None)
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None)
    disclosure_annual_reduction_t = tonnes(load_default=None)
    disclosure_method = fields.String(load_default=None, validate=validate.Length(max=500))
    disclosure_date = fields.Date(load_default=None)
    disclosure_period_start = fields.Date(load_default=None)
    disclosure_period_end = fields.Date(load_default=None)
    disbursed = money(load_default=None, positive=True)
    disbursed_on = fields.Date(load_default=None)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, str] = {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            errors["end_date"] = "must not be before start_date"
        period = data.get("disclosure_period_start"), data.get("disclosure_period_end")
        if period[0] and period[1] and period[1] < period[0]:
            errors["disclosure_period_end"] = "must not be before disclosure_period_start"
        if (data.get("disbursed") is None) != (data.get("disbursed_on") is None):
            errors["disbursed_on"] = "disbursed and disbursed_on go together"
        disclosure = [data.get(f"disclosure_{k}") for k in ("annual_reduction_t", "method", "date")]
        if any(v is not None for v in disclosure) and any(v is None for v in disclosure):
            errors["disclosure_method"] = (
                "a disclosure needs disclosure_annual_reduction_t, disclosure_method "
                "and disclosure_date"
            )
        if errors:
            raise ValidationError(errors)


@dataclass
class CheckedRows:
    """Rows that passed the shape checks, and every error found in the others."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


def read_table(data: IO[bytes], filename: str, kind: str) -> Table:
    """A CSV, or the workbook's sheet named ``kind`` (else its first sheet)."""
    return read_single_table(data, filename, kind)


def read_upload(file: Any, kind: str) -> Table:
    """Read a werkzeug ``FileStorage`` upload."""
    return read_table(file.stream, file.filename or f"{kind}.csv", kind)


def check_table(table: Table) -> CheckedRows:
    """Shape-check every row (no database): columns, fields, repeats within the file."""
    schema: Schema = ProjectRowSchema() if table.kind == PROJECTS else FinancingRowSchema()
    checked = CheckedRows()
    header_errors = column_errors(table, schema)
    if header_errors:  # row errors would only repeat the header's problem
        checked.errors.extend(header_errors)
        return checked
    loaded, errors = load_rows(table, schema)
    checked.rows.extend(loaded)
    checked.errors.extend(errors)
    if table.kind == PROJECTS:
        key: tuple[str, ...] = ("sponsor_credit_code", "name")
    else:
        key = ("sponsor_credit_code", "project", "instrument", "institution", "start_date")
    what = "project" if table.kind == PROJECTS else "financing"
    checked.errors.extend(duplicate_rows(loaded, key, table.kind, what))
    return checked
