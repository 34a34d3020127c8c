"""Column types for time, money and exact decimals.

SQLite has no timezone-aware timestamps and no exact decimal type; sums over REAL lose
precision. So times are stored as naive UTC (and refused when naive on the way in), money as
integer fen and emissions as scaled integers: exact on both databases, and SQL ``SUM`` stays
exact too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

#: The database id type: 64-bit on PostgreSQL, SQLite's rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")
#: The largest id a row can have (both databases: signed 64-bit). Every channel bounds an
#: id with it (URL converter, API schemas, CLI arguments) so that a larger one is refused,
#: never an overflow in the database driver.
MAX_ID = 2**63 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as naive UTC.

    Raises on naive input: a naive time is ambiguous between UTC and Asia/Shanghai, and
    guessing would misplace a deadline by eight hours.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact ``Decimal`` stored as an integer count of ``10**-scale``.

    Values with more places than ``scale`` are refused, not rounded: rounding belongs at a
    named rule in the domain code, never silently in the storage layer.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"{value!r} is not a Decimal: never store floats as quantities")
        scaled = Decimal(value).scaleb(self.scale)
        if not scaled.is_finite():
            raise ValueError(f"{value} is not a finite quantity")
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-self.scale).quantize(self._quantum)

    def __repr__(self) -> str:  # how Alembic autogenerate renders the type
        return f"{type(self).__name__}({self.scale})"


class Money(ScaledDecimal):
    """CNY with two places, stored as integer fen."""

    cache_ok = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(2, *args, **kwargs)

    def __repr__(self) -> str:
        return "Money()"


def round_half_up(value: Decimal, places: int = 0) -> Decimal:
    """四舍五入 at ``places`` decimal places: the rounding rule of Chinese accounting."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
