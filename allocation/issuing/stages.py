"""Pre-allocation and true-up: issuing a plan in two steps instead of all at once.

Early in the year the verified activity of the year does not exist yet. The pre-allocation
computes the approved plan on the registry with **last year's** activity standing in for
this year's (``output_<year-1>`` as ``output_<year>``; the historical-emissions method does
not depend on it) and issues floor(``pre_allocation_share`` × that allocation) to each
facility — rounded down so that the pre-allocation never gives more than its share. Once the
year's data is verified, the true-up computes the plan again on the registry as it then is
(the final allocation, scaled and rounded by the usual rules) and moves the difference: the
final allocation less what the pre-allocation and the reserve (new entrants, capacity
changes) issued, plus what approved capacity reductions returned (so no tonne is clawed
back twice): positive (issued from the reserve) or negative (clawed back into it,
:mod:`allocation.issuing.adjustments`). A facility the true-up cannot allocate (no verified data
yet)
keeps what it was issued and gets a note: missing data is not a reason to take units
back. When the true-up has moved everything, the plan is ``issued``.

Each stage freezes its per-facility figures (``allocation_adjustment``) in its first unit of
work, then moves them in batches like :mod:`allocation.issuing.whole`: a repeat moves nothing, a
crash half-way resumes with the same figures. A plan is issued either all at once
(``issue``) or in these two steps, never both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from allocation.issuing.adjustments import check_reserve_covers, move_batch, pending
from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    PlanStatus,
    RecordStatus,
    Stage,
)
from allocation.registry import registry_facilities
from allocation.rules.engine import compute
from allocation.service import plan_of, with_deductions
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, NotFound
from carbon_market.kernel.text import clip

BATCH_SIZE = 1000


@dataclass(frozen=True)
class StageSummary:
    plan_id: int
    stage: str
    #: Facilities whose movement this call posted, and the units issued and clawed back.
    moved: int
    issued: int
    clawed_back: int
    #: Claw-backs still pending because the account does not hold the units.
    short: int
    #: Movements posted by earlier calls.
    already_moved: int


def _locked_plan(session: Session, plan_id: int) -> AllocationPlan:
    plan = session.scalar(
        select(AllocationPlan).where(AllocationPlan.id == plan_id).with_for_update()
    )
    if plan is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    return plan


def _count(session: Session, plan_id: int, stage: Stage, *, moved: bool) -> int:
    query = select(func.count()).where(
        AllocationAdjustment.plan_id == plan_id, AllocationAdjustment.stage == stage
    )
    tx = AllocationAdjustment.tx_id
    query = query.where(tx.is_not(None) if moved else tx.is_(None))
    if not moved:
        query = query.where(AllocationAdjustment.quantity != 0)
    return int(session.scalar(query) or 0)


def _results(session: Session, plan: AllocationPlan, *, activity_year: int) -> pd.DataFrame:
    """The plan computed on the registry, ``activity_year``'s output standing in for the
    plan year's; with ``enterprise_id``."""
    rules = plan_of(plan)
    years = sorted({*rules.base_years, activity_year, plan.year})
    frame = registry_facilities(session, years=years)
    if activity_year != plan.year:
        frame[f"output_{plan.year}"] = frame[f"output_{activity_year}"]
    ids = frame["enterprise_id"].to_numpy(dtype=np.int64)
    outcome = with_deductions(session, plan.year, compute(rules, frame), ids)
    return outcome.results.assign(enterprise_id=ids)


def _rows(
    results: pd.DataFrame, plan: AllocationPlan, stage: Stage, actor: Actor,
    quantity: Callable[[int, int | None], int], note: Callable[[int, int | None, str], str],
) -> list[dict[str, Any]]:  # fmt: skip
    allocation = results["allocation"].astype(object).where(results["allocation"].notna(), None)
    return [
        {
            "plan_id": plan.id,
            "stage": stage,
            "facility_id": int(facility),
            "enterprise_id": int(enterprise),
            "basis": None if basis is None else int(basis),
            "quantity": quantity(int(facility), None if basis is None else int(basis)),
            "note": clip(note(int(facility), None if basis is None else int(basis), str(why))),
            "breakdown": {"method": method if isinstance(method, str) else None},
            "created_by": actor.name,
        }
        for facility, enterprise, basis, why, method in zip(
            results["facility_id"], results["enterprise_id"], allocation, results["note"],
            results["method"], strict=True,
        )
    ]  # fmt: skip


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    at = clock_of(session).now()
    for start in range(0, len(rows), 1000):
        chunk = [{**row, "created_at": at} for row in rows[start : start + 1000]]
        session.execute(insert(AllocationAdjustment), chunk)


