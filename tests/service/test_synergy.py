"""The synergy view's service: who may call it, what it refuses, and what it costs to load."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import PermissionDenied, ValidationFailed
from carbon_market.mrv.synergy.service import get_synergy_view
from tests.factories import make_enterprise, make_user


def test_the_role_is_checked_before_the_arguments(session: Session) -> None:
    # A refused role learns nothing about the arguments, so the answer leaks nothing.
    verifier = actor_for(make_user(session, role=Role.VERIFIER, name="verifier"))

    with pytest.raises(PermissionDenied, match=r"synergy\.read"):
        get_synergy_view(session, verifier, year=2025, group_by=["facility"])


def test_a_bad_grouping_is_a_validation_problem_for_every_caller(
    session: Session, regulator: Any
) -> None:
    with pytest.raises(ValidationFailed) as info:
        get_synergy_view(session, actor_for(regulator), year=2025, group_by=["facility"])

    assert [e.pointer for e in info.value.errors] == ["#/group_by"]


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_both_years_load_in_one_query(session: Session, statements: list[str]) -> None:
    make_enterprise(session)
    statements.clear()

    table = get_synergy_view(
        session, Actor.system(), year=2025, group_by=["sector", "district"], sector="power"
    )

    assert table.records == []
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements
