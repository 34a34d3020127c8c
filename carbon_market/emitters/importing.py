"""Reading and shape-checking the enterprise and facility import files (pure: no database).

Enterprises come from a CSV or from the workbook's ``enterprises`` sheet (or its first
sheet); facilities from a second CSV or the workbook's ``facilities`` sheet. The files are
read, and their rows shape-checked, by the kernel's :mod:`carbon_market.kernel.tabular`.

Columns are documented in ``docs/import-format.md``. A missing required column or an unknown
column is an error, not something to guess about: a column silently ignored is data lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_market.emitters.schemas import CreditCodeField, FacilityCreateSchema
from carbon_market.kernel.errors import FieldError, UnreadableFile
from carbon_market.kernel.schemas import CODE, Schema
from carbon_market.kernel.tabular import (
    Table,
    column_errors,
    duplicate_rows,
    is_xlsx,
    load_rows,
    make_table,
    read_csv,
    read_xlsx,
)


class EnterpriseRowSchema(Schema):
    """One enterprise row: the API's fields, with the first contact flattened into columns."""

    credit_code = CreditCodeField(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default=None, validate=validate.Length(max=200))
    sector = fields.String(required=True, validate=CODE)
    district = fields.String(required=True, validate=CODE)
    status_effective_from = fields.Date(load_default=None)
    contact_name = fields.String(load_default=None, validate=validate.Length(max=100))
    contact_title = fields.String(load_default=None, validate=validate.Length(max=100))
    contact_phone = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\+?[0-9][0-9 \-]{4,24}$", error="is not a phone number"),
    )
    contact_email = fields.Email(load_default=None)

    @validates_schema
    def _contact_needs_name(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # Otherwise the phone or email of a nameless contact would be dropped without a word.
        if not data.get("contact_name") and any(
            data.get(f"contact_{k}") for k in ("title", "phone", "email")
        ):
            raise ValidationError("a contact needs a name", "contact_name")


class FacilityRowSchema(FacilityCreateSchema):
    """One facility row: the API's fields (category and cooling among them, checked as the
    facility endpoints check them) plus the owner's credit code."""

    credit_code = CreditCodeField(required=True)


ENTERPRISE_COLUMNS = tuple(EnterpriseRowSchema().fields)
FACILITY_COLUMNS = tuple(FacilityRowSchema().fields)


@dataclass
class ImportBatch:
    enterprises: Table | None = None
    facilities: Table | None = None


@dataclass
class CheckedBatch:
    """Rows that passed the shape checks, and every error found in the others."""

    enterprises: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    facilities: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


def read_batch(
    enterprises: IO[bytes] | None,
    enterprises_name: str = "enterprises.csv",
    facilities: IO[bytes] | None = None,
    facilities_name: str = "facilities.csv",
) -> ImportBatch:
    """Read the enterprise file (CSV, or XLSX with an optional ``facilities`` sheet) and an
    optional separate facilities file."""
    batch = ImportBatch()
    if enterprises is not None:
        data = enterprises.read()
        if is_xlsx(enterprises_name, data):
            sheets = read_xlsx(data, enterprises_name)
            others = [name for name in sheets if name != "facilities"]
            main = "enterprises" if "enterprises" in sheets else (others[0] if others else None)
            if main is not None:
                batch.enterprises = make_table("enterprises", enterprises_name, sheets[main])
            if "facilities" in sheets:
                batch.facilities = make_table("facilities", enterprises_name, sheets["facilities"])
        else:
            batch.enterprises = read_csv(data, "enterprises", enterprises_name)
    if facilities is not None:
        if batch.facilities is not None:
            raise UnreadableFile("facilities given twice: as a sheet and as a separate file")
        data = facilities.read()
        if is_xlsx(facilities_name, data):
            sheets = read_xlsx(data, facilities_name)
            frame = sheets.get("facilities", next(iter(sheets.values())))
            batch.facilities = make_table("facilities", facilities_name, frame)
        else:
            batch.facilities = read_csv(data, "facilities", facilities_name)
    if batch.enterprises is None and batch.facilities is None:
        raise UnreadableFile("the file holds no enterprises or facilities sheet")
    return batch


def read_upload(file: Any, facilities: Any | None = None) -> ImportBatch:
    """Read werkzeug ``FileStorage`` uploads."""
    return read_batch(
        file.stream,
        file.filename or "upload.csv",
        facilities.stream if facilities is not None else None,
        (facilities.filename or "facilities.csv") if facilities is not None else "facilities.csv",
    )


def check_batch(batch: ImportBatch) -> CheckedBatch:
    """Shape-check every row of the batch and collect every error (no database)."""
    checked = CheckedBatch()
    for table, schema, key, what, target in (
        (
            batch.enterprises,
            EnterpriseRowSchema(),
            ("credit_code",),
            "credit code",
            checked.enterprises,
        ),
        (
            batch.facilities,
            FacilityRowSchema(),
            ("credit_code", "name"),
            "facility name",
            checked.facilities,
        ),
    ):
        if table is None:
            continue
        header_errors = column_errors(table, schema)
        if header_errors:  # row errors would only repeat the header's problem
            checked.errors.extend(header_errors)
            continue
        loaded, errors = load_rows(table, schema)
        target.extend(loaded)
        checked.errors.extend(errors)
        checked.errors.extend(duplicate_rows(loaded, key, table.kind, what))
    return checked


def contacts_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The flattened first-contact columns as the API's contacts list."""
    contact = {k: row.get(f"contact_{k}") for k in ("name", "title", "phone", "email")}
    return [contact] if contact["name"] else []
