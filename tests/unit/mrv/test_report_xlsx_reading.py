"""The report workbook reader and template, without a database: exact numbers, row numbers,
header checks, and JSON-pointer errors mapped back to cells."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from carbon_market.kernel.errors import FieldError, UnreadableFile, ValidationFailed
from carbon_market.mrv.calculator.factor_sets import default_library
from carbon_market.mrv.xlsx.layout import (
    COLUMNS,
    FacilityRef,
    WorkbookContext,
    cell_error,
    locate,
    merge,
)
from carbon_market.mrv.xlsx.reading import read_streams, read_workbook
from carbon_market.mrv.xlsx.template import build_template

CONTEXT = WorkbookContext(
    credit_code="91110000000000000X",
    enterprise_name="北京甲热电有限公司",
    year=2025,
    factor_set=default_library().for_year(2025),
    factor_set_label="cn-default v1",
    facilities=(FacilityRef(7, "1号燃煤机组", "coal_unit"), FacilityRef(9, "2号锅炉", "boiler")),
)


def _workbook(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "streams"
    sheet.append(header or ["kind", "code", "quantity", "unit", "facility", "month"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_in_sheet(data: bytes, old: str, new: str) -> bytes:
    """``data`` with ``old`` replaced by ``new`` in the first sheet's XML: the way to put a
    number into a cell exactly as Excel would have stored it."""
    source, target = io.BytesIO(data), io.BytesIO()
    with zipfile.ZipFile(source) as inner, zipfile.ZipFile(target, "w") as outer:
        for item in inner.infolist():
            content = inner.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            outer.writestr(item, content)
    return target.getvalue()


def test_number_cells_become_the_decimals_that_were_typed() -> None:
    data = _workbook(
        [
            ["electricity", None, 0.1, "MWh"],
            ["electricity", None, 1000, "MWh"],
            ["heat", None, 2.5e-05, "GJ"],
            ["heat", None, 1234.0, "GJ"],
        ]
    )
    assert [s["quantity"] for s in read_streams(data, CONTEXT)] == [
        "0.1",
        "1000",
        "0.000025",
        "1234",
    ]


def test_a_binary_number_nobody_typed_is_refused() -> None:
    # =0.1+0.2 is stored as the double 0.30000000000000004: 17 digits, more than Excel keeps.
    data = _replace_in_sheet(
        _workbook([["electricity", None, 0.25, "MWh"]]), "<v>0.25</v>", "<v>0.30000000000000004</v>"
    )
    sheet = read_workbook(data, CONTEXT)
    assert [(e.row, e.column) for e in sheet.errors] == [(2, "quantity")]
    assert "type the value as text" in sheet.errors[0].detail


def test_text_decimals_are_taken_as_typed_and_blank_rows_keep_the_row_numbers() -> None:
    data = _workbook(
        [
            ["fuel", "natural_gas", " 1000.50 ", "10^4 Nm3", "1号燃煤机组", 1],
            [None, None, None, None],
            ["   ", None, None, None],
            ["electricity", None, "400", "MWh", 9, "12"],
        ]
    )
    sheet = read_workbook(data, CONTEXT)
    assert sheet.errors == []
    assert sheet.rows == [2, 5]
    assert sheet.streams == [
        {
            "kind": "fuel",
            "fuel": "natural_gas",
            "quantity": "1000.50",
            "unit": "10^4 Nm3",
            "facility": 7,
            "month": 1,
        },
        {"kind": "electricity", "quantity": "400", "unit": "MWh", "facility": 9, "month": 12},
    ]


def test_overrides_go_to_factors_or_pollutants_and_must_fit_the_kind() -> None:
    header = ["kind", "code", "quantity", "unit", "ncv", "grid", "so2"]
    data = _workbook(
        [
            ["fuel", "raw_coal", "10", "t", "21.5", None, "0.8"],
            ["fuel", "raw_coal", "10", "t", None, "0.6", None],
        ],
        header,
    )
    sheet = read_workbook(data, CONTEXT)
    assert sheet.streams[0]["factors"] == {"ncv": "21.5"}
    assert sheet.streams[0]["pollutants"] == {"so2": "0.8"}
    assert [(e.row, e.column) for e in sheet.errors] == [(3, "grid")]
    assert "fuel streams take no grid" in sheet.errors[0].detail


def test_header_problems_are_all_reported_and_stop_the_rows() -> None:
    data = _workbook([["electricity", "10", "MWh", "x"]], ["kind", "kind", "unit", "colour"])
    sheet = read_workbook(data, CONTEXT)
    assert {(e.row, e.column, e.code) for e in sheet.errors} == {
        (1, "kind", "import.repeated_column"),
        (1, "colour", "import.unknown_column"),
        (1, "code", "import.missing_column"),
        (1, "quantity", "import.missing_column"),
    }
    assert sheet.streams == []


def test_a_value_in_a_column_without_a_header_is_reported() -> None:
    data = _workbook([["electricity", None, "10", "MWh", None, None, "stray"]])
    sheet = read_workbook(data, CONTEXT)
    assert [(e.row, e.column) for e in sheet.errors] == [(2, None)]
    assert "column G" in sheet.errors[0].detail


def test_an_old_xls_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match=r"\.xls workbook"):
        read_workbook(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, CONTEXT)


def test_read_streams_raises_every_error_at_once() -> None:
    data = _workbook([["coal", None, "1", "t"], ["electricity", None, "x", "MWh"]])
    with pytest.raises(ValidationFailed) as info:
        read_streams(data, CONTEXT)
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "kind"), (3, "quantity")]


def test_the_template_reads_back_as_the_streams_it_was_filled_with() -> None:
    streams = [
        {
            "kind": "fuel",
            "fuel": "natural_gas",
            "quantity": "100.25",
            "unit": "10^4 Nm3",
            "facility": 9,
            "month": 4,
            "evidence": "4月燃气账单",
            "factors": {"ncv": "390", "oxidation_rate": "0.98"},
            "pollutants": {"nox": "1.5"},
        },
        {"kind": "process", "activity": "limestone", "quantity": "5", "unit": "kt"},
        {"kind": "heat", "quantity": "0.000001", "unit": "TJ"},
    ]
    data = build_template(CONTEXT, streams, report_id=3)
    assert read_streams(data, CONTEXT) == streams


def test_the_template_header_is_the_layout() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(build_template(CONTEXT, report_id=None)))
    assert [c.value for c in workbook["streams"][1]] == list(COLUMNS)
    assert workbook.defined_names["report_facilities"].attr_text == "facilities!$A$2:$A$3"


def test_locate_maps_stream_pointers_to_rows_and_columns() -> None:
    errors = [
        FieldError("#/streams/1/factors/ncv", "too big"),
        FieldError("#/streams/0/fuel", "unknown fuel"),
        FieldError("#/streams/0/activity", "unknown activity"),
        FieldError("#/streams/1", "must be an object"),
        FieldError("#/year", "no set"),
    ]
    located = locate(errors, [2, 7])
    assert [(e.pointer, e.sheet, e.row, e.column) for e in located] == [
        ("#/streams/rows/7/ncv", "streams", 7, "ncv"),
        ("#/streams/rows/2/code", "streams", 2, "code"),
        ("#/streams/rows/2/code", "streams", 2, "code"),
        ("#/streams/rows/7", "streams", 7, None),
        ("#/year", None, None, None),
    ]


def test_merge_keeps_the_first_error_of_a_cell_and_orders_by_row_and_column() -> None:
    errors = [
        cell_error(5, "unit", "reader: unknown unit"),
        cell_error(3, "quantity", "negative"),
        cell_error(5, "unit", "calculator: unknown unit"),
        cell_error(5, "kind", "unknown kind"),
        FieldError("#/streams", "empty", sheet="streams"),
    ]
    assert [(e.row, e.column, e.detail) for e in merge(errors)] == [
        (None, None, "empty"),
        (3, "quantity", "negative"),
        (5, "kind", "unknown kind"),
        (5, "unit", "reader: unknown unit"),
    ]


# --- facility lines ------------------------------------------------------------------------

FACILITY_HEADER = ["facility", "id", "facility_type", "output", "heat_supply_ratio", "load_rate"]


def _with_facilities(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    """A one-stream workbook with a facilities sheet of ``rows`` under ``header``."""
    workbook = openpyxl.load_workbook(io.BytesIO(_workbook([["electricity", None, "1", "MWh"]])))
    sheet = workbook.create_sheet("facilities")
    sheet.append(header or FACILITY_HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_facility_lines_are_read_by_id_or_else_by_name_keeping_row_numbers() -> None:
    data = _with_facilities(
        [
            ["1号燃煤机组", 7, "coal_unit", "1000", "0", 0.78],  # F as a number cell
            [],  # a blank row keeps its number
            ["2号锅炉 (renamed)", 9, "boiler", None, None, None],  # no figures: no line
            ["2号锅炉", None, None, "12.5", None, None],  # no id: the name says which
        ]
    )
    # Row 4 named facility 9 by id without figures, so row 5 is its only line.
    sheet = read_workbook(data, CONTEXT)
    assert sheet.errors == []
    assert sheet.lines == [
        {"facility": 7, "output": "1000", "heat_supply_ratio": "0", "load_rate": "0.78"},
        {"facility": 9, "output": "12.5"},
    ]
    assert sheet.line_rows == [2, 5]


def test_a_facilities_sheet_without_figure_columns_says_nothing_about_lines() -> None:
    old = _with_facilities([["1号燃煤机组", 7, "coal_unit"]], ["facility", "id", "facility_type"])
    assert read_workbook(old, CONTEXT).lines is None
    assert read_workbook(_workbook([["electricity", None, "1", "MWh"]]), CONTEXT).lines is None
    empty = _with_facilities([["1号燃煤机组", 7, "coal_unit", None, None, None]])
    assert read_workbook(empty, CONTEXT).lines == []  # figure columns, none filled: no lines


def test_bad_facility_rows_are_all_reported_on_the_facilities_sheet() -> None:
    data = _with_facilities(
        [
            [None, 8, None, "1", None, None],  # id 8 is not the enterprise's
            ["3号机组", None, None, "1", None, None],  # nor this name
            [None, None, None, "1", None, None],  # which facility?
            [None, 7, None, "-1", "x", True],
            [None, 7, None, "2", None, None],  # 7 again
        ]
    )
    sheet = read_workbook(data, CONTEXT)
    assert [(e.sheet, e.row, e.column) for e in sheet.errors] == [
        ("facilities", 2, "id"),
        ("facilities", 3, "facility"),
        ("facilities", 4, "id"),
        ("facilities", 5, "output"),
        ("facilities", 5, "heat_supply_ratio"),
        ("facilities", 5, "load_rate"),
        ("facilities", 6, "id"),
    ]
    assert sheet.errors[0].pointer == "#/facilities/rows/2/id"
    assert "row 5 already" in sheet.errors[-1].detail


def test_a_facilities_sheet_with_figures_needs_an_id_or_name_column_and_known_columns() -> None:
    data = _with_facilities([["1", "x"]], ["output", "colour"])
    errors = read_workbook(data, CONTEXT).errors
    assert [(e.row, e.column, e.code) for e in errors] == [(1, "colour", "import.unknown_column")]
    data = _with_facilities([["1"]], ["output"])
    errors = read_workbook(data, CONTEXT).errors
    assert [(e.row, e.column, e.code) for e in errors] == [(1, "id", "import.missing_column")]


def test_the_template_reads_back_as_the_lines_it_was_filled_with() -> None:
    lines = [{"facility": 9, "output": "2000", "heat_supply_ratio": "0.2", "load_rate": None}]
    sheet = read_workbook(build_template(CONTEXT, lines=lines), CONTEXT)
    assert sheet.lines == [{"facility": 9, "output": "2000", "heat_supply_ratio": "0.2"}]
    assert sheet.line_rows == [3]  # facility 9 is the template's second facility


def test_locate_maps_facility_line_pointers_to_the_facilities_sheet() -> None:
    errors = [
        FieldError("#/facilities/1/load_rate", "must be at most 1"),
        FieldError("#/facilities/0/facility", "appears twice"),
        FieldError("#/facilities/5/output", "beyond the lines read"),
        FieldError("#/streams/0/quantity", "negative"),
    ]
    located = locate(errors, [4], [2, 6])
    assert [(e.pointer, e.sheet, e.row, e.column) for e in located] == [
        ("#/facilities/rows/6/load_rate", "facilities", 6, "load_rate"),
        ("#/facilities/rows/2/id", "facilities", 2, "id"),
        ("#/facilities/5/output", None, None, None),
        ("#/streams/rows/4/quantity", "streams", 4, "quantity"),
    ]
