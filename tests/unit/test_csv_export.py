"""CSV downloads are safe to open in a spreadsheet (csv_export): formulas quoted, numbers not."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from carbon_market.kernel.csv_export import BOM, csv_text, safe_cell


def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe():
    for text in ["=1+2", "+86 10 1234", "-2+3", "@SUM(A1:A2)", "\t=1", "=cmd|' /C calc'!A0"]:
        assert safe_cell(text) == "'" + text


def test_numbers_and_plain_text_are_left_as_they_are():
    for value in ["-100", "+5", "-0.25", "-1E3", "北京", "a=b", "", 7, Decimal("-3"), None]:
        assert safe_cell(value) == value


def test_csv_text_writes_the_header_the_rows_and_empty_cells_for_none():
    rows = [{"name": "=evil()", "quantity": -5, "note": None, "extra": "ignored"}]

    text = csv_text(["name", "quantity", "note"], rows, bom=True, lineterminator="\n")

    assert text.startswith(BOM)
    assert list(csv.reader(io.StringIO(text.removeprefix(BOM)))) == [
        ["name", "quantity", "note"],
        ["'=evil()", "-5", ""],
    ]
