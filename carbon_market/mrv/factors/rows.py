"""Factor rows as regulators send them: checked all at once, read from and written to files.

Pure: no database. A factor set travels as rows, one value a row, with the columns of the
packaged ``data/cn-default.csv`` (see :mod:`carbon_market.mrv.calculator.factor_sets`)::

    set,jurisdiction,first_year,last_year,category,code,parameter,value,unit,source

:func:`check_rows` reports *every* problem of a set of rows at once, each with a pointer
(``#/rows/<n>/<field>``): ``n`` is the index in a JSON body, or the spreadsheet row (header =
row 1) of an import file. Rows that pass are turned into the calculator's
:class:`~carbon_market.mrv.calculator.factor_sets.FactorSet` through
:func:`~carbon_market.mrv.calculator.factor_sets.
parse_factor_sets` itself, so a stored set obeys exactly the rules of the packaged one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from marshmallow import ValidationError

from carbon_market.kernel.errors import FieldError, UnreadableFile
from carbon_market.kernel.tabular import MAX_ROWS
from carbon_market.mrv.calculator.factor_sets import (
    COLUMNS,
    FUEL_PARAMETERS,
    POLLUTANTS,
    FactorSet,
    parse_factor_sets,
)
from carbon_market.mrv.calculator.units import BASE_UNITS
from carbon_market.mrv.factors.schemas import FactorFileRowSchema

FIRST_DATA_ROW = 2  # the header is row 1
HEADER_FIELDS = ("set", "jurisdiction", "first_year", "last_year")
ROW_FIELDS = ("category", "code", "parameter", "value", "unit", "source")
#: (category, parameter) -> the unit it must have; ``{fuel}`` is the fuel's base unit and
#: ``{base}`` any base unit (for NCVs and process activities, which fix their unit).
EXPECTED_UNITS: dict[tuple[str, str], str] = {
    ("fuel", "ncv"): "GJ/{base}",
    ("fuel", "carbon_content"): "tC/GJ",
    ("fuel", "oxidation_rate"): "fraction",
    **{("pollutant", p): "kg/{fuel}" for p in POLLUTANTS},
    ("electricity", "grid"): "tCO2/MWh",
    ("heat", "heat"): "tCO2/GJ",
    ("process", "factor"): "tCO2/{base}",
}
#: Categories whose code is fixed.
FIXED_CODES = {"electricity": "grid", "heat": "purchased_heat"}


@dataclass(frozen=True)
class SetHeader:
    name: str
    jurisdiction: str
    first_year: int
    last_year: int


@dataclass(frozen=True)
class FactorRow:
    category: str
    code: str
    parameter: str
    value: Decimal
    unit: str
    source: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.category, self.code, self.parameter)


def row_of(data: dict[str, Any]) -> FactorRow:
    """A row from a loaded schema dict (the category may be an enum member)."""
    return FactorRow(**{f: data[f] for f in ROW_FIELDS} | {"category": str(data["category"])})


def _error(label: int, field: str, detail: str, code: str, *, is_file: bool) -> FieldError:
    return FieldError(
        f"#/rows/{label}/{field}",
        detail,
        code,
        row=label if is_file else None,
        column=field if is_file else None,
    )


def _fuel_units(rows: Sequence[tuple[int, FactorRow]]) -> dict[str, str | None]:
    """The base unit of each fuel, from its NCV row's ``GJ/<unit>``; None when that unit is
    itself wrong (reported on the NCV row, not again on every pollutant row of the fuel)."""
    units: dict[str, str | None] = {}
    for _, row in rows:
        if row.key[0::2] == ("fuel", "ncv"):
            unit = row.unit.removeprefix("GJ/")
            is_base = row.unit.startswith("GJ/") and unit in BASE_UNITS.values()
            units[row.code] = unit if is_base else None
    return units


def _row_errors(row: FactorRow, fuel_units: dict[str, str | None]) -> list[tuple[str, str]]:
    """(field, reason) for each problem of one row (fuel units come from the other rows)."""
    expected = EXPECTED_UNITS.get((row.category, row.parameter))
    if expected is None:
        return [("parameter", f"{row.category} rows have no parameter {row.parameter!r}")]
    problems: list[tuple[str, str]] = []
    fixed = FIXED_CODES.get(row.category)
    if fixed is not None and row.code != fixed:
        problems.append(("code", f"the {row.category} factor's code is {fixed!r}"))
    if row.category == "pollutant" and row.code not in fuel_units:
        problems.append(("code", f"no fuel {row.code!r} (with an ncv row) in the set"))
    fuel_unit = fuel_units.get(row.code)
    base = row.unit.partition("/")[2]
    if "{fuel}" in expected and fuel_unit is None:
        pass  # the fuel's own unit is missing or wrong: reported on its NCV row
    elif "{base}" in expected:
        if not row.unit.startswith(expected[:-6]) or base not in BASE_UNITS.values():
            problems.append(("unit", f"should be {expected.format(base='<base unit>')}"))
    elif row.unit != (unit := expected.format(fuel=fuel_unit)):
        problems.append(("unit", f"should be {unit}"))
    if row.key[0::2] == ("fuel", "oxidation_rate") and row.value > 1:
        problems.append(("value", "an oxidation rate is at most 1"))
    return problems


def _missing(rows: Sequence[tuple[int, FactorRow]]) -> list[FieldError]:
    """Values the calculator needs that no row gives (pointer ``#/rows``)."""
    keys = {row.key for _, row in rows}
    fuels = sorted({row.code for _, row in rows if row.category == "fuel"})
    wanted = [("fuel", f, p) for f in fuels for p in FUEL_PARAMETERS]
    wanted += [("pollutant", f, p) for f in fuels for p in POLLUTANTS]
    wanted += [("electricity", "grid", "grid"), ("heat", "purchased_heat", "heat")]
    return [
        FieldError("#/rows", f"no row gives {' '.join(key)}", "factors.missing")
        for key in wanted
        if key not in keys
    ]


def check_rows(rows: Sequence[tuple[int, FactorRow]], *, is_file: bool = False) -> list[FieldError]:
    """Every problem of a set's rows: wrong units or codes, repeats and missing values."""
    errors: list[FieldError] = []
    fuel_units = _fuel_units(rows)
    seen: dict[tuple[str, str, str], int] = {}
    for label, row in rows:
        for field, reason in _row_errors(row, fuel_units):
            errors.append(_error(label, field, reason, "factors.invalid", is_file=is_file))
        if row.key in seen:
            detail = f"{' '.join(row.key)} repeats row {seen[row.key]}"
            errors.append(_error(label, "parameter", detail, "factors.duplicate", is_file=is_file))
        seen.setdefault(row.key, label)
    return errors + _missing(rows)


def to_csv(header: SetHeader, rows: Iterable[FactorRow]) -> str:
    """The set in the packaged CSV format (values as exact, trailing-zero-free decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [header.name, header.jurisdiction, header.first_year, header.last_year,
             row.category, row.code, row.parameter, _plain(row.value), row.unit, row.source]
        )  # fmt: skip
    return buffer.getvalue()


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def to_xlsx(header: SetHeader, rows: Iterable[FactorRow]) -> bytes:
    """The set as a one-sheet workbook (``factors``). Every cell is text: a number cell would
    be a float, and a value read back from it would no longer be exact."""
    lines = list(csv.reader(io.StringIO(to_csv(header, rows))))
    frame = pd.DataFrame(lines[1:], columns=lines[0], dtype=str)
    buffer = io.BytesIO()
    frame.to_excel(buffer, sheet_name="factors", index=False, engine="openpyxl")
    return buffer.getvalue()


def to_factor_set(header: SetHeader, rows: Iterable[FactorRow]) -> FactorSet:
    """The calculator's set, built by the packaged-file loader so that the rules are one.

    Raises ``FactorDataError`` only for rows that :func:`check_rows` would have refused.
    """
    (factor_set,) = parse_factor_sets(to_csv(header, rows), origin=f"set {header.name}")
    return factor_set


# --- import files -------------------------------------------------------------------------


def _frame(data: bytes, filename: str) -> pd.DataFrame:
    """The file's table, every cell as text (codes keep their zeros, decimals stay exact)."""
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "nrows": MAX_ROWS + 1}
    try:
        if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl", **options)
            named = {str(k).strip().lower(): v for k, v in sheets.items()}
            frame: pd.DataFrame = named.get("factors", next(iter(named.values())))
            return frame
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", **options)
    except Exception as exc:  # pandas and openpyxl raise a zoo of types for a damaged file
        raise UnreadableFile(f"{filename}: not a readable UTF-8 CSV or XLSX file ({exc})") from exc
    if not isinstance(frame.index, pd.RangeIndex):  # a row longer than the header
        raise UnreadableFile(f"{filename}: a row has more cells than the header")
    return frame


