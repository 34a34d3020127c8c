"""Reading an uploaded emission-report workbook into the report service's streams.

Pure: bytes and values in, stream dicts and errors out; no database. The layout is
:mod:`carbon_market.mrv.xlsx.layout`.

What this module decides, and why:

* It checks what only the workbook knows: the file is an XLSX with a ``streams`` sheet and
  a known header; each cell holds the right kind of value; facility names are the
  enterprise's; the ``about`` sheet (when kept) names the same enterprise and year. The rules
  on streams (codes of the factor set, units that fit, ranges, decimal places) stay with the
  calculator and the report service: their errors, addressed by JSON pointer
  (``#/streams/3/quantity``), are mapped back to the sheet's cells by
  :func:`~carbon_market.mrv.xlsx.layout.locate`, stream ``i`` being the ``i``-th
  non-blank data row. The reader repeats a few of those checks (kind, unit, number syntax)
  so that a row the calculator gives up on early, such as one of an unknown kind, still has
  its other cells checked; :func:`~carbon_market.mrv.xlsx.layout.merge` keeps one
  error a cell.
* Numbers never pass through ``float`` on their way into a ``Decimal``. A text cell (the
  template formats decimal columns as text) is taken as typed. A number cell is a binary
  double; it is turned into the shortest decimal that reads back as the same double
  (``repr``), which is exactly what was typed whenever that had at most 15 significant
  digits — all Excel keeps. A double that needs more digits (the result of a formula such
  as ``=0.1+0.2``) was never typed by anyone and is refused: type the value as text.
* Formulas are read by their cached values (what Excel last showed).
* The ``facilities`` sheet carries the report's facility lines. A workbook whose facilities
  sheet has none of the figure columns (a template made before the sheet had them), or has
  no such sheet, says nothing about lines: ``lines`` is None. Otherwise every row with a
  figure filled is a line, for the facility its ``id`` names (else its ``facility`` name):
  the reader checks that it is the enterprise's, named once, and that the figures are
  non-negative decimals; the ranges and places are the report schema's, checked by the
  service and mapped back like the streams' errors.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from carbon_market.kernel.errors import FieldError, UnreadableFile
from carbon_market.mrv.calculator.emissions import CODE_KEY, OVERRIDES, StreamKind
from carbon_market.mrv.calculator.units import UNITS
from carbon_market.mrv.xlsx.layout import (
    ABOUT,
    COLUMNS,
    DECIMAL_COLUMNS,
    FACILITIES,
    FACILITY_COLUMNS,
    FACTOR_COLUMNS,
    FIRST_DATA_ROW,
    LINE_COLUMNS,
    MAX_LINES,
    MAX_STREAMS,
    REQUIRED_COLUMNS,
    STREAMS,
    WorkbookContext,
    cell_error,
    invalid,
)

#: Excel keeps 15 significant digits of a number.
EXCEL_DIGITS = 15
#: Rows read from the streams sheet, blank ones included, and the most a workbook may expand
#: to: a 20 MiB upload of compressed XML could otherwise fill the memory.
MAX_ROWS = 100_000
MAX_UNCOMPRESSED = 64 * 1024 * 1024
KINDS = ", ".join(kind.value for kind in StreamKind)
#: ``refuse(column, reason)``: report the cell of the row being read.
Refuse = Callable[[str, str], None]


@dataclass
class StreamSheet:
    """The streams read (in the API's format), the sheet row of each, and every error; the
    facility lines (in the API's format, decimals as text) and the facilities-sheet row of
    each, or None when the workbook has no figure columns for them."""

    streams: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    lines: list[dict[str, Any]] | None = None
    line_rows: list[int] = field(default_factory=list)


def read_streams(data: bytes, context: WorkbookContext) -> list[dict[str, Any]]:
    """The workbook's streams in the API's format, or ValidationFailed with every problem
    this module can see (see :func:`read_workbook`)."""
    sheet = read_workbook(data, context)
    if sheet.errors:
        raise invalid(sheet.errors)
    return sheet.streams


def read_workbook(data: bytes, context: WorkbookContext) -> StreamSheet:
    """Read the ``streams`` sheet and the lines of the ``facilities`` sheet, collecting every
    error instead of stopping at the first.

    Raises UnreadableFile when ``data`` is not an XLSX workbook at all.
    """
    workbook = _open(data)
    try:
        sheets = {str(name).strip().lower(): workbook[name] for name in workbook.sheetnames}
        result = StreamSheet(errors=_about_errors(sheets.get(ABOUT), context))
        if STREAMS not in sheets:
            names = ", ".join(workbook.sheetnames)
            detail = f"the workbook has no sheet named {STREAMS!r} (it has: {names})"
            missing = FieldError(f"#/{STREAMS}", detail, "import.missing_sheet", sheet=STREAMS)
            result.errors.append(missing)
        else:
            _read_rows(sheets[STREAMS].iter_rows(values_only=True), context, result)
        if FACILITIES in sheets:
            _read_lines(sheets[FACILITIES].iter_rows(values_only=True), context, result)
    finally:
        workbook.close()
    return result


def _unreadable(detail: str) -> UnreadableFile:
    error = FieldError("#/files/file", detail, "import.unreadable")
    return UnreadableFile(f"not a readable XLSX workbook: {detail}", errors=[error])


def _open(data: bytes) -> Any:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _unreadable("this is an old-style .xls workbook; save it as .xlsx")
    if not data.startswith(b"PK\x03\x04"):
        raise _unreadable("an .xlsx file is a ZIP archive and this one is not")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _unreadable(f"a damaged ZIP archive ({exc})") from exc
    if size > MAX_UNCOMPRESSED:
        raise _unreadable(f"it expands to more than {MAX_UNCOMPRESSED // 2**20} MiB")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about the parts it drops (extensions, styles); only values matter.
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types for a damaged workbook
        raise _unreadable(f"{type(exc).__name__}: {exc}") from exc


def _about_errors(sheet: Any, context: WorkbookContext) -> list[FieldError]:
    """A kept ``about`` sheet must name the enterprise and year of the upload: a workbook
    filled for another enterprise or year is a mistake, not data."""
    if sheet is None:
        return []
    expected = {"credit_code": context.credit_code.upper(), "year": str(context.year)}
    errors = []
    rows = sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=20, max_col=2, values_only=True)
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        name, value = (_text(cell) for cell in (*row, None, None)[:2])
        wanted = expected.get(name)
        if wanted is not None and value and value.upper() != wanted:
            detail = (
                f"the workbook was made for {name} {value}, not {wanted}: download the "
                f"template for {context.credit_code} and {context.year}"
            )
            errors.append(cell_error(number, "value", detail, "import.other_workbook", sheet=ABOUT))
    return errors


def _header(
    cells: Sequence[Any],
    errors: list[FieldError],
    *,
    sheet: str = STREAMS,
    known: Sequence[str] = COLUMNS,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> dict[int, str]:
    """Column index -> name for the header row; header problems go to ``errors``."""
    columns: dict[int, str] = {}
    for index, cell in enumerate(cells):
        name = _text(cell).lower()
        if not name:
            continue
        if name not in known:
            detail = f"unknown column {name!r} (the columns are {', '.join(known)})"
            errors.append(cell_error(1, name, detail, "import.unknown_column", sheet=sheet))
        elif name in columns.values():
            errors.append(
                cell_error(1, name, "appears twice", "import.repeated_column", sheet=sheet)
            )
        else:
            columns[index] = name
    for name in required:
        if name not in columns.values():
            detail = f"required column {name!r} is missing"
            errors.append(cell_error(1, name, detail, "import.missing_column", sheet=sheet))
    return columns


def _stray_cells(
    number: int, cells: Sequence[Any], columns: dict[int, str], sheet: str
) -> list[FieldError]:
    """A value under no header is a value the reader would drop: report it."""
    errors = []
    for index, cell in enumerate(cells):
        if index not in columns and _text(cell) != "":
            detail = f"a value in column {get_column_letter(index + 1)}, which has no header"
            errors.append(cell_error(number, None, detail, "import.unknown_column", sheet=sheet))
    return errors


def _read_rows(rows: Iterable[Sequence[Any]], context: WorkbookContext, out: StreamSheet) -> None:
    iterator = iter(rows)
    header_errors: list[FieldError] = []
    columns = _header(next(iterator, ()), header_errors)
    if header_errors:  # every row would only repeat the header's problem
        out.errors += header_errors
        return
    for number, cells in enumerate(iterator, start=FIRST_DATA_ROW):
        if number > MAX_ROWS:
            out.errors.append(cell_error(number, None, f"more than {MAX_ROWS:,} rows"))
            return
        if all(_text(cell) == "" for cell in cells):
            continue  # blank rows separate or trail the streams: nobody's stream
        if len(out.streams) == MAX_STREAMS:
            detail = f"more than {MAX_STREAMS} streams; split them over reports or months"
            out.errors.append(cell_error(number, None, detail, "import.too_many_rows"))
            return
        out.errors += _stray_cells(number, cells, columns, STREAMS)
        values = {name: cells[index] for index, name in columns.items() if index < len(cells)}
        out.streams.append(_stream(number, values, context, out.errors))
        out.rows.append(number)
    if not out.streams:
        detail = "the streams sheet holds no streams (fill in a row under the header)"
        out.errors.append(FieldError(f"#/{STREAMS}", detail, "import.empty", sheet=STREAMS))


def _read_lines(rows: Iterable[Sequence[Any]], context: WorkbookContext, out: StreamSheet) -> None:
    """The facility lines of the facilities sheet into ``out.lines`` (see the module
    docstring); left None when the sheet has no figure columns."""
    iterator = iter(rows)
    header_errors: list[FieldError] = []
    columns = _header(
        next(iterator, ()), header_errors, sheet=FACILITIES, known=FACILITY_COLUMNS, required=()
    )
    named = set(columns.values())
    if not header_errors and not named & set(LINE_COLUMNS):
        return  # a reference sheet only, as in templates made before facility lines
    if not header_errors and not named & {"id", "facility"}:
        detail = "required column 'id' is missing: it says which facility a line is for"
        header_errors.append(cell_error(1, "id", detail, "import.missing_column", sheet=FACILITIES))
    if header_errors:  # every row would only repeat the header's problem
        out.errors += header_errors
        return
    out.lines = []
    first_rows: dict[int, int] = {}
    for number, cells in enumerate(iterator, start=FIRST_DATA_ROW):
        if number > MAX_ROWS:
            out.errors.append(
                cell_error(number, None, f"more than {MAX_ROWS:,} rows", sheet=FACILITIES)
            )
            return
        values = {name: cells[index] for index, name in columns.items() if index < len(cells)}
        stray = _stray_cells(number, cells, columns, FACILITIES)
        if not stray and all(_text(values.get(column)) == "" for column in LINE_COLUMNS):
            continue  # a facility without figures has no line; blank rows are nobody's
        if len(out.lines) == MAX_LINES:
            detail = f"more than {MAX_LINES} facility lines"
            out.errors.append(
                cell_error(number, None, detail, "import.too_many_rows", sheet=FACILITIES)
            )
            return
        out.errors += stray
        out.lines.append(_line(number, values, context, first_rows, out.errors))
        out.line_rows.append(number)


def _line(
    number: int,
    cells: dict[str, Any],
    context: WorkbookContext,
    first_rows: dict[int, int],
    errors: list[FieldError],
) -> dict[str, Any]:
    """One row of the facilities sheet as a facility line (figures as text); cells that
    cannot go into one are reported and left out."""

    def refuse(column: str, detail: str) -> None:
        errors.append(cell_error(number, column, detail, sheet=FACILITIES))

    line: dict[str, Any] = {}
    facility, column = _line_facility(cells, context, refuse)
    if facility is not None:
        if facility in first_rows:
            refuse(column, f"facility {facility} has a line on row {first_rows[facility]} already")
        else:
            first_rows[facility] = number
        line["facility"] = facility
    for name in LINE_COLUMNS:
        text, problem = _decimal_text(cells.get(name))
        if problem:
            refuse(name, problem)
        elif text is not None:
            line[name] = text
    return line


def _line_facility(
    cells: dict[str, Any], context: WorkbookContext, refuse: Refuse
) -> tuple[int | None, str]:
    """The facility a line is for, and the column that said so: the ``id`` the template
    fills in (a renamed facility keeps it), else the ``facility`` name."""
    ident, name = _text(cells.get("id")), _text(cells.get("facility"))
    where = f"a facility of {context.credit_code} (see the facility ids of the template)"
    if ident:
        ids = {facility.id for facility in context.facilities}
        if ident.isascii() and ident.isdigit() and int(ident) in ids:
            return int(ident), "id"
        refuse("id", f"{ident!r} is not the id of {where}")
        return None, "id"
    if name:
        by_name = {facility.name: facility.id for facility in context.facilities}
        if name in by_name:
            return by_name[name], "facility"
        refuse("facility", f"{name!r} is not the name of {where}")
        return None, "facility"
    refuse("id", "required: the id of the facility the figures are for")
    return None, "id"


def _stream(
    number: int, cells: dict[str, Any], context: WorkbookContext, errors: list[FieldError]
) -> dict[str, Any]:
    """One row as a stream dict; cells that cannot go into one are reported and left out."""

    def refuse(column: str, detail: str) -> None:
        errors.append(cell_error(number, column, detail))

    stream: dict[str, Any] = {}
    kind = _kind(cells.get("kind"), stream, refuse)
    code = _text(cells.get("code"))
    if kind is not None and code:
        key = CODE_KEY[kind]
        if key is None:
            refuse("code", f"{kind.value} streams take no code: leave the cell empty")
        else:
            stream[key] = code
    for column in DECIMAL_COLUMNS:
        text, problem = _decimal_text(cells.get(column))
        if problem:
            refuse(column, problem)
        elif text is None:
            continue
        elif column == "quantity":
            stream["quantity"] = text
        elif kind is not None and column in FACTOR_COLUMNS and column not in OVERRIDES[kind]:
            allowed = ", ".join(OVERRIDES[kind])
            refuse(column, f"{kind.value} streams take no {column} (their overrides: {allowed})")
        else:
            group = "factors" if column in FACTOR_COLUMNS else "pollutants"
            stream.setdefault(group, {})[column] = text
    unit = _text(cells.get("unit"))
    if unit:
        stream["unit"] = unit
        if unit not in UNITS:
            refuse("unit", f"unknown unit {unit!r} (known: {', '.join(UNITS)})")
    _facility(cells.get("facility"), context, stream, refuse)
    _month(cells.get("month"), stream, refuse)
    evidence = _text(cells.get("evidence"))
    if evidence:
        stream["evidence"] = evidence
    return stream


def _kind(value: Any, stream: dict[str, Any], refuse: Refuse) -> StreamKind | None:
    text = _text(value)
    if not text:
        refuse("kind", f"required: one of {KINDS}")
        return None
    stream["kind"] = text
    try:
        return StreamKind(text)
    except ValueError:
        refuse("kind", f"{text!r} is not one of {KINDS}")
        return None


def _facility(value: Any, context: WorkbookContext, stream: dict[str, Any], refuse: Refuse) -> None:
    """A facility is named as on the facilities sheet; its id is accepted too."""
    text = _text(value)
    if not text:
        return
    by_name = {facility.name: facility.id for facility in context.facilities}
    ids = {facility.id for facility in context.facilities}
    if text in by_name:
        stream["facility"] = by_name[text]
    elif text.isdigit() and int(text) in ids:
        stream["facility"] = int(text)
    else:
        detail = f"{text!r} is not a facility of {context.credit_code} (see the facilities sheet)"
        refuse("facility", detail)


def _month(value: Any, stream: dict[str, Any], refuse: Refuse) -> None:
    text = _text(value)
    if not text:
        return
    if text.isascii() and text.isdigit():
        stream["month"] = int(text)  # the report service checks the range, 1-12
    else:
        refuse("month", f"{text!r} is not a month (a whole number 1-12)")


def _text(value: Any) -> str:
    """A cell as text: numbers as their exact decimal (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, float):
        number = _float_decimal(value)
        return repr(value) if number is None else format(number, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _float_decimal(value: float) -> Decimal | None:
    """The decimal a number cell was typed as, or None when it holds more digits than Excel
    keeps (it was computed, not typed). Integral values come back without a ``.0``."""
    number = Decimal(repr(value))
    if not number.is_finite() or len(number.normalize().as_tuple().digits) > EXCEL_DIGITS:
        return None
    return number.to_integral_value() if number == number.to_integral_value() else number


def _decimal_text(value: Any) -> tuple[str | None, str | None]:
    """(exact decimal text, None), (None, why the cell is not one) or (None, None) if empty."""
    if isinstance(value, bool):
        return None, f"{value} is not a number"
    if isinstance(value, datetime | date | time):
        return None, f"{value.isoformat()} is a date or time, not a number"
    if isinstance(value, float) and _float_decimal(value) is None:
        return None, (
            f"the cell holds the binary number {value!r}, not a decimal anyone typed: "
            "type the value as text"
        )
    text = _text(value)
    if not text:
        return None, None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f"{text!r} is not a number"
    if not number.is_finite():
        return None, f"{text!r} is not a finite number"
    if number < 0:
        return None, f"{text} is negative"
    return text, None
