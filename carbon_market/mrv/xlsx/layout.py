"""The layout of the emission-report workbook (issue 5, item 4), shared by the template
writer and the upload reader so that the two cannot drift apart, and the addresses of its
cells in errors (sheet, row, column). Pure: no I/O.

The workbook has four sheets:

* ``streams`` — one stream a row under a header row (row 1): :data:`COLUMNS`. The first
  seven are the stream itself; the rest are optional per-stream overrides in the factor
  set's units (``ncv`` … ``factor``, see :mod:`carbon_market.mrv.calculator.emissions`) and
  pollutant
  factors in kg per the base unit (``so2`` … ``vocs``).
* ``facilities`` — one row per facility of the enterprise (:data:`FACILITY_COLUMNS`): its
  name, id and type (for reference: they are locked), then the report's facility line for it
  (:data:`LINE_COLUMNS`, the ``facilities`` member of the report API), to fill in. A row
  with any figure filled is a line; a row with none is not.
* ``codes`` and ``about`` — read-only references for whoever fills the sheets: the fuel and
  activity codes and units of the year's factor set, and the enterprise, year and factor set
  the workbook was made for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carbon_market.kernel.errors import FieldError, ValidationFailed, pointer_token
from carbon_market.mrv.calculator.emissions import OVERRIDES
from carbon_market.mrv.calculator.factor_sets import POLLUTANTS, FactorSet

STREAMS = "streams"
FACILITIES = "facilities"
CODES = "codes"
ABOUT = "about"

STREAM_COLUMNS = ("facility", "month", "kind", "code", "quantity", "unit", "evidence")
FACTOR_COLUMNS = tuple(name for names in OVERRIDES.values() for name in names)
POLLUTANT_COLUMNS = POLLUTANTS
COLUMNS = (*STREAM_COLUMNS, *FACTOR_COLUMNS, *POLLUTANT_COLUMNS)
#: Without these a row cannot be a stream; the others may be left out of a workbook.
REQUIRED_COLUMNS = ("kind", "code", "quantity", "unit")
#: Columns holding decimals: the template formats them as text ("@") so that Excel keeps
#: what was typed instead of turning it into a binary floating-point number.
DECIMAL_COLUMNS = ("quantity", *FACTOR_COLUMNS, *POLLUTANT_COLUMNS)
#: As many streams as ``POST /api/v1/reports`` accepts.
MAX_STREAMS = 2000
#: The figures of a facility line (``FacilityLineSchema``), all decimals.
LINE_COLUMNS = ("output", "heat_supply_ratio", "load_rate", "heat_supplied_gj")
#: The facilities sheet: the facility (its name, as the streams sheet names it, its id and
#: type), then its line. ``id`` (else ``facility``) says which facility a line is for.
FACILITY_COLUMNS = ("facility", "id", "facility_type", *LINE_COLUMNS)
#: As many lines as ``POST /api/v1/reports`` accepts.
MAX_LINES = 500
FIRST_DATA_ROW = 2  # the header is row 1


@dataclass(frozen=True)
class FacilityRef:
    """A facility as the workbook names it: the ``facility`` column holds its name."""

    id: int
    name: str
    facility_type: str


@dataclass(frozen=True)
class WorkbookContext:
    """What a workbook is for: the enterprise, the year, the year's factor set (its codes
    and units are the only ones allowed) and the enterprise's facilities."""

    credit_code: str
    enterprise_name: str
    year: int
    factor_set: FactorSet
    factor_set_label: str
    facilities: tuple[FacilityRef, ...]


def column_letter(column: str) -> str:
    """The spreadsheet letter of a :data:`COLUMNS` entry in the template (A, B, … Q)."""
    return chr(ord("A") + COLUMNS.index(column))


# --- the addresses of cells, and errors mapped to them ---------------------------------------


def cell_error(
    row: int, column: str | None, detail: str, code: str | None = None, *, sheet: str = STREAMS
) -> FieldError:
    """An error at a cell (or a whole row when ``column`` is None) of ``sheet``."""
    pointer = f"#/{sheet}/rows/{row}" + (f"/{pointer_token(column)}" if column else "")
    return FieldError(pointer, detail, code, row=row, column=column, sheet=sheet)


def invalid(errors: list[FieldError]) -> ValidationFailed:
    """The one refusal of an upload, however many cells are bad (all of them are listed)."""
    return ValidationFailed(
        f"{len(errors)} problem(s) in the workbook; nothing was saved", errors=errors
    )


_STREAM_POINTER = re.compile(r"^#/streams/(\d+)(?:/([^/]+)(?:/([^/]+))?)?$")
_LINE_POINTER = re.compile(r"^#/facilities/(\d+)(?:/([^/]+))?$")
#: Stream fields that the sheet holds under another column name.
_FIELD_COLUMNS = {"fuel": "code", "activity": "code"}


def locate(
    errors: Iterable[FieldError], rows: Sequence[int], line_rows: Sequence[int] = ()
) -> list[FieldError]:
    """Errors addressed to stream ``i`` (or facility line ``i``) by JSON pointer, readdressed
    to its row and column of the streams (or facilities) sheet, ``rows[i]`` (``line_rows[i]``);
    any other error is kept as it is. A line's ``facility`` is the sheet's ``id`` column."""
    located = []
    for error in errors:
        line = _LINE_POINTER.match(error.pointer)
        if line is not None and int(line[1]) < len(line_rows):
            name = "id" if line[2] == "facility" else line[2]
            column = name if name in FACILITY_COLUMNS else None
            row = line_rows[int(line[1])]
            located.append(cell_error(row, column, error.detail, error.code, sheet=FACILITIES))
            continue
        match = _STREAM_POINTER.match(error.pointer)
        if match is None or int(match[1]) >= len(rows):
            located.append(error)
            continue
        name, sub = match[2], match[3]
        column = sub if name in {"factors", "pollutants"} else _FIELD_COLUMNS.get(name, name)
        if column not in COLUMNS:
            column = None
        located.append(cell_error(rows[int(match[1])], column, error.detail, error.code))
    return located


def merge(errors: Iterable[FieldError]) -> list[FieldError]:
    """One error a cell (the first given: the reader's, which words it for a spreadsheet),
    whole-file errors first, then by sheet, row and column."""
    seen: set[tuple[str | None, int, str]] = set()
    kept = []
    for error in errors:
        if error.row is not None and error.column is not None:
            key = (error.sheet, error.row, error.column)
            if key in seen:
                continue
            seen.add(key)
        kept.append(error)

    def order(error: FieldError) -> tuple[bool, str, int, int]:
        columns = FACILITY_COLUMNS if error.sheet == FACILITIES else COLUMNS
        column = columns.index(error.column) if error.column in columns else -1
        return (error.row is not None, error.sheet or "", error.row or 0, column)

    return sorted(kept, key=order)
