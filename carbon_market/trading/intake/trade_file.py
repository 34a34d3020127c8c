"""All-or-nothing intake of the exchange's end-of-day trade file (CSV).

The file rules are the emitter import's (``docs/import-format.md``); the columns are the
trade's fields (``docs/trading.md``). Every row is shape-checked first (unknown or missing
columns, bad cells, an ``external_ref`` repeated in the file); then the rows are checked in
trade-time order with the same rules as ``POST /api/v1/trades``, set-based: the market the
checks read is loaded once and replayed in memory (``replay.py``), each accepted row
updating it as recording it would (two rows selling the same units are caught; a day's
listed trades make the next day's reference price), and every refused row is reported with
its number. Any error, and nothing is recorded or moved. Otherwise the trades (and under
T+0 their settlements, through the ledger engine's bulk path) are written in multi-row
statements (``batch.py``), about 100 times faster than recording them one by one (the
first version did: ``docs/performance.md``). A file imported again changes nothing: each
reference recorded with the same content is the trade already recorded.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, TypeVar, cast

from marshmallow import fields, validate
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import config_of, transactional
from carbon_market.kernel.errors import Conflict, DomainError, FieldError, ValidationFailed
from carbon_market.kernel.tabular import Table, column_errors, duplicate_rows, load_rows, read_csv
from carbon_market.ledger.rules import MAX_VINTAGE, MIN_VINTAGE
from carbon_market.trading import checks, replay, service
from carbon_market.trading.intake import batch
from carbon_market.trading.models import TradeKind
from carbon_market.trading.schemas import MAX_PRICE, MarketTradeCreateSchema

TRADES = "trades"
#: ``progress(done, total)``: the CLI draws a bar with it; the API passes nothing.
Progress = Callable[[int, int], None]
T = TypeVar("T")


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


_DIGITS = re.compile(r"[0-9]{1,9}")
_PRICE = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")
_KINDS = {kind.value: kind for kind in TradeKind}


def _plain_row(row: dict[str, str]) -> dict[str, Any] | None:
    """A row as :class:`MarketTradeRowSchema` loads it, when it is plainly well formed
    (about 20 times faster than the schema: a 100,000-row file); None for anything else,
    which the schema then loads or words the problem of."""
    kind = _KINDS.get(row["kind"])
    vintage, quantity, price = row["vintage"], row["quantity"], row["price"]
    ref, seller, buyer, unit_kind = (
        row["external_ref"], row["seller_account"], row["buyer_account"], row["unit_kind"]
    )  # fmt: skip
    if (
        kind is None
        or not (seller and buyer and unit_kind and 0 < len(ref) <= 64)
        or not (_DIGITS.fullmatch(vintage) and _DIGITS.fullmatch(quantity))
        or not _PRICE.fullmatch(price)
    ):
        return None
    try:
        traded_at = datetime.fromisoformat(row["traded_at"])
    except ValueError:
        return None
    value = Decimal(price)
    if (
        traded_at.tzinfo is None
        or not 0 < value < MAX_PRICE
        or not MIN_VINTAGE <= int(vintage) <= MAX_VINTAGE
        or int(quantity) < 1
    ):
        return None
    return {
        "kind": kind, "seller_account": seller, "buyer_account": buyer,
        "unit_kind": unit_kind, "vintage": int(vintage), "quantity": int(quantity),
        "price": value, "traded_at": traded_at, "external_ref": ref,
    }  # fmt: skip


def _rows(table: Table) -> list[tuple[int, dict[str, Any]]]:
    """Every row loaded (``_plain_row`` or the schema), or ValidationFailed naming every
    bad cell and repeated reference."""
    schema = MarketTradeRowSchema()
    fast = [(number, _plain_row(row)) for number, row in table.rows]
    errors: list[FieldError] = []
    if all(row is not None for _number, row in fast):
        loaded = cast(list[tuple[int, dict[str, Any]]], fast)
    else:  # the schema words every problem
        loaded, errors = load_rows(table, schema)
    errors += duplicate_rows(loaded, ("external_ref",), TRADES, "external_ref")
    if errors:
        raise _refuse(errors)
    if not loaded:
        raise _refuse([FieldError(f"#/{TRADES}", "the file has no rows", row=1)])
    return loaded


def _digits(texts: list[str]) -> list[int] | None:
    return list(map(int, texts)) if all(map(_DIGITS.fullmatch, texts)) else None


def _distinct(texts: list[str], parse: Callable[[str], T | None]) -> list[T] | None:
    """``parse`` of each cell, computed once per distinct text (a file repeats its prices,
    vintages and times); None when any cell does not parse."""
    parsed = {text: parse(text) for text in set(texts)}
    if None in parsed.values():
        return None
    return [cast(T, parsed[text]) for text in texts]


def _price(text: str) -> Decimal | None:
    value = Decimal(text) if _PRICE.fullmatch(text) else None
    return value if value is not None and 0 < value < MAX_PRICE else None


def _vintage(text: str) -> int | None:
    value = int(text) if _DIGITS.fullmatch(text) else None
    return value if value is not None and MIN_VINTAGE <= value <= MAX_VINTAGE else None


def _time(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _plain_columns(table: Table) -> _Columns | None:
    """The file column by column, typed as ``_plain_row`` types a row, when every row is
    plainly well formed and every reference is new to the file; None otherwise (the row
    path then loads it, or words every problem). A 100,000-row file is read in a few
    passes at C speed over nine columns rather than in 100,000 calls of ``_plain_row``."""
    cells = table.cells
    refs = cells["external_ref"]
    if not refs or len(set(refs)) != len(refs) or min(map(len, refs)) == 0:
        return None
    if max(map(len, refs)) > 64 or any(
        "" in cells[c] for c in ("seller_account", "buyer_account", "unit_kind")
    ):
        return None
    kinds = list(map(_KINDS.get, cells["kind"]))
    quantities = _digits(cells["quantity"])
    if None in kinds or quantities is None or min(quantities) < 1:
        return None
    vintages = _distinct(cells["vintage"], _vintage)
    prices = _distinct(cells["price"], _price)
    times = _distinct(cells["traded_at"], _time)
    if vintages is None or prices is None or times is None:
        return None
    return _Columns(table.numbers, refs, cast(list[TradeKind], kinds), vintages, quantities,
                    prices, times)  # fmt: skip


@dataclass(frozen=True)
class _Columns:
    """A plainly well-formed file's typed columns (the account and unit-kind columns are
    read from the table's cells as they are)."""

    numbers: list[int]
    refs: list[str]
    kinds: list[TradeKind]
    vintages: list[int]
    quantities: list[int]
    prices: list[Decimal]
    times: list[datetime]


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


