"""Surrenders under concurrency (PostgreSQL): eight pending surrenders of one enterprise,
each within what is due alone, never exceed the obligation together."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.compliance import service
from carbon_market.compliance.models import ComplianceSurrender
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger.verify import verify_ledger
from tests.compliance.conftest import World, build_world, open_beijing
from tests.postgres.test_concurrency import _race

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(session: Session, clock: FixedClock) -> World:
    return build_world(session, clock)


def test_racing_surrenders_never_exceed_what_is_due(app: Flask, world: World) -> None:
    # 1 000 t due, 5 000 allowances held: eight surrenders of 400 t race; two fit.
    open_beijing(world)
    alpha = world.enterprise("甲")
    world.give(alpha, 5_000, vintage=2025)
    world.approved_report(alpha, 2025, "1000")

    def surrender(s: Session) -> None:
        service.surrender(s, alpha.maker, 2025, unit_kind="allowance", vintage=2025,
                          quantity=400)  # fmt: skip

    outcomes = _race(app, surrender)

    assert outcomes == Counter({"ok": 2, "RuleViolation": 6})
    total = world.session.scalar(select(func.sum(ComplianceSurrender.quantity)))
    assert total == 800
    assert verify_ledger(world.session) == []