@dataclass
class FactorFile:
    """What an import file holds: its set's header (None if no row named one), the rows that
    passed the shape checks (with their spreadsheet row numbers) and every error found."""

    header: SetHeader | None
    rows: list[tuple[int, FactorRow]]
    errors: list[FieldError]


def _column_errors(columns: list[str]) -> list[FieldError]:
    errors = [
        FieldError(f"#/columns/{c}", f"required column {c!r} is missing", "import.missing_column")
        for c in COLUMNS
        if c not in columns
    ]
    errors += [
        FieldError(f"#/columns/{c}", f"unknown column {c!r}", "import.unknown_column")
        for c in columns
        if c not in COLUMNS
    ]
    return errors


def read_factor_file(data: bytes, filename: str) -> FactorFile:
    """Read and shape-check an import file holding one factor set, collecting every error."""
    frame = _frame(data, filename)
    if len(frame) > MAX_ROWS:
        raise UnreadableFile(f"{filename}: more than {MAX_ROWS:,} rows; split the file")
    columns = [str(c).strip() for c in frame.columns]
    result = FactorFile(None, [], _column_errors(columns))
    if result.errors:  # row errors would only repeat the header's problem
        return result
    schema = FactorFileRowSchema()
    for index, record in enumerate(frame.to_dict(orient="records")):
        number = FIRST_DATA_ROW + index
        cells = {c: str(v).strip() for c, v in zip(columns, record.values(), strict=True)}
        if not any(cells.values()):  # trailing blank lines are nobody's row
            continue
        try:
            loaded = schema.load({k: v for k, v in cells.items() if v != ""})
        except ValidationError as exc:
            result.errors += _schema_errors(number, exc)
            continue
        result.errors += _header_errors(result, number, loaded)
        result.rows.append((number, row_of(loaded)))
    return result


def _schema_errors(number: int, exc: ValidationError) -> list[FieldError]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return [
        FieldError(f"#/rows/{number}/{column}", str(reason), row=number, column=column)
        for column, reasons in messages.items()
        for reason in (reasons if isinstance(reasons, list) else [reasons])
    ]


def _header_errors(result: FactorFile, number: int, loaded: dict[str, Any]) -> list[FieldError]:
    """A file holds one set: every row repeats the first row's name, jurisdiction and years."""
    header = SetHeader(
        loaded["set"], loaded["jurisdiction"], loaded["first_year"], loaded["last_year"]
    )
    if result.header is None:
        result.header = header
        if header.first_year > header.last_year:
            return [
                _error(number, "last_year", "is before first_year", "factors.years", is_file=True)
            ]
        return []
    attrs = ("name", "jurisdiction", "first_year", "last_year")
    return [
        _error(
            number,
            column,
            f"differs from the first row ({getattr(result.header, attr)})",
            "factors.one_set",
            is_file=True,
        )
        for column, attr in zip(HEADER_FIELDS, attrs, strict=True)
        if getattr(header, attr) != getattr(result.header, attr)
    ]
