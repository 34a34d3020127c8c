"""Deadlines at their edges: a surrender completed at 23:59 Shanghai time on the deadline
day is on time, at 00:01 the next day late; and deadlines or extensions so far ahead that
the sweep's date arithmetic overflowed (9999-12-31 failed every status of the year) are
refused, changing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from carbon_market.compliance import service, sweep
from carbon_market.compliance.models import ComplianceExtension, ComplianceYear
from carbon_market.kernel.errors import ValidationFailed
from carbon_market.ledger import transactions as ledger
from tests.compliance.conftest import Covered, World, open_beijing


def _owing(world: World) -> Covered:
    """Beijing 2025 (deadline 2026-06-30), 1 000 t due, 1 000 allowances held."""
    open_beijing(world)
    who = world.enterprise("甲")
    world.give(who, 1_000, vintage=2025)
    world.approved_report(who, 2025, "1000")
    return who


@pytest.mark.parametrize(
    ("completed_utc", "expected"),
    [
        (datetime(2026, 6, 30, 15, 59, tzinfo=UTC), "compliant"),  # 23:59 in Shanghai
        (datetime(2026, 6, 30, 16, 1, tzinfo=UTC), "late"),  # 00:01 on 2026-07-01
    ],
)
def test_the_deadline_ends_at_midnight_in_shanghai(
    world: World, completed_utc: datetime, expected: str
) -> None:
    who = _owing(world)
    world.clock.advance(datetime(2026, 6, 30, 15, 0, tzinfo=UTC) - world.clock.now())
    done = service.surrender(
        world.session, who.maker, 2025, unit_kind="allowance", vintage=2025, quantity=1_000
    )
    world.clock.advance(completed_utc - world.clock.now())
    ledger.approve(world.session, who.checker, done.transaction_id)
    sweep.sweep(world.session, world.regulator, 2025, date(2026, 7, 2))
    (row,) = sweep.list_status(world.session, world.regulator, 2025)
    assert row["status"].value == expected


def test_a_deadline_beyond_the_horizon_is_refused_when_opening_and_editing(
    world: World,
) -> None:
    with pytest.raises(ValidationFailed) as opened:
        open_beijing(world, surrender_deadline=date(9999, 12, 31))
    assert [e.pointer for e in opened.value.errors] == ["#/surrender_deadline"]
    assert world.session.scalar(select(func.count()).select_from(ComplianceYear)) == 0
    # 2026 (still editable on 2026-06-01): 2031-12-31 is the last day allowed.
    open_beijing(world, year=2026, surrender_deadline=date(2031, 12, 31))
    with pytest.raises(ValidationFailed):
        service.update_year(
            world.session, world.regulator, 2026, surrender_deadline=date(2032, 1, 1)
        )
    world.session.expire_all()
    found = world.session.scalar(select(ComplianceYear))
    assert found is not None
    assert found.surrender_deadline == date(2031, 12, 31)


def test_an_extension_beyond_the_horizon_is_refused_and_the_sweep_still_runs(
    world: World,
) -> None:
    who = _owing(world)
    code = who.enterprise.credit_code
    with pytest.raises(ValidationFailed) as refused:
        service.grant_extension(
            world.session, world.regulator, 2025, enterprise=code,
            until=date(9999, 12, 31), reason="x",
        )  # fmt: skip
    assert [e.pointer for e in refused.value.errors] == ["#/until"]
    assert world.session.scalar(select(func.count()).select_from(ComplianceExtension)) == 0
    service.grant_extension(
        world.session, world.regulator, 2025, enterprise=code, until=date(2030, 12, 31),
        reason="系统故障",
    )  # fmt: skip
    done = service.surrender(
        world.session, who.maker, 2025, unit_kind="allowance", vintage=2025, quantity=1_000
    )
    ledger.approve(world.session, who.checker, done.transaction_id)
    sweep.sweep(world.session, world.regulator, 2025, date(2026, 8, 1))
    (row,) = sweep.list_status(world.session, world.regulator, 2025)
    assert row["status"].value == "compliant"
