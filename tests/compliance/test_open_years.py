"""Which compliance years are open: one definition (``queries.open_years``) that the daily
sweep, the reminders, the overdue and shortfall flags and the forecast all use, tested on
the boundary days.

Beijing 2025: surrender deadline 2026-06-30. Open while 2025 has begun and the deadline is at
most 366 days behind: 2026-06-30 + 366 days = 2027-07-01 (2026-07-01..2027-06-30 is 365
days, one more reaches 2027-07-01), so 2027-07-01 is the last open day and 2027-07-02 the
first closed one. Beijing 2027 (deadline 2028-06-30) has not begun on 2026-12-31 and opens on
2027-01-01."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from carbon_market.compliance import notices, queries, sweep
from carbon_market.kernel.access.roles import Actor
from carbon_market.notifications.models import Notification
from tests.compliance.conftest import World, open_beijing

JOBS = Actor.system(name="scheduler")


def _open(world: World, today: date) -> list[int]:
    return [found.year for found in queries.open_years(world.session, today)]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 6, 1), [2025]),  # before the deadline; 2027 not begun
        (date(2026, 12, 31), [2025]),  # 2027 begins tomorrow
        (date(2027, 1, 1), [2025, 2027]),  # 2027 has begun
        (date(2027, 7, 1), [2025, 2027]),  # 2025's deadline exactly 366 days behind
        (date(2027, 7, 2), [2027]),  # 367 days behind: 2025 closed
    ],
)
def test_a_year_is_open_from_its_start_until_366_days_after_its_surrender_deadline(
    world: World, today: date, expected: list[int]
) -> None:
    open_beijing(world, 2025)
    open_beijing(world, 2027)

    assert _open(world, today) == expected


def test_the_sweep_and_the_flags_stop_on_the_same_day(world: World) -> None:
    # Gamma never files its 2025 report: overdue since the reporting deadline 2026-04-30.
    open_beijing(world, 2025)
    gamma = world.enterprise("丙数据中心")
    session = world.session

    # 2027-07-02: 2025 is closed for every job. (The flags used to keep a year open until
    # the 1 January after the year after its deadline, 2028-01-01, reading status rows the
    # sweep had stopped refreshing.)
    assert sweep.sweep_open_years(session, JOBS, date(2027, 7, 2)) == []
    assert notices.overdue_flags(session, JOBS, date(2027, 7, 2)) == {
        "overdue": 0,
        "shortfalls": 0,
    }
    assert session.scalars(select(Notification)).all() == []

    # 2027-07-01, the last open day: swept, and gamma flagged for both deadlines it missed.
    (swept,) = sweep.sweep_open_years(session, JOBS, date(2027, 7, 1))
    assert (swept["year"], swept["enterprises"]) == (2025, 1)
    assert notices.overdue_flags(session, JOBS, date(2027, 7, 1))["overdue"] == 2
    keys = set(session.scalars(select(Notification.dedupe_key)))
    assert f"overdue:2025:reporting:{gamma.enterprise.id}" in keys
    assert f"overdue:2025:verification:{gamma.enterprise.id}" in keys
