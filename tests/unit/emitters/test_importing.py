"""Bulk import files: reading CSV and XLSX, and the shape checks with row pointers.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row is 2.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest

from carbon_market.emitters.credit_code import make_credit_code
from carbon_market.emitters.enums import CapacityUnit
from carbon_market.emitters.importing import (
    ENTERPRISE_COLUMNS,
    FACILITY_COLUMNS,
    CheckedBatch,
    ImportBatch,
    UnreadableFile,
    check_batch,
    contacts_of,
    read_batch,
    read_upload,
)

CODE_A = make_credit_code("91110000000000001")
CODE_B = make_credit_code("91110000000000002")
CODE_C = make_credit_code("91110000000000003")
HEADER = "credit_code,name,sector,district"
FACILITY_HEADER = "credit_code,name,facility_type,capacity,capacity_unit,commissioned_on"


def _csv(*lines: str, bom: bool = False) -> io.BytesIO:
    text = "\n".join(lines) + "\n"
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def _xlsx(sheets: dict[str, list[list[Any]]]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _check_csv(*lines: str) -> CheckedBatch:
    return check_batch(read_batch(_csv(*lines)))


def _pointers(checked: CheckedBatch) -> list[str]:
    return [e.pointer for e in checked.errors]


# --- reading -------------------------------------------------------------------------------


def test_csv_rows_are_numbered_from_two_when_the_header_is_row_one():
    batch = read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang", f"{CODE_B},乙,heat,haidian"))
    assert batch.enterprises is not None
    assert [n for n, _ in batch.enterprises.rows] == [2, 3]
    assert batch.enterprises.rows[1][1]["name"] == "乙"
    assert batch.facilities is None


def test_cells_are_kept_as_text_when_they_look_like_numbers():
    batch = read_batch(
        _csv(
            HEADER + ",contact_name,contact_phone", f"{CODE_A},007,power,chaoyang,王工,01012345678"
        )
    )
    assert batch.enterprises is not None
    row = batch.enterprises.rows[0][1]
    assert row["name"] == "007"
    assert row["contact_phone"] == "01012345678"


def test_cells_and_headers_are_trimmed_when_padded_with_spaces():
    batch = read_batch(_csv(" credit_code , name ,sector,district", f" {CODE_A} , 甲 , power ,x"))
    assert batch.enterprises is not None
    assert batch.enterprises.columns == ["credit_code", "name", "sector", "district"]
    assert batch.enterprises.rows[0][1]["sector"] == "power"
    assert batch.enterprises.rows[0][1]["name"] == "甲"


def test_utf8_bom_is_not_part_of_the_first_column_when_csv_comes_from_excel():
    batch = read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang", bom=True))
    assert batch.enterprises is not None
    assert batch.enterprises.columns[0] == "credit_code"
    checked = check_batch(batch)
    assert checked.errors == []
    assert [row["credit_code"] for _, row in checked.enterprises] == [CODE_A]


def test_blank_trailing_rows_are_ignored_when_csv_ends_with_empty_lines():
    batch = read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang", ",,,", ",,,", "", ""))
    assert batch.enterprises is not None
    assert [n for n, _ in batch.enterprises.rows] == [2]


def test_row_numbers_do_not_shift_when_csv_has_an_empty_line_in_the_middle():
    # Line 3 is empty, so the second enterprise is on spreadsheet row 4.
    checked = _check_csv(HEADER, f"{CODE_A},甲,power,chaoyang", "", f"{CODE_B},乙,Power,chaoyang")
    assert [n for n, _ in checked.enterprises] == [2]
    assert _pointers(checked) == ["#/enterprises/rows/4/sector"]


def test_short_rows_read_as_empty_cells_when_trailing_commas_are_missing():
    batch = read_batch(_csv(HEADER + ",name_en", f"{CODE_A},甲,power,chaoyang"))
    assert batch.enterprises is not None
    assert batch.enterprises.rows[0][1]["name_en"] == ""


def test_unreadable_file_is_raised_when_csv_is_not_utf8():
    data = (HEADER + "\n" + f"{CODE_A},北京热电,power,chaoyang\n").encode("gbk")
    with pytest.raises(UnreadableFile, match="UTF-8 CSV") as info:
        read_batch(io.BytesIO(data), "enterprises.csv")
    assert info.value.status == 422
    assert info.value.slug == "unreadable-file"


def test_unreadable_file_is_raised_when_csv_is_empty():
    with pytest.raises(UnreadableFile, match=r"enterprises\.csv"):
        read_batch(io.BytesIO(b""), "enterprises.csv")


def test_unreadable_file_is_raised_when_first_row_has_more_cells_than_the_header():
    # pandas would otherwise read CODE_A and 甲 as an index and shift "power" into credit_code.
    with pytest.raises(UnreadableFile, match="more cells than the header"):
        read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang,extra,cells"))


def test_unreadable_file_is_raised_when_first_row_has_a_trailing_comma():
    with pytest.raises(UnreadableFile, match="more cells than the header"):
        read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang,"))


def test_unreadable_file_is_raised_when_a_later_row_has_more_cells_than_the_header():
    with pytest.raises(UnreadableFile, match="line 3"):
        read_batch(_csv(HEADER, f"{CODE_A},甲,power,chaoyang", f"{CODE_B},乙,power,chaoyang,x"))


def test_unreadable_file_is_raised_when_xlsx_is_damaged():
    with pytest.raises(UnreadableFile, match="XLSX"):
        read_batch(io.BytesIO(b"PK\x03\x04 this is not really a zip"), "enterprises.xlsx")


def test_unreadable_file_is_raised_when_no_file_is_given():
    with pytest.raises(UnreadableFile, match="no enterprises or facilities"):
        read_batch(None)


def test_xlsx_is_recognised_by_its_zip_signature_when_named_csv():
    workbook = _xlsx({"enterprises": [HEADER.split(","), [CODE_A, "甲", "power", "chaoyang"]]})
    batch = read_batch(workbook, "upload.csv")
    assert batch.enterprises is not None
    assert batch.enterprises.rows == [
        (2, {"credit_code": CODE_A, "name": "甲", "sector": "power", "district": "chaoyang"})
    ]


def test_xlsx_dates_load_as_dates_when_cells_hold_dates_or_midnight_datetimes():
    workbook = _xlsx(
        {
            "enterprises": [
                [*HEADER.split(","), "status_effective_from"],
                [CODE_A, "甲", "power", "chaoyang", date(2021, 6, 30)],
                [CODE_B, "乙", "power", "chaoyang", datetime(2021, 7, 1)],  # noqa: DTZ001
            ]
        }
    )
    checked = check_batch(read_batch(workbook, "batch.xlsx"))
    assert checked.errors == []
    assert [row["status_effective_from"] for _, row in checked.enterprises] == [
        date(2021, 6, 30),
        date(2021, 7, 1),
    ]


def test_xlsx_numbers_become_text_when_read_into_text_columns():
    workbook = _xlsx(
        {
            "enterprises": [
                [*HEADER.split(","), "name_en"],
                [CODE_A, "甲", "power", "chaoyang", 12],
            ]
        }
    )
    batch = read_batch(workbook, "batch.xlsx")
    assert batch.enterprises is not None
    assert batch.enterprises.rows[0][1]["name_en"] == "12"


def test_xlsx_row_numbers_skip_blank_rows_when_a_row_is_empty_in_the_middle():
    workbook = _xlsx(
        {
            "enterprises": [
                HEADER.split(","),
                [CODE_A, "甲", "power", "chaoyang"],
                [],
                [CODE_B, "乙", "power", "Chaoyang"],
                [],
            ]
        }
    )
    checked = check_batch(read_batch(workbook, "batch.xlsx"))
    assert _pointers(checked) == ["#/enterprises/rows/4/district"]
    assert checked.errors[0].row == 4


def test_enterprises_sheet_is_found_case_insensitively_when_workbook_has_other_sheets():
    workbook = _xlsx(
        {
            "Notes": [["read me"], ["nothing to import here"]],
            "Enterprises": [HEADER.split(","), [CODE_A, "甲", "power", "chaoyang"]],
        }
    )
    batch = read_batch(workbook, "batch.xlsx")
    assert batch.enterprises is not None
    assert batch.enterprises.columns == HEADER.split(",")


def test_first_sheet_is_used_when_workbook_has_no_enterprises_sheet():
    workbook = _xlsx({"Sheet1": [HEADER.split(","), [CODE_A, "甲", "power", "chaoyang"]]})
    batch = read_batch(workbook, "batch.xlsx")
    assert batch.enterprises is not None
    assert batch.enterprises.kind == "enterprises"
    assert batch.enterprises.source == "batch.xlsx"


def test_facilities_sheet_is_read_when_it_is_in_the_same_workbook():
    workbook = _xlsx(
        {
            "enterprises": [HEADER.split(","), [CODE_A, "甲", "power", "chaoyang"]],
            "facilities": [
                FACILITY_HEADER.split(","),
                [CODE_A, "1号机组", "coal_unit", 350, "MW", date(2010, 1, 1)],
                [CODE_A, "2号机组", "coal_unit", "350.5", "MW", None],
            ],
        }
    )
    checked = check_batch(read_batch(workbook, "batch.xlsx"))
    assert checked.errors == []
    assert [n for n, _ in checked.enterprises] == [2]
    assert checked.facilities == [
        (
            2,
            {
                "credit_code": CODE_A,
                "name": "1号机组",
                "facility_type": "coal_unit",
                "capacity": Decimal("350"),
                "capacity_unit": CapacityUnit.MW,
                "commissioned_on": date(2010, 1, 1),
                "category": None,  # optional columns left out: not given
                "cooling": None,
            },
        ),
        (
            3,
            {
                "credit_code": CODE_A,
                "name": "2号机组",
                "facility_type": "coal_unit",
                "capacity": Decimal("350.5"),
                "capacity_unit": CapacityUnit.MW,
                "commissioned_on": None,
                "category": None,  # optional columns left out: not given
                "cooling": None,
            },
        ),
    ]


def test_workbook_with_only_a_facilities_sheet_has_no_enterprises_when_read():
    workbook = _xlsx({"facilities": [FACILITY_HEADER.split(","), [CODE_A, "锅炉", "boiler"]]})
    batch = read_batch(workbook, "facilities.xlsx")
    assert batch.enterprises is None
    assert batch.facilities is not None
    assert [n for n, _ in batch.facilities.rows] == [2]


def test_unreadable_file_is_raised_when_facilities_come_both_as_sheet_and_as_file():
    workbook = _xlsx(
        {
            "enterprises": [HEADER.split(",")],
            "facilities": [FACILITY_HEADER.split(",")],
        }
    )
    with pytest.raises(UnreadableFile, match="given twice"):
        read_batch(workbook, "batch.xlsx", _csv(FACILITY_HEADER), "facilities.csv")


def test_separate_facilities_csv_is_read_when_given_beside_the_enterprises_csv():
    batch = read_batch(
        _csv(HEADER, f"{CODE_A},甲,power,chaoyang"),
        "enterprises.csv",
        _csv(FACILITY_HEADER, f"{CODE_A},1号锅炉,boiler,75,t/h,"),
        "facilities.csv",
    )
    checked = check_batch(batch)
    assert checked.errors == []
    assert checked.facilities[0][1]["capacity_unit"] is CapacityUnit.TONNES_PER_HOUR
    assert checked.facilities[0][1]["capacity"] == Decimal("75")


def test_upload_objects_are_read_through_their_stream_and_filename_when_given():
    upload = SimpleNamespace(stream=_csv(HEADER, f"{CODE_A},甲,power,chaoyang"), filename="a.csv")
    batch = read_upload(upload)
    assert batch.enterprises is not None
    assert batch.enterprises.source == "a.csv"
    assert batch.facilities is None


# --- column checks -------------------------------------------------------------------------


def test_unknown_column_is_an_error_when_header_has_a_column_the_schema_lacks():
    checked = _check_csv(HEADER + ",remarks", f"{CODE_A},甲,power,chaoyang,hello")
    assert [e.as_dict() for e in checked.errors] == [
        {
            "pointer": "#/enterprises/columns/remarks",
            "detail": "unknown column 'remarks'",
            "code": "import.unknown_column",
            "column": "remarks",
        }
    ]
    assert checked.enterprises == []  # no row is loaded while the header is wrong


def test_unknown_column_pointer_escapes_the_slash_when_the_header_contains_one():
    checked = _check_csv(HEADER + ",容量/MW", f"{CODE_A},甲,power,chaoyang,350")
    assert _pointers(checked) == ["#/enterprises/columns/容量~1MW"]
    assert checked.errors[0].column == "容量/MW"


def test_missing_required_column_is_an_error_when_header_lacks_it():
    checked = _check_csv("credit_code,name,sector", f"{CODE_A},甲,power")
    assert [(e.pointer, e.code) for e in checked.errors] == [
        ("#/enterprises/columns/district", "import.missing_column")
    ]


def test_only_header_errors_are_reported_when_rows_would_also_be_invalid():
    checked = _check_csv("credit_code,name,sector", "not-a-code,,Power")
    assert {e.code for e in checked.errors} == {"import.missing_column"}


def test_optional_columns_may_be_left_out_when_required_ones_are_present():
    checked = _check_csv(HEADER, f"{CODE_A},甲,power,chaoyang")
    assert checked.errors == []
    assert checked.enterprises[0][1]["name_en"] is None


def test_every_documented_column_is_accepted_when_all_are_present():
    checked = _check_csv(
        ",".join(ENTERPRISE_COLUMNS),
        ",".join(
            {
                "credit_code": CODE_A,
                "name": "甲",
                "name_en": "Jia Co.",
                "sector": "power",
                "district": "chaoyang",
                "status_effective_from": "2021-06-30",
                "contact_name": "王工",
                "contact_title": "能源主管",
                "contact_phone": "010-12345678",
                "contact_email": "wang@example.com",
            }[column]
            for column in ENTERPRISE_COLUMNS
        ),
    )
    assert checked.errors == []
    assert checked.enterprises[0][1]["status_effective_from"] == date(2021, 6, 30)


def test_facility_owner_column_is_required_when_facilities_are_imported():
    assert "credit_code" in FACILITY_COLUMNS
    header = ",".join(c for c in FACILITY_COLUMNS if c != "credit_code")
    checked = check_batch(read_batch(None, facilities=_csv(header, "锅炉,boiler,,,")))
    assert [(e.pointer, e.code) for e in checked.errors] == [
        ("#/facilities/columns/credit_code", "import.missing_column")
    ]


# --- row checks ----------------------------------------------------------------------------


def test_row_error_points_at_spreadsheet_row_and_column_when_a_cell_is_invalid():
    checked = _check_csv(
        HEADER,
        f"{CODE_A},甲,power,chaoyang",
        f"{CODE_B[:17]}0,乙,power,chaoyang",  # wrong check character on row 3
    )
    assert len(checked.errors) == 1
    error = checked.errors[0]
    assert error.pointer == "#/enterprises/rows/3/credit_code"
    assert (error.row, error.column) == (3, "credit_code")
    assert "check character" in error.detail
    assert [n for n, _ in checked.enterprises] == [2]


def test_empty_required_cell_is_reported_as_missing_when_row_leaves_it_blank():
    checked = _check_csv(HEADER, f"{CODE_A},,power,chaoyang")
    assert [(e.pointer, e.detail) for e in checked.errors] == [
        ("#/enterprises/rows/2/name", "Missing data for required field.")
    ]


def test_every_bad_cell_of_a_row_is_reported_when_several_are_invalid():
    checked = _check_csv(HEADER, "123,甲,Power,朝阳")
    assert sorted(_pointers(checked)) == [
        "#/enterprises/rows/2/credit_code",
        "#/enterprises/rows/2/district",
        "#/enterprises/rows/2/sector",
    ]


def test_contact_phone_without_contact_name_is_an_error_when_name_is_blank():
    checked = _check_csv(
        HEADER + ",contact_name,contact_phone",
        f"{CODE_A},甲,power,chaoyang,,010-12345678",
    )
    assert [(e.pointer, e.detail) for e in checked.errors] == [
        ("#/enterprises/rows/2/contact_name", "a contact needs a name")
    ]
    assert checked.enterprises == []


def test_contact_email_without_contact_name_is_an_error_when_name_is_blank():
    checked = _check_csv(
        HEADER + ",contact_name,contact_email",
        f"{CODE_A},甲,power,chaoyang,,wang@example.com",
    )
    assert _pointers(checked) == ["#/enterprises/rows/2/contact_name"]


def test_credit_code_is_normalised_when_typed_in_lower_case():
    checked = _check_csv(HEADER, f"{CODE_A.lower()},甲,power,chaoyang")
    assert checked.errors == []
    assert checked.enterprises[0][1]["credit_code"] == CODE_A


def test_duplicate_credit_code_is_an_error_when_it_repeats_an_earlier_row():
    checked = _check_csv(
        HEADER,
        f"{CODE_A},甲,power,chaoyang",
        f"{CODE_B},乙,power,chaoyang",
        f"{CODE_A.lower()},丙,power,chaoyang",  # the same code after normalisation
    )
    assert [e.as_dict() for e in checked.errors] == [
        {
            "pointer": "#/enterprises/rows/4/credit_code",
            "detail": "credit code repeats row 2",
            "code": "import.duplicate_row",
            "row": 4,
            "column": "credit_code",
        }
    ]


def test_each_repeat_names_the_first_row_when_a_code_appears_three_times():
    checked = _check_csv(
        HEADER,
        f"{CODE_C},甲,power,chaoyang",
        f"{CODE_C},乙,power,chaoyang",
        f"{CODE_C},丙,power,chaoyang",
    )
    assert [(e.row, e.detail) for e in checked.errors] == [
        (3, "credit code repeats row 2"),
        (4, "credit code repeats row 2"),
    ]


def test_duplicate_facility_is_an_error_when_the_same_enterprise_repeats_a_name():
    batch = read_batch(
        None,
        facilities=_csv(
            FACILITY_HEADER,
            f"{CODE_A},1号机组,coal_unit,350,MW,",
            f"{CODE_B},1号机组,coal_unit,350,MW,",  # same name, other enterprise: fine
            f"{CODE_A},1号机组,gas_unit,100,MW,",
        ),
    )
    checked = check_batch(batch)
    assert [(e.pointer, e.detail) for e in checked.errors] == [
        ("#/facilities/rows/4/name", "facility name repeats row 2")
    ]


def test_facility_capacity_is_refused_when_it_has_more_than_three_places():
    batch = read_batch(None, facilities=_csv(FACILITY_HEADER, f"{CODE_A},锅炉,boiler,1.2345,t/h,"))
    checked = check_batch(batch)
    assert [(e.pointer, e.detail) for e in checked.errors] == [
        ("#/facilities/rows/2/capacity", "has more than 3 decimal places")
    ]


def test_check_batch_is_empty_when_the_batch_has_no_tables():
    checked = check_batch(ImportBatch())
    assert (checked.enterprises, checked.facilities, checked.errors) == ([], [], [])


# --- contacts_of ---------------------------------------------------------------------------


def test_contacts_of_gives_one_contact_when_a_contact_name_is_present():
    row = {"contact_name": "王工", "contact_title": None, "contact_phone": "010-1", "x": 1}
    assert contacts_of(row) == [{"name": "王工", "title": None, "phone": "010-1", "email": None}]


def test_contacts_of_gives_no_contacts_when_the_name_is_missing():
    assert contacts_of({"contact_name": None, "contact_phone": None}) == []


def test_a_header_that_repeats_a_column_after_trimming_spaces_is_unreadable():
    import io

    from carbon_market.emitters.importing import UnreadableFile, read_batch

    data = b"credit_code,name, name,sector,district\n"
    with pytest.raises(UnreadableFile, match="name appear"):
        read_batch(io.BytesIO(data), "e.csv")


def test_a_sheet_longer_than_the_row_limit_is_refused_without_reading_it_all(monkeypatch):
    import io

    from carbon_market.emitters import importing
    from carbon_market.kernel import tabular

    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    data = b"credit_code,name,sector,district\n" + b"\n" * 10
    with pytest.raises(importing.UnreadableFile, match="more than 3 rows"):
        importing.read_batch(io.BytesIO(data), "e.csv")


def test_cells_hold_each_columns_texts_aligned_with_the_rows_when_lines_are_blank_or_short():
    """The trade import checks a file column by column: ``cells`` and ``numbers`` must say
    what ``rows`` says, row for row, blank lines dropped and short rows padded."""
    batch = read_batch(_csv(HEADER, f" {CODE_A} ,A,power,chaoyang", "", f"{CODE_B},B"))
    table = batch.enterprises
    assert table is not None
    assert table.numbers == [2, 4]
    assert table.cells["credit_code"] == [CODE_A, CODE_B]
    assert table.cells["district"] == ["chaoyang", ""]
    assert table.rows == [
        (n, {c: table.cells[c][i] for c in table.columns}) for i, n in enumerate(table.numbers)
    ]


# --- the power corrections' registry inputs: category and cooling ---------------------------

POWER_HEADER = "credit_code,name,facility_type,category,cooling"


def test_facility_category_and_cooling_are_loaded_when_the_rulebook_knows_them():
    batch = read_batch(
        None,
        facilities=_csv(
            POWER_HEADER,
            f"{CODE_A},1号机组,coal_unit,coal_300mw_plus,air",
            f"{CODE_A},2号机组,gas_unit,gas,",  # cooling left empty: not given
            f"{CODE_A},1号锅炉,boiler,,",
        ),
    )
    checked = check_batch(batch)
    assert checked.errors == []
    loaded = [(r["category"], r["cooling"]) for _, r in checked.facilities]
    assert [(c, w.value if w else None) for c, w in loaded] == [
        ("coal_300mw_plus", "air"),
        ("gas", None),
        (None, None),
    ]


def test_unknown_category_or_cooling_is_a_row_error_naming_the_cell():
    batch = read_batch(
        None,
        facilities=_csv(
            POWER_HEADER,
            f"{CODE_A},1号机组,coal_unit,coal_600mw,water",  # not a rulebook category
            f"{CODE_A},2号机组,coal_unit,coal_300mw_plus,sea",  # no such cooling
            f"{CODE_A},3号机组,coal_unit,Gas,Air",  # codes are lower case, as in the API
        ),
    )
    checked = check_batch(batch)
    assert [(e.pointer, e.row, e.column) for e in checked.errors] == [
        ("#/facilities/rows/2/category", 2, "category"),
        ("#/facilities/rows/3/cooling", 3, "cooling"),
        ("#/facilities/rows/4/category", 4, "category"),
        ("#/facilities/rows/4/cooling", 4, "cooling"),
    ]
    assert "coal_300mw_plus" in checked.errors[0].detail  # the categories it could be
    assert "air" in checked.errors[1].detail
    assert [r["name"] for _, r in checked.facilities] == []
