"""The injected clock: services ask it for ``now()`` so tests can set the time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (tests, replays)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def local_date(at: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    """The calendar date at ``at`` in the deadline time zone (Asia/Shanghai by default)."""
    if at.tzinfo is None:
        raise ValueError("local_date needs a timezone-aware datetime")
    return at.astimezone(tz).date()
