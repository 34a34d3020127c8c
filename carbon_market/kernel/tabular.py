"""Tables from uploaded files: one reader and one set of shape checks for every bulk import.

An import file is a CSV (UTF-8, with or without a byte-order mark) or an XLSX workbook.
Cells are read as text so that codes keep their leading zeros and decimals stay exact, and
trimmed; a trailing run of empty lines is dropped. Rows are numbered as a spreadsheet shows
them: the header is row 1. A file of more than :data:`MAX_ROWS` rows, a column named twice or
a file that is not what its name says is :class:`UnreadableFile`, before any row is read.

The checks (:func:`column_errors`, :func:`load_rows`, :func:`duplicate_rows`) collect every
error with a pointer ``#/<kind>/rows/<n>/<column>``, so an import reports the whole file at
once. Enterprises, facilities, climate-finance projects and financings, green trades and
certificates, emission factors and the exchange's trade file are all read here (pure: no
database).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd
from marshmallow import ValidationError

from carbon_market.kernel.errors import FieldError, UnreadableFile, pointer_token
from carbon_market.kernel.schemas import Schema

FIRST_DATA_ROW = 2  # the header is row 1
#: Rows per sheet, blank lines included. A 20 MiB upload could otherwise be 20 million rows.
MAX_ROWS = 100_000


@dataclass
class Table:
    """Rows of one sheet: (spreadsheet row number, {column: text}), and its header.

    ``kind`` names what the rows are (``enterprises``, ``trades``, ...); error pointers start
    with it. The texts
    are held column by column (``cells``, aligned with ``numbers``, the rows' spreadsheet
    numbers); ``rows`` is made from them when first asked for, so an importer that checks a
    large file a column at a time (the trade file) never builds 100,000 dicts.
    """

    kind: str
    source: str
    columns: list[str]
    numbers: list[int]
    cells: dict[str, list[str]]

    @functools.cached_property
    def rows(self) -> list[tuple[int, dict[str, str]]]:
        columns = [self.cells[c] for c in self.columns]
        return [
            (number, dict(zip(self.columns, texts, strict=True)))
            for number, texts in zip(self.numbers, zip(*columns, strict=True), strict=True)
        ]


def _clean(value: Any) -> str:
    text = value.strip() if type(value) is str else "" if value is None else str(value).strip()
    # openpyxl hands dates back as datetimes, which become "2021-06-30 00:00:00" as text.
    if len(text) == 19 and text.endswith(" 00:00:00"):
        text = text[:10]
    return text


def _clean_column(values: list[Any]) -> list[str]:
    """:func:`_clean` of every cell of a column, at C speed for the usual all-text column
    (a CSV read with ``dtype=str``): 900,000 cells of a trade file cost 0.6 s cell by cell."""
    if set(map(type, values)) - {str}:  # numbers, NaN or None from a workbook or short row
        return [_clean(value) for value in values]
    texts = list(map(str.strip, values))
    if " 00:00:00" in "\n".join(texts):  # rare: only then look for midnight datetimes
        texts = [_clean(text) for text in texts]
    return texts


def make_table(kind: str, source: str, frame: pd.DataFrame) -> Table:
    columns = [str(c).strip() for c in frame.columns]
    if len(frame) > MAX_ROWS:  # read no further: a file of blank lines must not fill memory
        raise UnreadableFile(f"{source}: more than {MAX_ROWS:,} rows; split the file")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:  # two cells would be read into one field and one of them lost
        raise UnreadableFile(f"{source}: column(s) {', '.join(repeated)} appear more than once")
    # Column by column: a tenth of the time of cleaning cell by cell (and to_dict(orient=
    # "records") was slower still) on a 100,000-row file.
    cleaned = [_clean_column(frame.iloc[:, i].tolist()) for i in range(len(columns))]
    # A trailing run of empty lines in a spreadsheet is not a row anybody meant.
    kept = [i for i, texts in enumerate(zip(*cleaned, strict=True)) if any(texts)]
    if len(kept) != len(frame):
        cleaned = [[column[i] for i in kept] for column in cleaned]
    return Table(
        kind=kind,
        source=source,
        columns=columns,
        numbers=[FIRST_DATA_ROW + i for i in kept],
        cells=dict(zip(columns, cleaned, strict=True)),
    )


def read_csv(data: bytes, kind: str, source: str) -> Table:
    try:
        # Keep blank lines as empty rows (dropped in make_table) so later row numbers don't shift.
        frame = pd.read_csv(
            io.BytesIO(data),
            nrows=MAX_ROWS + 1,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skip_blank_lines=False,
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableFile(f"{source}: not a readable UTF-8 CSV file ({exc})") from exc
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas reads the surplus leading cells of a first row longer than the header as an
        # index, shifting every value into the wrong column: refuse rather than misread.
        raise UnreadableFile(f"{source}: row 2 has more cells than the header (row 1)")
    return make_table(kind, source, frame)


def read_xlsx(data: bytes, source: str) -> dict[str, pd.DataFrame]:
    try:
        sheets = pd.read_excel(
            io.BytesIO(data),
            sheet_name=None,
            nrows=MAX_ROWS + 1,
            dtype=str,
            keep_default_na=False,
            engine="openpyxl",
        )
    except Exception as exc:  # openpyxl raises a zoo of types for a damaged workbook
        raise UnreadableFile(f"{source}: not a readable XLSX workbook ({exc})") from exc
    return {str(name).strip().lower(): frame for name, frame in sheets.items()}


def is_xlsx(source: str, data: bytes) -> bool:
    return source.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04")


def read_single_table(data: IO[bytes], filename: str, kind: str) -> Table:
    """One table from a CSV, or from the workbook's sheet named ``kind`` (else its first
    sheet): the reader of every single-table import (climate-finance projects and
    financings, green trades and certificates)."""
    content = data.read()
    if not is_xlsx(filename, content):
        return read_csv(content, kind, filename)
    sheets = read_xlsx(content, filename)
    if not sheets:
        raise UnreadableFile(f"{filename}: the workbook has no sheets")
    return make_table(kind, filename, sheets.get(kind, next(iter(sheets.values()))))


def column_errors(table: Table, schema: Schema) -> list[FieldError]:
    errors = []
    known = set(schema.fields)
    for column in table.columns:
        if column not in known:
            errors.append(
                FieldError(
                    f"#/{table.kind}/columns/{pointer_token(column)}",
                    f"unknown column {column!r}",
                    "import.unknown_column",
                    column=column,
                )
            )
    for name, schema_field in schema.fields.items():
        if schema_field.required and name not in table.columns:
            errors.append(
                FieldError(
                    f"#/{table.kind}/columns/{name}",
                    f"required column {name!r} is missing",
                    "import.missing_column",
                    column=name,
                )
            )
    return errors


def load_rows(
    table: Table, schema: Schema
) -> tuple[list[tuple[int, dict[str, Any]]], list[FieldError]]:
    """Load every row with ``schema``; empty cells count as absent."""
    loaded, errors = [], []
    for row_number, row in table.rows:
        present = {k: v for k, v in row.items() if v != ""}
        try:
            loaded.append((row_number, schema.load(present)))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            for column, reasons in messages.items():
                for reason in reasons if isinstance(reasons, list) else [reasons]:
                    errors.append(
                        FieldError(
                            f"#/{table.kind}/rows/{row_number}/{column}",
                            str(reason),
                            row=row_number,
                            column=column,
                        )
                    )
    return loaded, errors


def duplicate_rows(
    rows: list[tuple[int, dict[str, Any]]], key: tuple[str, ...], kind: str, what: str
) -> list[FieldError]:
    seen: dict[tuple[Any, ...], int] = {}
    errors = []
    for row_number, row in rows:
        value = tuple(row[k] for k in key)
        if value in seen:
            errors.append(
                FieldError(
                    f"#/{kind}/rows/{row_number}/{key[-1]}",
                    f"{what} repeats row {seen[value]}",
                    "import.duplicate_row",
                    row=row_number,
                    column=key[-1],
                )
            )
        else:
            seen[value] = row_number
    return errors
