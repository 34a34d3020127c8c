"""The database layer: engine, sessions, the unit-of-work decorator and the declarative base.

Rules this module enforces for everyone else:

* one ``Session`` per request, CLI command or job (``expire_on_commit=False``, as SQLAlchemy's
  session FAQ recommends for web apps);
* public write services are decorated with :func:`transactional` and are the only place that
  commits; nested calls join the outer unit of work;
* on SQLite a write unit starts with ``BEGIN IMMEDIATE`` so two writers queue on the lock
  instead of one failing at commit time; foreign keys are on and the journal is WAL;
* on PostgreSQL the outermost unit retries serialization failures and deadlocks.
"""

from __future__ import annotations

import enum
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from sqlalchemy import JSON, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from carbon_market.kernel.clock import Clock, SystemClock
from carbon_market.kernel.config import Config
from carbon_market.kernel.types import UTCDateTime

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: PostgreSQL SQLSTATEs after which the whole unit of work may simply be run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
MAX_ATTEMPTS = 5


class Base(DeclarativeBase):
    """Declarative base: named constraints (SQLite batch migrations need names) and types."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def enum_column_type(enum_cls: type[enum.StrEnum], name: str | None = None) -> Any:
    """Store a ``StrEnum`` by value as a VARCHAR with a CHECK, not a native enum type.

    ``name`` names the CHECK; two columns of one table with the same enum need two names.
    """
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own transaction handling would BEGIN lazily and never IMMEDIATE; we emit
    # BEGIN ourselves in the "begin" event instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    # Straight to the driver: exec_driver_sql's statement machinery cost more than the
    # BEGIN itself, once for every unit of work.
    conn.connection.driver_connection.execute(f"BEGIN {mode}")


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine with the platform's per-dialect settings."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(database_url, pool_pre_ping=True, **kwargs)


def make_session_factory(
    engine: Engine, clock: Clock | None = None, config: Config | None = None
) -> sessionmaker[Session]:
    """Sessions carry the clock and the configuration in ``session.info`` so services need
    no extra arguments for them."""
    return sessionmaker(
        bind=engine,
        expire_on_commit=False,
        autoflush=True,
        info={"clock": clock or SystemClock(), "config": config},
    )


def config_of(session: Session) -> Config:
    """The configuration the session's factory was made with (defaults when none)."""
    config: Config | None = session.info.get("config")
    return config or Config(database_url="", secret_key="")


def clock_of(session: Session) -> Clock:
    """The clock injected into this session's factory (the system clock by default)."""
    clock: Clock = session.info.get("clock") or SystemClock()
    return clock


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Rows per executemany statement and per IN list of the bulk paths.
CHUNK = 1000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: bounded statements for bulk reads and writes."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def each_in_own_unit(session: Session, items: Sequence[T], unit: Callable[[T], R]) -> list[R]:
    """``unit(item)`` for every item, each in a unit of work of its own, in order.

    The caller has just read ``items`` (ids, years) in the session's read transaction; that
    read ends here, so that each ``unit`` (a :func:`transactional` service) begins and
    commits its own unit of work: a day's sweep of ten years is ten commits, and a unit that
    fails leaves the ones before it done (the error propagates; the jobs record it).
    """
    session.rollback()
    return [unit(item) for item in items]


_DEPTH = "carbon_market.uow_depth"


def _is_retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _start_unit(session: Session) -> None:
    """End any read-only transaction left open and begin the write unit.

    A request authenticates (a read) before it calls a write service; on SQLite that read
    holds a deferred transaction which cannot be upgraded to ``BEGIN IMMEDIATE``.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a unit of work started with unsaved changes outside it")
        session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def transactional(
    fn: Callable[Concatenate[Session, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """Make a service function one unit of work: all of it commits, or none of it.

    The outermost call commits or rolls back; nested calls join it. On PostgreSQL the
    outermost call retries serialization failures and deadlocks a bounded number of times.
    """

    @functools.wraps(fn)
    def wrapper(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if session.info.get(_DEPTH, 0):
            session.info[_DEPTH] += 1
            try:
                return fn(session, *args, **kwargs)
            finally:
                session.info[_DEPTH] -= 1
        for attempt in range(1, MAX_ATTEMPTS + 1):
            _start_unit(session)
            session.info[_DEPTH] = 1
            try:
                result = fn(session, *args, **kwargs)
                session.commit()
                return result
            except DBAPIError as exc:
                session.rollback()
                if not _is_retryable(exc) or attempt == MAX_ATTEMPTS:
                    raise
                log.info("retrying %s after %s (attempt %d)", fn.__name__, exc.orig, attempt)
                time.sleep(0.01 * 2**attempt)
            except BaseException:
                session.rollback()
                raise
            finally:
                session.info[_DEPTH] = 0
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
