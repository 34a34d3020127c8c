"""CSV downloads (every ``?format=csv``): one writer, safe to open in a spreadsheet.

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` is run as a formula by Excel and
LibreOffice when the file is opened (CSV injection, OWASP): a transfer memo or an enterprise
name could carry one to a regulator's desktop. Such text is written with a leading
apostrophe, which spreadsheets show as text; numbers (a negative quantity or balance, such
as ``-100``) are left as they are, so the columns still add up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema

#: What a spreadsheet takes as the start of a formula (tab and CR: after a field separator).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Prepended to BOM-marked files, so that Excel reads UTF-8 (the Chinese labels).
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """``value``, with text a spreadsheet would run as a formula quoted as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def csv_text(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    bom: bool = False,
    lineterminator: str = "\r\n",
) -> str:
    """``rows`` (mappings with at least ``columns``; None as an empty cell) as CSV text,
    header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell("" if row.get(c) is None else row[c]) for c in columns])
    return (BOM if bom else "") + buffer.getvalue()


def schema_csv(schema: Schema, rows: Iterable[Any]) -> str:
    """``rows`` as the API's JSON gives them (dumped by ``schema``: the same decimal strings)
    with its members as columns: a list endpoint's ``?format=csv``."""
    return csv_text(list(schema.fields), schema.dump(rows, many=True))