def _checked_rows(
    session: Session, rows: list[tuple[int, dict[str, Any]]]
) -> tuple[list[replay.Row], list[tuple[int, DomainError]]]:
    """The checks every row passes alone (shape, account numbers), in trade-time order."""
    tz = config_of(session).deadline_tz
    out: list[replay.Row] = []
    refused: list[tuple[int, DomainError]] = []
    for number, row in sorted(rows, key=lambda item: (item[1]["traded_at"], item[0])):
        try:
            seller, buyer = service.check_shape(
                row["quantity"],
                row["vintage"],
                row["price"],
                row["traded_at"],
                row["seller_account"],
                row["buyer_account"],
            )
        except DomainError as exc:
            refused.append((number, exc))
            continue
        out.append(
            replay.Row(
                number,
                row["external_ref"],
                row["kind"],
                seller,
                buyer,
                row["unit_kind"],
                row["vintage"],
                row["quantity"],
                row["price"],
                row["traded_at"],
                local_date(row["traded_at"], tz),
            )
        )
    return out, refused


def _checked_columns(
    session: Session, table: Table, columns: _Columns
) -> tuple[list[replay.Row], list[tuple[int, DomainError]]]:
    """:func:`_checked_rows` of a plainly well-formed file, read from its columns: its
    quantities, vintages, prices and times already pass ``check_shape``, so only the
    account numbers are checked, once per pair of accounts."""
    tz = config_of(session).deadline_tz
    sellers, buyers = table.cells["seller_account"], table.cells["buyer_account"]
    unit_kinds = table.cells["unit_kind"]
    c = columns
    days = {at: local_date(at, tz) for at in set(c.times)}
    pairs: dict[tuple[str, str], tuple[str, str] | None] = {}
    out: list[replay.Row] = []
    refused: list[tuple[int, DomainError]] = []
    for i in sorted(range(len(c.refs)), key=c.times.__getitem__):  # stable: file order
        pair = (sellers[i], buyers[i])
        if pair not in pairs:
            try:
                pairs[pair] = service.check_shape(c.quantities[i], c.vintages[i], c.prices[i],
                                                  c.times[i], *pair)  # fmt: skip
            except DomainError:
                pairs[pair] = None
        numbers = pairs[pair]
        if numbers is None:  # the refusal, worded for this row
            try:
                service.check_shape(c.quantities[i], c.vintages[i], c.prices[i], c.times[i],
                                    *pair)  # fmt: skip
            except DomainError as exc:
                refused.append((c.numbers[i], exc))
            continue
        at = c.times[i]
        out.append(
            replay.Row(c.numbers[i], c.refs[i], c.kinds[i], numbers[0], numbers[1],
                       unit_kinds[i], c.vintages[i], c.quantities[i], c.prices[i], at, days[at])
        )  # fmt: skip
    return out, refused