def _check_adopted(plan: AllocationPlan, session: Session) -> None:
    if plan.status is PlanStatus.DRAFT:
        raise Conflict(f"plan {plan.id} is a draft: approve it first")
    issued_whole = session.scalar(
        select(AllocationResult.id)
        .where(AllocationResult.plan_id == plan.id, AllocationResult.issued_tx_id.is_not(None))
        .limit(1)
    )
    if issued_whole is not None:
        raise Conflict(f"plan {plan.id} is being issued all at once: no pre-allocation for it")


@transactional
def _start_pre(session: Session, actor: Actor, plan_id: int) -> AllocationPlan:
    authorize(actor, "allocation.issue")
    plan = _locked_plan(session, plan_id)
    _check_adopted(plan, session)
    share = plan_of(plan).pre_allocation_share
    if not share:
        raise Conflict(f"plan {plan_id} has no pre_allocation_share")
    if plan.pre_allocated_at is None:
        plan.pre_allocated_at = clock_of(session).now()
        results = _results(session, plan, activity_year=plan.year - 1)

        def quantity(_facility: int, basis: int | None) -> int:
            if basis is None:
                return 0
            return int((share * basis).to_integral_value(rounding=ROUND_FLOOR))

        def note(_facility: int, basis: int | None, why: str) -> str:
            return why if basis is None else ""

        _insert(session, _rows(results, plan, Stage.PRE_ALLOCATION, actor, quantity, note))
        record(
            session,
            actor,
            action="allocation_plan:pre_allocation",
            entity_type="allocation_plan",
            entity_id=plan.id,
            after={"share": str(share), "activity_year": plan.year - 1},
        )
    check_reserve_covers(session, plan, Stage.PRE_ALLOCATION)
    return plan


