"""The offline files: reading a facilities CSV and writing the results CSV (pure: no
database, no web). Formats: ``docs/allocation.md``, "Files".

Cells are read as text; decimals must be plain non-negative numbers with at most
:data:`PLACES` places (no exponents, no thousands separators), so they convert to
``Decimal`` exactly. Every bad cell is reported at once (up to :data:`MAX_ERRORS`), as
``#/facilities/rows/<row>/<column>`` with the spreadsheet row (header = 1).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import IO, Any

import numpy as np
import pandas as pd

from allocation.rules.engine import RESULT_COLUMNS
from carbon_market.kernel.errors import FieldError, UnreadableFile, ValidationFailed

REQUIRED = ["facility_id", "enterprise", "sector", "category"]
OPTIONAL_DECIMALS = ["heat_supply_ratio", "load_rate", "heat_supplied_gj"]
OPTIONAL = ["cooling", *OPTIONAL_DECIMALS]
YEARLY = re.compile(r"^(emissions|output)_(\d{4})$")
PLACES = 6
DECIMAL = r"\d{1,15}(\.\d{1,6})?"
NEGATIVE = r"-\d+(\.\d+)?"
#: Fractions of 1 (100% = 1).
FRACTIONS = ("heat_supply_ratio", "load_rate")
MAX_ERRORS = 100
_to_decimal: Any = np.frompyfunc(Decimal, 1, 1)


def _error(row: int, column: str, detail: str, code: str) -> FieldError:
    return FieldError(
        f"#/facilities/rows/{row}/{column}", detail, code=code, row=row, column=column
    )


def _read(stream: IO[bytes]) -> pd.DataFrame:
    try:
        return pd.read_csv(stream, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableFile(
            f"the facilities file is not a readable UTF-8 CSV: {exc}",
            errors=[FieldError("#/files/facilities", "not a readable UTF-8 CSV")],
        ) from exc


def _column_errors(table: pd.DataFrame) -> list[FieldError]:
    errors = [
        FieldError(
            f"#/facilities/{name}", "missing column", code="import.missing_column", column=name
        )
        for name in REQUIRED
        if name not in table.columns
    ]
    for name in table.columns:
        if name not in REQUIRED and name not in OPTIONAL and not YEARLY.match(name):
            errors.append(
                FieldError(
                    f"#/facilities/{name}",
                    "unknown column",
                    code="import.unknown_column",
                    column=name,
                )
            )
    return errors


def _decimal_column(table: pd.DataFrame, name: str, errors: list[FieldError]) -> pd.Series[Any]:
    text = table[name].str.strip()
    filled = (text != "").to_numpy()
    good = text.str.fullmatch(DECIMAL).to_numpy(dtype=bool)
    negative = text.str.fullmatch(NEGATIVE).to_numpy(dtype=bool)
    for index in np.flatnonzero(filled & ~good)[:MAX_ERRORS]:
        detail = (
            "must not be negative"
            if negative[index]
            else "not a plain decimal number (at most 6 places)"
        )
        errors.append(_error(int(index) + 2, name, detail, "value.invalid"))
    out = np.full(len(text), None, dtype=object)
    ok = filled & good
    out[ok] = _to_decimal(text.to_numpy()[ok])
    if name in FRACTIONS:
        over = np.flatnonzero(ok)[np.asarray(out[ok] > 1, dtype=bool)]
        errors.extend(
            _error(int(i) + 2, name, "a fraction from 0 to 1", "value.range")
            for i in over[:MAX_ERRORS]
        )
    return pd.Series(out, index=table.index, dtype=object)


def _ids(table: pd.DataFrame, errors: list[FieldError]) -> pd.Series[Any]:
    ids = table["facility_id"].str.strip()
    for index in np.flatnonzero((ids == "").to_numpy())[:MAX_ERRORS]:
        errors.append(_error(int(index) + 2, "facility_id", "required", "value.required"))
    duplicated = ids.duplicated() & (ids != "")
    for index in np.flatnonzero(duplicated.to_numpy())[:MAX_ERRORS]:
        errors.append(
            _error(int(index) + 2, "facility_id", "appears twice in the file", "facility.duplicate")
        )
    if len(ids) and ids.str.fullmatch(r"\d{1,18}").all():
        return ids.astype(np.int64)
    return ids


def read_facilities(stream: IO[bytes]) -> pd.DataFrame:
    """The facilities of a CSV file as the engine takes them; ValidationFailed lists every
    bad column and cell (UnreadableFile if it is not a CSV at all)."""
    table = _read(stream)
    errors = _column_errors(table)
    if errors:
        raise ValidationFailed(
            f"the facilities file has {len(errors)} bad column(s)", errors=errors
        )
    frame = pd.DataFrame({"facility_id": _ids(table, errors)})
    for name in ("enterprise", "sector", "category", "cooling"):
        frame[name] = table[name].str.strip() if name in table.columns else ""
    for name in table.columns:
        if YEARLY.match(name) or name in OPTIONAL_DECIMALS:
            frame[name] = _decimal_column(table, name, errors)
    if errors:
        shown = errors[:MAX_ERRORS]
        raise ValidationFailed(f"the facilities file has {len(errors)} bad cell(s)", errors=shown)
    return frame


def write_results(results: pd.DataFrame, stream: IO[str]) -> None:
    """The results CSV: one row per input facility, decimals exact, empty where none."""
    results[RESULT_COLUMNS].to_csv(stream, index=False, na_rep="", lineterminator="\n")
