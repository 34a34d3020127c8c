"""The injected clock and the Beijing calendar date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carbon_market.kernel.clock import SHANGHAI, FixedClock, SystemClock, local_date

START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def test_fixed_clock_refuses_a_naive_datetime_when_created():
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 6, 1, 2, 0))  # noqa: DTZ001


def test_fixed_clock_stands_still_when_asked_twice():
    clock = FixedClock(START)
    assert clock.now() == START
    assert clock.now() == START


def test_fixed_clock_moves_by_the_delta_when_advanced():
    clock = FixedClock(START)
    clock.advance(timedelta(hours=15))
    assert clock.now() == datetime(2026, 6, 1, 17, 0, tzinfo=UTC)


def test_fixed_clock_accumulates_when_advanced_repeatedly():
    clock = FixedClock(START)
    clock.advance(timedelta(days=1))
    clock.advance(timedelta(minutes=-30))
    assert clock.now() == START + timedelta(days=1, minutes=-30)


def test_system_clock_returns_aware_utc_now_when_asked():
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after


def test_local_date_is_the_next_day_in_beijing_when_utc_is_17_00():
    # 2026-06-01T17:00Z = 2026-06-02T01:00+08:00.
    assert local_date(datetime(2026, 6, 1, 17, 0, tzinfo=UTC)) == date(2026, 6, 2)


@pytest.mark.parametrize(
    ("utc", "beijing_date"),
    [
        (datetime(2026, 6, 1, 15, 59, 59, tzinfo=UTC), date(2026, 6, 1)),
        (datetime(2026, 6, 1, 16, 0, 0, tzinfo=UTC), date(2026, 6, 2)),
        (datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_local_date_rolls_over_at_16_00_utc_when_beijing_reaches_midnight(
    utc: datetime, beijing_date: date
):
    assert local_date(utc) == beijing_date


def test_local_date_uses_the_given_zone_when_one_is_passed():
    at = datetime(2026, 6, 1, 17, 0, tzinfo=UTC)
    assert local_date(at, ZoneInfo("UTC")) == date(2026, 6, 1)


def test_local_date_converts_other_offsets_when_datetime_is_not_utc():
    tokyo_midnight = datetime(2026, 6, 2, 0, 30, tzinfo=timezone(timedelta(hours=9)))
    assert local_date(tokyo_midnight) == date(2026, 6, 1)  # 23:30 in Beijing


def test_default_zone_is_asia_shanghai_when_none_is_passed():
    at = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    assert SHANGHAI.key == "Asia/Shanghai"
    assert local_date(at) == local_date(at, ZoneInfo("Asia/Shanghai")) != at.date()


def test_local_date_refuses_a_naive_datetime_rather_than_guess_its_zone():
    from datetime import datetime

    from carbon_market.kernel.clock import local_date

    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 6, 1, 12, 0))  # noqa: DTZ001  (the naive input under test)
