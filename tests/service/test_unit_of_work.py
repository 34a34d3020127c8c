"""The ``transactional`` decorator: all of a unit of work commits, or none of it does."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select

from carbon_market.emitters import service as emitters
from carbon_market.emitters.models import Sector
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.db import transactional


class Boom(Exception):
    """A failure the tests provoke on purpose."""


def _sector_codes(session):
    return set(session.scalars(select(Sector.code)))


def _audit_count(session):
    return session.scalar(select(func.count()).select_from(AuditEvent))


@transactional
def add_two_sectors(session, actor, *, first, second):
    emitters.add_sector(session, actor, code=first, label_zh="一", label_en="One")
    emitters.add_sector(session, actor, code=second, label_zh="二", label_en="Two")


@transactional
def add_sector_then_fail(session, actor, *, code):
    emitters.add_sector(session, actor, code=code, label_zh="失败", label_en="Failed")
    session.flush()  # the row must reach the database for the rollback to have work to do
    raise Boom


@transactional
def add_sector_then_call_failing_inner(session, actor, *, outer_code, inner_code):
    emitters.add_sector(session, actor, code=outer_code, label_zh="外", label_en="Outer")
    session.flush()  # as above: the outer write is in the database before the inner fails
    add_sector_then_fail(session, actor, code=inner_code)


@transactional
def add_sector_then_swallow_inner_failure(session, actor, *, outer_code, inner_code):
    emitters.add_sector(session, actor, code=outer_code, label_zh="外", label_en="Outer")
    with contextlib.suppress(Boom):
        add_sector_then_fail(session, actor, code=inner_code)


def test_a_unit_of_work_commits_so_another_session_sees_its_writes(app, session, system):
    add_two_sectors(session, system, first="uow_a", second="uow_b")

    with app.extensions["carbon_market.session_factory"]() as other:
        assert {"uow_a", "uow_b"} <= _sector_codes(other)
        assert _audit_count(other) == 2


def test_an_exception_inside_a_unit_of_work_rolls_back_everything_it_wrote(
    session, system, row_counts
):
    before = row_counts()

    with pytest.raises(Boom):
        add_sector_then_fail(session, system, code="uow_fail")

    assert "uow_fail" not in _sector_codes(session)
    assert row_counts() == before


def test_an_inner_failure_after_an_outer_write_rolls_back_both(session, system, row_counts):
    before = row_counts()

    with pytest.raises(Boom):
        add_sector_then_call_failing_inner(
            session, system, outer_code="uow_outer", inner_code="uow_inner"
        )

    assert not {"uow_outer", "uow_inner"} & _sector_codes(session)
    assert row_counts() == before


def test_a_nested_unit_does_not_commit_on_its_own_when_the_outer_unit_fails(
    app, session, system, row_counts
):
    @transactional
    def outer(session, actor):
        emitters.add_sector(session, actor, code="uow_nested", label_zh="嵌", label_en="Nested")
        with app.extensions["carbon_market.session_factory"]() as other:
            # Had the inner call committed, another connection would already see its row.
            assert "uow_nested" not in _sector_codes(other)
        raise Boom

    before = row_counts()

    with pytest.raises(Boom):
        outer(session, system)

    assert row_counts() == before


def test_a_caught_inner_failure_leaves_both_writes_in_the_one_outer_unit(session, system):
    # Joining the outer unit means there is no savepoint: the inner write is not undone when
    # the outer function swallows the exception; the outer unit decides for both.
    add_sector_then_swallow_inner_failure(
        session, system, outer_code="uow_kept", inner_code="uow_inner_kept"
    )

    assert {"uow_kept", "uow_inner_kept"} <= _sector_codes(session)


def test_a_unit_of_work_started_with_unsaved_changes_raises_runtime_error(session, system):
    session.add(Sector(code="uow_stray", label_zh="游离", label_en="Stray", is_active=True))

    with pytest.raises(RuntimeError, match="unsaved changes"):
        emitters.add_sector(session, system, code="uow_after", label_zh="后", label_en="After")

    session.rollback()
    assert not {"uow_stray", "uow_after"} & _sector_codes(session)


def test_a_unit_of_work_after_a_read_starts_cleanly_and_commits(session, system):
    # A request authenticates (a read) before it writes: the read transaction is ended, not
    # mistaken for unsaved changes.
    assert "uow_read" not in _sector_codes(session)
    assert session.in_transaction()

    emitters.add_sector(session, system, code="uow_read", label_zh="读", label_en="Read")

    session.rollback()  # would discard the sector had the unit not committed it
    assert "uow_read" in _sector_codes(session)
