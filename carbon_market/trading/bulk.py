"""All-or-nothing intake of the exchange's end-of-day trade file (CSV).

The file rules are the emitter import's (``docs/import-format.md``); the columns are the
trade's fields (``docs/trading.md``). Every row is shape-checked first (unknown or missing
columns, bad cells, an ``external_ref`` repeated in the file); then each row goes through
the same service as ``POST /api/v1/trades`` inside a savepoint of one unit of work, so a
refused row is undone alone, its error kept with its row number, and later rows see the
earlier ones (two rows selling the same units are caught; under T+0 the units really
move). Any error, and nothing is recorded or moved. A file imported again changes nothing:
each reference recorded with the same content is the trade already recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from marshmallow import fields, validate
from sqlalchemy.orm import Session

from carbon_market.auth.policy import authorize
from carbon_market.auth.roles import Actor
from carbon_market.db import transactional
from carbon_market.emitters.importing import (
    Table,
    column_errors,
    duplicate_rows,
    load_rows,
    read_csv,
)
from carbon_market.errors import DomainError, FieldError, ValidationFailed
from carbon_market.ledger.rules import MAX_VINTAGE, MIN_VINTAGE
from carbon_market.trading import service
from carbon_market.trading.schemas import MarketTradeCreateSchema

TRADES = "trades"
#: ``progress(done, total)``: the CLI draws a bar with it; the API passes nothing.
Progress = Callable[[int, int], None]


class MarketTradeRowSchema(MarketTradeCreateSchema):
    """A trade as the API takes it; cells are text, so integers are parsed from it (and
    ``1.5`` is still refused)."""

    vintage = fields.Integer(
        required=True, validate=validate.Range(min=MIN_VINTAGE, max=MAX_VINTAGE)
    )
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))


COLUMNS = tuple(MarketTradeRowSchema().fields)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    #: Rows recorded now; the others were recorded before with the same content.
    recorded: int
    unchanged: int


def read_table(data: IO[bytes], filename: str) -> Table:
    """The trade file, a UTF-8 CSV with a header row (UnreadableFile otherwise)."""
    return read_csv(data.read(), TRADES, filename)


def _refuse(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(
        f"{len(errors)} problem(s); nothing was imported",
        errors=sorted(errors, key=lambda e: (e.row or 0, e.column or "")),
    )


def _rows(table: Table) -> list[tuple[int, dict[str, Any]]]:
    schema = MarketTradeRowSchema()
    header = column_errors(table, schema)
    if header:  # row errors would only repeat the header's problem
        raise _refuse(header)
    loaded, errors = load_rows(table, schema)
    errors += duplicate_rows(loaded, ("external_ref",), TRADES, "external_ref")
    if errors:
        raise _refuse(errors)
    if not loaded:
        raise _refuse([FieldError(f"#/{TRADES}", "the file has no rows", row=1)])
    return loaded


def _row_errors(row: int, exc: DomainError) -> list[FieldError]:
    """A service's refusal of one row, pointed at the row's cells."""
    out = []
    for error in exc.errors or [FieldError("#/", exc.detail)]:
        column = error.pointer.removeprefix("#/").split("/")[0] or "row"
        out.append(
            FieldError(
                f"#/{TRADES}/rows/{row}/{column}",
                f"{exc.detail}: {error.detail}",
                error.code,
                row=row,
                column=column,
            )
        )
    return out


@transactional
def import_trades(
    session: Session, actor: Actor, table: Table, progress: Progress | None = None
) -> ImportResult:
    """Record (and under T+0 settle) every trade of ``table``, or none. The exchange and
    regulators. ValidationFailed lists every bad row as ``#/trades/rows/<row>/<column>``."""
    authorize(actor, "trading.record")
    rows = _rows(table)
    errors: list[FieldError] = []
    recorded = 0
    for done, (number, row) in enumerate(rows, start=1):
        savepoint = session.begin_nested()
        try:
            _trade, is_new = service.record_trade(session, actor, **row)
        except DomainError as exc:
            savepoint.rollback()
            errors += _row_errors(number, exc)
        else:
            savepoint.commit()
            recorded += is_new
        if progress:
            progress(done, len(rows))
    if errors:
        raise _refuse(errors)
    return ImportResult(rows=len(rows), recorded=recorded, unchanged=len(rows) - recorded)
