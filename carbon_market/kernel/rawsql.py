"""Writing many rows fast: the DB-API cursor of the session's own connection.

The ledger's posting engine and the trade file's intake write tens of thousands of rows in
one unit of work. Through the ORM, or even Core, SQLAlchemy's per-statement Python (cache
keys, result wrapping, bookkeeping) costs ten to thirty times what the database spends
(``bench/ledger.py``, ``docs/performance.md``), so these paths send their SQL straight to
the driver, on the same connection and transaction as the session's ORM work. The values
they write must be what the ORM's column types would write: :meth:`Cursor.time` for times,
:func:`carbon_market.kernel.text.json_text` for JSON columns.

Only the bulk and hot paths use this; everything else stays with the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, overload

from sqlalchemy.orm import Session


class Cursor:
    """The session connection's DB-API cursor, with the dialect's time format."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect.name
        self._cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    @property
    def placeholder(self) -> str:
        """The driver's bound-parameter marker."""
        return "%s" if self.dialect == "postgresql" else "?"

    def time(self, at: datetime) -> Any:
        """A time as the ORM's UTCDateTime column stores it (naive UTC; text on SQLite)."""
        naive = at.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else naive

    def execute(self, statement: str, params: tuple[Any, ...]) -> int:
        self._cursor.execute(statement, params)
        return int(self._cursor.rowcount)

    def fetch_one(self, statement: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        self._cursor.execute(statement, params)
        row: tuple[Any, ...] = self._cursor.fetchone()
        return row

    def fetch_all(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        self._cursor.execute(statement, params)
        return list(self._cursor.fetchall())

    def execute_many(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        self._cursor.executemany(statement, rows)


C = TypeVar("C", bound=Cursor)


@overload
def cursor_for(session: Session) -> Cursor: ...


@overload
def cursor_for(session: Session, kind: type[C]) -> C: ...


def cursor_for(session: Session, kind: type[Cursor] = Cursor) -> Cursor:
    """The ``kind`` of cursor of the session's current transaction, made once per
    transaction: asking the session for its connection costs more than most of the
    statements sent on it."""
    transaction = session.get_transaction()
    key = f"rawsql.cursor.{kind.__module__}.{kind.__qualname__}"
    cached = session.info.get(key)
    if transaction is not None and cached is not None and cached[0] is transaction:
        cursor: Cursor = cached[1]
        return cursor
    cursor = kind(session)
    session.info[key] = (session.get_transaction(), cursor)
    return cursor


def appended_ids(cursor: Cursor, table: str, n: int) -> Callable[[], list[int] | None]:
    """Call before inserting ``n`` rows into ``table`` (an INTEGER PRIMARY KEY ``id``) with
    one executemany; the returned function, called after, gives their ids in insertion
    order without reading the rows back, or None where that cannot be known (PostgreSQL:
    a sequence is shared with concurrent inserts). On SQLite the write unit holds the
    database's write lock (BEGIN IMMEDIATE) and a new row's id is one more than the
    largest, so the rows are ``max + 1 … max + n``; a count over the range confirms it."""
    if cursor.dialect != "sqlite":
        return lambda: None
    (before,) = cursor.fetch_one(f"SELECT COALESCE(MAX(id), 0) FROM {table}", ())

    def ids() -> list[int] | None:
        found = cursor.fetch_one(
            f"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM {table} WHERE id > ?",
            (before,),
        )
        return list(range(before + 1, before + n + 1)) if found == (n, before + n) else None

    return ids
