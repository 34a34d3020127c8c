"""Surrenders: the refusals (each changes nothing), the offset caps, pending surrenders
counted against what is due, extensions, and the national obligation caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select

from carbon_market.compliance import service, sweep
from carbon_market.compliance.models import ComplianceSurrender, ComplianceYear
from carbon_market.kernel.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.models import Holding, LedgerTransaction
from tests.compliance.conftest import Covered, World, open_beijing


def _counts(world: World) -> tuple[int, int, int]:
    s = world.session
    s.expire_all()
    return (
        s.scalar(select(func.count()).select_from(ComplianceSurrender)) or 0,
        s.scalar(select(func.count()).select_from(LedgerTransaction)) or 0,
        s.scalar(select(func.sum(Holding.reserved))) or 0,
    )


def _refused(world: World, error: type[DomainError], call: Callable[[], Any]) -> DomainError:
    before = _counts(world)
    with pytest.raises(error) as caught:
        call()
    assert _counts(world) == before
    return caught.value


@pytest.fixture
def alpha(world: World) -> Covered:
    """Beijing 2025; alpha got 80 001 allowances of 2025 and owes 80 000 t. Its offset
    caps: floor(5 % × 80 001) = 4 000 t, of which floor(2.5 % × 80 001) = 2 000 t from
    outside Beijing."""
    open_beijing(world)
    who = world.enterprise("甲")
    world.give(who, 80_001, vintage=2025)
    world.give(who, 5_000, vintage=2025, kind="ccer")
    world.give(who, 5_000, vintage=2025, kind="ccer_outside")
    world.give(who, 100, vintage=2024)
    world.give(who, 100, vintage=2026)
    world.approved_report(who, 2025, "80000")
    return who


def surrender(world: World, who: Covered, kind: str = "allowance", vintage: int = 2025,
              quantity: int = 10, **more: Any) -> ComplianceSurrender:  # fmt: skip
    return service.surrender(
        world.session, who.maker, 2025, unit_kind=kind, vintage=vintage, quantity=quantity,
        **more,
    )  # fmt: skip


def test_no_approved_report_is_refused(world: World) -> None:
    open_beijing(world)
    who = world.enterprise("乙")
    world.give(who, 100, vintage=2025)
    error = _refused(world, RuleViolation, lambda: surrender(world, who))
    assert "no approved emission report" in error.detail


def test_a_vintage_later_than_the_year_and_an_unknown_kind_are_refused(
    world: World, alpha: Covered
) -> None:
    error = _refused(world, RuleViolation, lambda: surrender(world, alpha, vintage=2026))
    assert [e.pointer for e in error.errors] == ["#/vintage"]
    error = _refused(world, RuleViolation, lambda: surrender(world, alpha, kind="green"))
    assert [e.pointer for e in error.errors] == ["#/unit_kind"]
    surrender(world, alpha, vintage=2024)  # banking: an earlier vintage counts


def test_offsets_over_the_share_cap_or_the_outside_cap_are_refused(
    world: World, alpha: Covered
) -> None:
    surrender(world, alpha, kind="ccer_outside", quantity=2_000)
    error = _refused(
        world, RuleViolation, lambda: surrender(world, alpha, kind="ccer_outside", quantity=1)
    )
    assert "outside offsets: 0 t left" in error.detail
    surrender(world, alpha, kind="ccer", quantity=2_000)  # 4 000 t of offsets in all
    error = _refused(world, RuleViolation, lambda: surrender(world, alpha, kind="ccer", quantity=1))
    assert "offset cap: 0 t of offsets left" in error.detail


def test_pending_surrenders_count_so_two_cannot_exceed_what_is_due(
    world: World, alpha: Covered
) -> None:
    surrender(world, alpha, quantity=79_990)  # pending: not approved
    error = _refused(world, RuleViolation, lambda: surrender(world, alpha, quantity=11))
    assert "more than the 10 t still due" in error.detail
    surrender(world, alpha, quantity=10)


def test_another_enterprises_account_is_not_found(world: World, alpha: Covered) -> None:
    other = world.enterprise("丙")
    _refused(world, NotFound, lambda: surrender(world, alpha, account=other.account))


def test_a_regulator_cannot_surrender_for_an_enterprise(world: World, alpha: Covered) -> None:
    call = lambda: service.surrender(  # noqa: E731
        world.session, world.regulator, 2025, unit_kind="allowance", vintage=2025, quantity=1
    )
    _refused(world, PermissionDenied, call)


def test_after_the_deadline_only_an_extension_lets_a_surrender_through(
    world: World, alpha: Covered
) -> None:
    world.clock.advance(timedelta(days=30))  # 2026-07-01, the deadline was 2026-06-30
    error = _refused(world, RuleViolation, lambda: surrender(world, alpha))
    assert "2026-06-30" in error.detail
    with pytest.raises(ValidationFailed):
        service.grant_extension(world.session, world.regulator, 2025,
                                enterprise=alpha.enterprise.credit_code,
                                until=date(2026, 6, 30), reason="x")  # fmt: skip
    service.grant_extension(world.session, world.regulator, 2025,
                            enterprise=alpha.enterprise.credit_code,
                            until=date(2026, 7, 15), reason="系统故障")  # fmt: skip
    done = surrender(world, alpha, quantity=80_000)
    ledger.approve(world.session, alpha.checker, done.transaction_id)
    # Completed on 2026-07-01, within the extension: compliant, not late.
    sweep.sweep(world.session, world.regulator, 2025, date(2026, 7, 1))
    (row,) = sweep.list_status(world.session, world.regulator, 2025)
    assert (row["status"].value, row["shortfall_t"]) == ("compliant", 0)


def test_a_surrender_completed_after_the_deadline_is_late(world: World, alpha: Covered) -> None:
    # Requested on the deadline, 2026-06-30, and approved the next day, after it (within
    # the 72 h a pending transaction stays open).
    world.clock.advance(timedelta(days=29))
    done = surrender(world, alpha, quantity=80_000)
    world.clock.advance(timedelta(days=1))
    ledger.approve(world.session, alpha.checker, done.transaction_id)
    sweep.sweep(world.session, world.regulator, 2025, date(2026, 7, 1))
    (row,) = sweep.list_status(world.session, world.regulator, 2025)
    assert row["status"].value == "late"


def test_national_2022_obligation_is_capped_at_allocation_plus_ten_percent(world: World) -> None:
    # 1 000 000 t verified, 850 000 t allocated: cap 850 000 + 10 % × 1 000 000 = 950 000 t.
    service.open_year(world.session, world.regulator, year=2022, rulebook="national",
                      surrender_deadline=date(2026, 12, 31),
                      reporting_deadline=date(2026, 6, 30),
                      verification_deadline=date(2026, 6, 30))  # fmt: skip
    who = world.enterprise("戊电厂")
    world.give(who, 850_000, vintage=2022)
    world.approved_report(who, 2022, "1000000")
    sweep.sweep(world.session, world.regulator, 2022, date(2026, 6, 1))
    (row,) = sweep.list_status(world.session, world.regulator, 2022)
    assert row["obligation_t"] == 950_000
    error = _refused(
        world, RuleViolation,
        lambda: service.surrender(world.session, who.maker, 2022, unit_kind="allowance",
                                  vintage=2022, quantity=950_001),
    )  # fmt: skip
    assert "more than the 950000 t still due" in error.detail


def test_a_year_opens_once_and_is_editable_until_its_first_deadline(world: World) -> None:
    open_beijing(world, 2026)  # deadlines 2027-04-30, 05-31, 06-30
    with pytest.raises(Conflict):
        open_beijing(world, 2026)
    edited = service.update_year(world.session, world.regulator, 2026,
                                 surrender_deadline=date(2027, 7, 15),
                                 offsets={"share_cap": D("0.08")})  # fmt: skip
    assert edited.surrender_deadline == date(2027, 7, 15)
    assert edited.document["offsets"]["share_cap"] == "0.08"
    assert edited.document["deadlines"]["surrender"] == "07-15"
    with pytest.raises(ValidationFailed):
        service.update_year(world.session, world.regulator, 2026,
                            penalty={"multiple_min": D("6")})  # min > max  # fmt: skip
    with pytest.raises(ValidationFailed):
        service.set_penalty_multiple(world.session, world.regulator, 2026, multiple=D("5.5"))
    service.set_penalty_multiple(world.session, world.regulator, 2026, multiple=D("4.5"))
    world.clock.advance(timedelta(days=365))  # 2027-06-01: the reporting deadline passed
    with pytest.raises(Conflict):
        service.update_year(world.session, world.regulator, 2026, banking=False)
    world.session.expire_all()
    stored = world.session.scalar(select(ComplianceYear).where(ComplianceYear.year == 2026))
    assert stored is not None
    assert stored.document["banking"] is True
    assert stored.penalty_multiple == D("4.5")
