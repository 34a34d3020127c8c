"""All-or-nothing bulk intake of green trades and certificates (CSV or XLSX).

The file rules are the emitter import's (``docs/import-format.md``); columns are in
``docs/green-power.md``. Every row is checked for its shape first; then each row goes through
the same service as one API request (``registry.record_trade``,
``certificates.issue_certificates``) inside a savepoint of one unit of work, so a refused
row is undone alone, its error kept with its row number, and later rows see the earlier
ones (two rows of one file with overlapping serials are caught). Any error, and nothing is
imported. A trade file imported twice changes nothing the second time (a reference recorded
with the same values is the trade already recorded); a certificate file imported twice is
refused row by row (the serials exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.emitters.schemas import CreditCodeField
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import transactional
from carbon_market.kernel.errors import DomainError, FieldError, ValidationFailed
from carbon_market.kernel.schemas import Schema
from carbon_market.kernel.tabular import (
    Table,
    column_errors,
    duplicate_rows,
    load_rows,
    read_single_table,
)
from finance.greenpower import certificates, registry
from finance.greenpower.models import GreenPlant, GreenTrade
from finance.greenpower.schemas import SERIAL, YEAR, TradeCreateSchema

TRADES = "trades"
CERTIFICATES = "certificates"
#: ``progress(done, total)``: a CLI draws a bar with it; the API passes nothing.
Progress = Callable[[int, int], None]


class TradeRowSchema(TradeCreateSchema):
    """A trade as the API takes it, the plant named by its name (or id)."""

    plant = fields.String(required=True, validate=validate.Length(min=1, max=200))  # type: ignore[assignment]


class CertificateRowSchema(Schema):
    """An issuance, the plant named by its name (or id) and the trade by its reference."""

    plant = fields.String(required=True, validate=validate.Length(min=1, max=200))
    generation_year = fields.Integer(required=True, validate=YEAR)
    serial_start = SERIAL
    serial_end = SERIAL
    holder = CreditCodeField()
    trade = fields.String(validate=validate.Length(min=1, max=64))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    #: Rows that were already recorded with the same values (trades only).
    unchanged: int = 0


def read_table(data: IO[bytes], filename: str, kind: str) -> Table:
    """A CSV, or the workbook's sheet named ``kind`` (else its first sheet)."""
    return read_single_table(data, filename, kind)


def _rows(table: Table, schema: Schema, key: tuple[str, ...], what: str) -> list[tuple[int, Any]]:
    """Shape-checked rows, or ValidationFailed with every shape error of the file."""
    header = column_errors(table, schema)
    if header:
        raise _refuse(header)
    loaded, errors = load_rows(table, schema)
    errors += duplicate_rows(loaded, key, table.kind, what)
    if errors:
        raise _refuse(errors)
    if not loaded:
        raise _refuse([FieldError(f"#/{table.kind}", "the file has no rows", row=1)])
    return loaded


def _refuse(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(
        f"{len(errors)} problem(s); nothing was imported",
        errors=sorted(errors, key=lambda e: (e.row or 0, e.column or "")),
    )


def _row_errors(kind: str, row: int, exc: DomainError) -> list[FieldError]:
    """A service's refusal of one row, pointed at the row's cells."""
    found = exc.errors or [FieldError("#/", exc.detail)]
    out = []
    for error in found:
        column = error.pointer.removeprefix("#/").split("/")[0] or "row"
        out.append(
            FieldError(
                f"#/{kind}/rows/{row}/{column}",
                f"{exc.detail}: {error.detail}",
                error.code,
                row=row,
                column=column,
            )
        )
    return out


def _plant_ids(session: Session) -> dict[str, int]:
    """Plants by name and by id as text, for the ``plant`` column."""
    found: dict[str, int] = {}
    for plant_id, name in session.execute(select(GreenPlant.id, GreenPlant.name)):
        found[name] = found[str(plant_id)] = plant_id
    return found


def _run(
    session: Session,
    table: Table,
    rows: list[tuple[int, dict[str, Any]]],
    one: Callable[[dict[str, Any]], bool],
    progress: Progress | None,
) -> ImportResult:
    """Each row through ``one`` (True: it changed something) in its own savepoint."""
    errors: list[FieldError] = []
    unchanged = 0
    for done, (number, row) in enumerate(rows, start=1):
        savepoint = session.begin_nested()
        try:
            changed = one(row)
        except DomainError as exc:
            savepoint.rollback()
            errors += _row_errors(table.kind, number, exc)
        else:
            savepoint.commit()
            unchanged += not changed
        if progress:
            progress(done, len(rows))
    if errors:
        raise _refuse(errors)
    return ImportResult(table.kind, len(rows), unchanged)


@transactional
def import_trades(
    session: Session, actor: Actor, table: Table, progress: Progress | None = None
) -> ImportResult:
    """Record every trade of ``table``, or none. Regulators only."""
    authorize(actor, "greenpower.manage")
    rows = _rows(table, TradeRowSchema(), ("reference",), "trade")
    plants = _plant_ids(session)

    def one(row: dict[str, Any]) -> bool:
        plant = plants.get(row["plant"])
        if plant is None:
            raise ValidationFailed("unknown plant", errors=[FieldError("#/plant", "no such plant")])
        _trade, new = registry.record_trade(session, actor, **(row | {"plant": plant}))
        return new

    return _run(session, table, rows, one, progress)


@transactional
def import_certificates(
    session: Session, actor: Actor, table: Table, progress: Progress | None = None
) -> ImportResult:
    """Issue every certificate block of ``table``, or none. Regulators only."""
    authorize(actor, "greenpower.manage")
    rows = _rows(table, CertificateRowSchema(), ("serial_start",), "certificate block")
    plants = _plant_ids(session)
    trades = {ref: id_ for ref, id_ in session.execute(select(GreenTrade.reference, GreenTrade.id))}

    def one(row: dict[str, Any]) -> bool:
        plant = plants.get(row["plant"])
        trade = trades.get(row["trade"]) if row.get("trade") else None
        errors = []
        if plant is None:
            errors.append(FieldError("#/plant", "no such plant"))
        if row.get("trade") and trade is None:
            errors.append(FieldError("#/trade", "no trade with this reference"))
        if errors or plant is None:
            raise ValidationFailed("unknown plant or trade", errors=errors)
        certificates.issue_certificates(session, actor, **(row | {"plant": plant, "trade": trade}))
        return True

    return _run(session, table, rows, one, progress)
