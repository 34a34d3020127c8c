"""The emission-report template: an XLSX workbook to fill in and upload (issue 5, item 4).

Pure: builds bytes from values, no database. The layout is
:mod:`carbon_market.mrv.xlsx.layout`. Choices that matter to whoever fills it in:

* Decimal columns (and the text columns) are formatted as text (``@``), so a typed ``0.1``
  stays the text ``0.1`` instead of becoming a binary float; prefilled decimals are written
  as text for the same reason.
* Drop-downs (data validation) offer the kinds, the factor set's codes, the units, the
  enterprise's facility names and months 1-12. They point at named ranges on the reference
  sheets rather than at other sheets directly: Excel, LibreOffice and WPS all accept those.
* The reference sheets are protected (without a password): they are there to read. The
  facilities sheet is protected too, except for its figure columns on the facilities' rows:
  the name, id and type say which facility a line is for and are not to be changed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, Protection
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from carbon_market.mrv.calculator.emissions import CODE_KEY, StreamKind
from carbon_market.mrv.calculator.units import BASE_UNITS, UNITS, Dimension, units_of
from carbon_market.mrv.xlsx.layout import (
    ABOUT,
    CODES,
    COLUMNS,
    DECIMAL_COLUMNS,
    FACILITIES,
    FACILITY_COLUMNS,
    LINE_COLUMNS,
    MAX_STREAMS,
    POLLUTANT_COLUMNS,
    STREAMS,
    WorkbookContext,
    column_letter,
)

TEXT = "@"
BOLD = Font(bold=True)
UNLOCKED = Protection(locked=False)
LAST_ROW = MAX_STREAMS + 1
#: Columns that hold words, formatted as text so that a name such as "001" stays "001".
TEXT_COLUMNS = ("facility", "kind", "code", "unit", "evidence")
CODE_HEADER = ("kind", "code", "dimension", "base unit", "units")
UNIT_HEADER = ("unit", "dimension", "in base unit")
WIDTHS = {"facility": 24, "kind": 12, "code": 16, "quantity": 16, "unit": 11, "evidence": 30}
INSTRUCTIONS = (
    (
        "说明",
        "在 streams 表每行填写一个排放源：kind 为 fuel、electricity、heat 或 process，"
        "fuel 和 process 须填 code；数量和因子按文本填写以保持精确小数；facility 填"
        " facilities 表中的设施名称，month 为 1-12；空行忽略。上传时一次列出所有错误"
        "（工作表、行、列），有任何错误则不保存。facilities 表每个设施一行：填写 output、"
        "heat_supply_ratio、load_rate、heat_supplied_gj 中任一项即为该设施的分设施数据"
        "（多设施企业的配额分配需要），全部留空则不报该设施。",
    ),
    (
        "instructions",
        "One stream per row of the streams sheet: kind is fuel, electricity, heat or "
        "process; fuel and process rows need a code; type quantities and factors as text so "
        "decimals stay exact; facility is a name from the facilities sheet; month is 1-12; "
        "blank rows are ignored. An upload lists every error (sheet, row, column) and saves "
        "nothing while any remains. On the facilities sheet, a facility with any of output, "
        "heat_supply_ratio, load_rate or heat_supplied_gj filled gets a facility line (which "
        "allocation needs for an enterprise of several facilities); leave all four empty for "
        "none.",
    ),
)


def build_template(
    context: WorkbookContext,
    streams: Iterable[Mapping[str, Any]] = (),
    *,
    lines: Iterable[Mapping[str, Any]] = (),
    report_id: int | None = None,
) -> bytes:
    """The workbook for ``context``, its ``streams`` sheet prefilled with ``streams`` and its
    ``facilities`` sheet with the facility ``lines`` (both in the API's format, e.g. an
    existing draft's) so that it can be edited and uploaded back; ``report_id`` names that
    report on the ``about`` sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = STREAMS
    _streams_sheet(sheet, context, streams)
    _facilities_sheet(workbook.create_sheet(FACILITIES), context, lines)
    code_count = _codes_sheet(workbook.create_sheet(CODES), context)
    _about_sheet(workbook.create_sheet(ABOUT), context, report_id)
    _drop_downs(workbook, sheet, context, code_count)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(sheet: Any, names: Iterable[str | None]) -> None:
    sheet.append(list(names))
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"


def _streams_sheet(
    sheet: Any, context: WorkbookContext, streams: Iterable[Mapping[str, Any]]
) -> None:
    _header(sheet, COLUMNS)
    for column in COLUMNS:
        dimension = sheet.column_dimensions[column_letter(column)]
        dimension.width = WIDTHS.get(column, 14)
        if column in DECIMAL_COLUMNS or column in TEXT_COLUMNS:
            dimension.number_format = TEXT  # cells typed later inherit the column's format
    names = {facility.id: facility.name for facility in context.facilities}
    for stream in streams:
        sheet.append([_cell(stream, column, names) for column in COLUMNS])
        for cell in sheet[sheet.max_row]:
            if cell.column_letter != column_letter("month"):
                cell.number_format = TEXT


def _cell(stream: Mapping[str, Any], column: str, facilities: Mapping[int, str]) -> Any:
    """What a stored stream shows in ``column``: text, except the month (a number)."""
    if column == "code":
        key = CODE_KEY.get(StreamKind(stream["kind"]))
        return stream.get(key) if key else None
    if column == "facility":
        facility = stream.get("facility")
        return facilities.get(facility, str(facility)) if facility is not None else None
    if column in stream:
        return stream[column]
    group = "pollutants" if column in POLLUTANT_COLUMNS else "factors"
    value = (stream.get(group) or {}).get(column)
    return None if value is None else str(value)


def _codes_sheet(sheet: Any, context: WorkbookContext) -> int:
    """Codes (fuels, then process activities, then the kinds that take none) in columns A-E
    and units in G-I; returns how many codes head the list (the ``code`` drop-down)."""
    factor_set = context.factor_set
    _header(sheet, [*CODE_HEADER, None, *UNIT_HEADER])
    fuels, processes = sorted(factor_set.fuels.items()), sorted(factor_set.processes.items())
    entries: list[tuple[StreamKind, str | None, str]] = [
        *((StreamKind.FUEL, code, fuel.unit) for code, fuel in fuels),
        *((StreamKind.PROCESS, code, process.unit) for code, process in processes),
        (StreamKind.ELECTRICITY, None, BASE_UNITS[Dimension.ELECTRICITY]),
        (StreamKind.HEAT, None, BASE_UNITS[Dimension.HEAT]),
    ]
    for row, (kind, code, base) in enumerate(entries, start=2):
        dimension = UNITS[base].dimension
        values = [kind.value, code, dimension.value, base, ", ".join(units_of(dimension))]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    for row, unit in enumerate(UNITS.values(), start=2):
        in_base = f"{format(unit.in_base, 'f')} {BASE_UNITS[unit.dimension]}"
        for column, value in enumerate((unit.name, unit.dimension.value, in_base), start=7):
            sheet.cell(row=row, column=column, value=value)
    for letter, width in (("B", 18), ("C", 12), ("D", 11), ("E", 18), ("G", 11), ("I", 18)):
        sheet.column_dimensions[letter].width = width
    sheet.protection.sheet = True
    return sum(1 for _, code, _ in entries if code is not None)


def _facilities_sheet(
    sheet: Any, context: WorkbookContext, lines: Iterable[Mapping[str, Any]]
) -> None:
    """One row per facility: name, id and type (locked), then its line's figures (as text,
    unlocked: the cells to fill in)."""
    _header(sheet, FACILITY_COLUMNS)
    by_facility = {line["facility"]: line for line in lines}
    first = len(FACILITY_COLUMNS) - len(LINE_COLUMNS) + 1  # the first figure column
    for facility in context.facilities:
        line = by_facility.get(facility.id, {})
        figures = [None if line.get(name) is None else str(line[name]) for name in LINE_COLUMNS]
        sheet.append([facility.name, facility.id, facility.facility_type, *figures])
        for cell in sheet[sheet.max_row][first - 1 :]:
            cell.number_format = TEXT
            cell.protection = UNLOCKED
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["C"].width = 16
    for index in range(first, len(FACILITY_COLUMNS) + 1):
        sheet.column_dimensions[chr(ord("A") + index - 1)].width = 18
    sheet.protection.sheet = True


def _about_sheet(sheet: Any, context: WorkbookContext, report_id: int | None) -> None:
    _header(sheet, ["field", "value"])
    for row in (
        ("credit_code", context.credit_code),
        ("enterprise", context.enterprise_name),
        ("year", context.year),
        ("factor_set", context.factor_set_label),
        ("report", report_id),
        (None, None),
        *INSTRUCTIONS,
    ):
        sheet.append(list(row))
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 100
    sheet.protection.sheet = True


def _named_list(workbook: Workbook, name: str, reference: str, title: str) -> DataValidation:
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)
    return _list(name, title)  # OOXML formulas carry no leading "="


def _list(formula: str, title: str) -> DataValidation:
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error=f"Choose a {title} from the list / 请从列表中选择",
    )


def _drop_downs(workbook: Workbook, sheet: Any, context: WorkbookContext, code_count: int) -> None:
    kinds = ",".join(kind.value for kind in StreamKind)
    validations = {"kind": _list(f'"{kinds}"', "kind")}
    if code_count:
        reference = f"{CODES}!$B$2:$B${code_count + 1}"
        validations["code"] = _named_list(workbook, "report_codes", reference, "code")
    reference = f"{CODES}!$G$2:$G${len(UNITS) + 1}"
    validations["unit"] = _named_list(workbook, "report_units", reference, "unit")
    if context.facilities:
        reference = f"{FACILITIES}!$A$2:$A${len(context.facilities) + 1}"
        validations["facility"] = _named_list(workbook, "report_facilities", reference, "facility")
    validations["month"] = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2="12",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="month",
        error="A month is a whole number 1-12 / 月份为 1-12 的整数",
    )
    for column, validation in validations.items():
        letter = column_letter(column)
        validation.add(f"{letter}2:{letter}{LAST_ROW}")
        sheet.add_data_validation(validation)