def _reserve_records(session: Session, plan_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Per facility: the units approved reserve records added, and those approved
    reductions returned (positive)."""
    rows = session.execute(
        select(
            AllocationAdjustment.facility_id,
            AllocationAdjustment.stage,
            func.sum(AllocationAdjustment.quantity),
        )
        .where(
            AllocationAdjustment.plan_id == plan_id,
            AllocationAdjustment.stage.in_([Stage.NEW_ENTRANT, Stage.CAPACITY_REDUCTION]),
            AllocationAdjustment.status == RecordStatus.APPROVED,
        )
        .group_by(AllocationAdjustment.facility_id, AllocationAdjustment.stage)
    ).all()
    added = {int(f): int(q) for f, stage, q in rows if stage == Stage.NEW_ENTRANT}
    returned = {int(f): -int(q) for f, stage, q in rows if stage == Stage.CAPACITY_REDUCTION}
    return added, returned


@transactional
def _start_true_up(session: Session, actor: Actor, plan_id: int) -> AllocationPlan:
    authorize(actor, "allocation.issue")
    plan = _locked_plan(session, plan_id)
    if plan.pre_allocated_at is None:
        raise Conflict(f"plan {plan_id} has no pre-allocation to true up")
    if _count(session, plan.id, Stage.PRE_ALLOCATION, moved=False):
        raise Conflict(f"plan {plan_id}'s pre-allocation is not finished: run it again first")
    undecided = session.scalar(
        select(func.count()).where(
            AllocationAdjustment.plan_id == plan.id,
            AllocationAdjustment.status == RecordStatus.PENDING,
        )
    )
    if plan.trued_up_at is None and undecided:
        raise Conflict(
            f"plan {plan_id} has {undecided} reserve record(s) pending: approve or reject "
            "them before the true-up"
        )
    if plan.trued_up_at is None:
        plan.trued_up_at = clock_of(session).now()
        pre = dict(
            session.execute(
                select(AllocationAdjustment.facility_id, AllocationAdjustment.quantity).where(
                    AllocationAdjustment.plan_id == plan.id,
                    AllocationAdjustment.stage == Stage.PRE_ALLOCATION,
                )
            ).all()
        )
        results = _results(session, plan, activity_year=plan.year)
        # What the reserve gave a facility (new entrant, capacity change) is already issued,
        # and what an approved capacity reduction took back (or is owed) already returned:
        # the final allocation on verified output counts both, so neither counts twice.
        added, returned = _reserve_records(session, plan.id)

        def issued(facility: int) -> int:
            return int(pre.get(facility, 0)) + added.get(facility, 0) - returned.get(facility, 0)

        def quantity(facility: int, final: int | None) -> int:
            return 0 if final is None else final - issued(facility)

        def note(facility: int, final: int | None, why: str) -> str:
            if final is None:
                return f"{why}; the {issued(facility)} issued so far stand"
            parts = []
            if facility in added:
                parts.append(f"less {added[facility]} from the reserve")
            if facility in returned:
                parts.append(f"plus {returned[facility]} returned by capacity reductions")
            return "; ".join(parts)

        _insert(session, _rows(results, plan, Stage.TRUE_UP, actor, quantity, note))
        record(
            session,
            actor,
            action="allocation_plan:true_up",
            entity_type="allocation_plan",
            entity_id=plan.id,
            after={"facilities": len(results)},
        )
    check_reserve_covers(session, plan, Stage.TRUE_UP)
    return plan


@transactional
def _finish(session: Session, actor: Actor, plan_id: int) -> None:
    plan = session.get_one(AllocationPlan, plan_id)
    left = sum(
        int(session.scalar(select(func.count()).where(*pending(stage, plan_id))) or 0)
        for stage in (Stage.TRUE_UP, Stage.CAPACITY_REDUCTION)
    )
    if left or plan.status is PlanStatus.ISSUED:
        return
    plan.status, plan.issued_at = PlanStatus.ISSUED, clock_of(session).now()
    record(
        session,
        actor,
        action="allocation_plan:issued",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={"status": plan.status, "by": "true_up"},
    )


def _run(
    session: Session, actor: Actor, plan: AllocationPlan, stage: Stage, batch_size: int
) -> StageSummary:
    already = _count(session, plan.id, stage, moved=True)
    moved = issued = clawed = short = 0
    after = 0
    while True:
        batch = move_batch(session, actor, plan, stage, after_id=after, batch_size=batch_size)
        if batch.rows == 0:
            break
        after = batch.last_id
        moved += batch.rows - batch.short
        issued, clawed, short = (
            issued + batch.issued,
            clawed + batch.clawed_back,
            short + batch.short,
        )
    return StageSummary(plan.id, stage.value, moved, issued, clawed, short, already)


def pre_allocate(
    session: Session, actor: Actor, plan_id: int, *, batch_size: int = BATCH_SIZE
) -> StageSummary:
    """Issue the pre-allocation of an approved plan (regulators); idempotent and resumable.
    Raises NotFound, Conflict (a draft; no share; issued all at once) and
    InsufficientHolding (the reserve does not cover it; nothing moves)."""
    plan = _start_pre(session, actor, plan_id)
    return _run(session, actor, plan, Stage.PRE_ALLOCATION, batch_size)


def true_up(
    session: Session, actor: Actor, plan_id: int, *, batch_size: int = BATCH_SIZE
) -> StageSummary:
    """Move the difference between the final allocation and the pre-allocation (regulators);
    idempotent and resumable; the plan is ``issued`` once nothing is pending (owed capacity
    reductions included: each run tries to collect them). Raises NotFound, Conflict (no
    finished pre-allocation; reserve records still pending) and InsufficientHolding."""
    plan = _start_true_up(session, actor, plan_id)
    summary = _run(session, actor, plan, Stage.TRUE_UP, batch_size)
    owed = _run(session, actor, plan, Stage.CAPACITY_REDUCTION, batch_size)
    _finish(session, actor, plan_id)
    # Owed reductions collected by this run count as claw-backs; the reductions approved
    # and moved at once are not the true-up's doing, so already_moved leaves them out.
    return replace(
        summary,
        moved=summary.moved + owed.moved,
        clawed_back=summary.clawed_back + owed.clawed_back,
        short=summary.short + owed.short,
    )