def _new_rows(
    session: Session, rows: list[replay.Row]
) -> tuple[list[replay.Row], list[tuple[int, DomainError]]]:
    """The rows whose reference is not recorded yet; a reference recorded with other
    content is refused (the same content is the trade already recorded)."""
    recorded = batch.recorded_content(session, [r.external_ref for r in rows])
    new: list[replay.Row] = []
    refused: list[tuple[int, DomainError]] = []
    for row in rows:
        found = recorded.get(row.external_ref)
        if found is None:
            new.append(row)
            continue
        values = (row.kind, row.seller, row.buyer, row.unit_kind, row.vintage, row.quantity,
                  row.price, row.traded_at)  # fmt: skip
        differing = [
            n for n, a, b in zip(service.TRADE_FIELDS, found, values, strict=True) if a != b
        ]
        if differing:
            refused.append((row.number, service.recorded_differently(row.external_ref, differing)))
    return new, refused


@transactional
def import_trades(
    session: Session, actor: Actor, table: Table, progress: Progress | None = None
) -> ImportResult:
    """Record (and under T+0 settle) every trade of ``table``, or none. The exchange and
    regulators. ValidationFailed lists every bad row as ``#/trades/rows/<row>/<column>``.

    The rows are checked in trade-time order (file order among equal times) over a book of
    the market loaded once (``replay``), then written in multi-row statements (``batch``):
    the same checks and the same rows as recording them one by one with
    ``service.record_trade`` in that order."""
    authorize(actor, "trading.record")
    with _without_cyclic_gc():
        return _import(session, actor, table, progress)


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is imported: the import makes
    millions of small acyclic objects (cells, rows, tuples), and the collector's repeated
    full passes over them cost a third of a 100,000-row import (``docs/performance.md``).
    Reference counting still frees everything; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    session: Session, actor: Actor, table: Table, progress: Progress | None
) -> ImportResult:
    header = column_errors(table, MarketTradeRowSchema())
    if header:  # row errors would only repeat the header's problem
        raise _refuse(header)
    columns = _plain_columns(table)
    if columns is not None:
        total = len(columns.refs)
        if progress:
            progress(0, total)
        checked, refused = _checked_columns(session, table, columns)
    else:
        rows = _rows(table)
        total = len(rows)
        if progress:
            progress(0, total)
        checked, refused = _checked_rows(session, rows)
    new, conflicts = _new_rows(session, checked)
    refused += conflicts
    accepted: list[replay.Accepted] = []
    if new:
        accepted, refusals = replay.replay(
            batch.load_book(session, new), checks.rulebook_of(session), new
        )
        refused += refusals
    if progress:
        progress(total // 2, total)
    if refused:
        raise _refuse([e for number, exc in refused for e in _row_errors(number, exc)])
    try:
        batch.write(session, actor, checks.rulebook_of(session), accepted)
    except Exception as exc:  # the DB-API driver's own exception classes
        if not any(cls.__name__ == "IntegrityError" for cls in type(exc).__mro__):
            raise
        # UNIQUE(external_ref) under a race with another recorder: nothing is kept.
        raise Conflict("a trade of the file was recorded concurrently; import again") from exc
    if progress:
        progress(total, total)
    return ImportResult(rows=total, recorded=len(accepted), unchanged=total - len(accepted))
