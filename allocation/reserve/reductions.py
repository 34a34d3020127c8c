"""Capacity reductions and closures between true-ups: allowances back to the reserve.

A facility that closes, or loses part of its capacity, during the plan year must not keep
the allowances for the months it no longer operates. A regulator records the reduction: the
annual output removed (a closure: the facility's whole annual output), the **effective
date** (the first day without that capacity) and, for power units, the correction inputs.
The allowances to return are computed by the very rule that gives additions their units
(:func:`allocation.reserve.entrants.allocate`: the sector's benchmark, pro rata by months):
the months from the effective date's month to December, that month included, so that a unit
closing on 15 September and its replacement starting that day count September once between
them; free × months ÷ 12, 6 places half up, floored. The same function and the same
rounding mean that adding a capacity and removing it again from the same month cancel
exactly. The return is capped at what the plan gave the facility so far (its frozen result,
or its pre-allocation, plus its approved reserve records, less the reductions already
recorded): a facility gives back no units the plan did not give it.

Like new entrants the record is ``pending`` until a second regulator approves it
(:mod:`allocation.reserve.decisions`); then the units come back from the enterprise's compliance
account to the government reserve by an ``allocation`` transaction (never an edit). If the
account no longer holds them (sold, surrendered), the approval stands and the units are
**owed**: the record keeps no transaction, each true-up run tries it again (like a waiting
claw-back) and the plan is not ``issued`` while one is owed. The true-up counts approved
reductions as already returned, so it never claws back the same tonnes twice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    RecordStatus,
    ReductionKind,
    Stage,
)
from allocation.reserve.entrants import (
    allocate,
    benchmark_sector,
    check_inputs,
    open_plan,
    pending_record,
)
from allocation.reserve.entrants import whole_units as _whole_units
from allocation.rules.inputs import BenchmarkInputs
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import transactional
from carbon_market.kernel.errors import Conflict


def given_so_far(session: Session, plan: AllocationPlan, facility_id: int) -> int:
    """What the plan gives the facility before its true-up: its pre-allocation if the plan
    is issued in two steps, else its frozen result; plus its approved reserve records and
    less every reduction not rejected (pending ones too: two reductions pending together
    cannot return more than it had)."""
    if plan.pre_allocated_at is not None:
        base = session.scalar(
            select(AllocationAdjustment.quantity).where(
                AllocationAdjustment.plan_id == plan.id,
                AllocationAdjustment.stage == Stage.PRE_ALLOCATION,
                AllocationAdjustment.facility_id == facility_id,
            )
        )
    else:
        base = session.scalar(
            select(AllocationResult.allocation).where(
                AllocationResult.plan_id == plan.id, AllocationResult.facility_id == facility_id
            )
        )
    added = session.scalar(
        select(func.coalesce(func.sum(AllocationAdjustment.quantity), 0)).where(
            AllocationAdjustment.plan_id == plan.id,
            AllocationAdjustment.facility_id == facility_id,
            (
                (AllocationAdjustment.stage == Stage.NEW_ENTRANT)
                & (AllocationAdjustment.status == RecordStatus.APPROVED)
            )
            | (
                (AllocationAdjustment.stage == Stage.CAPACITY_REDUCTION)
                & (AllocationAdjustment.status != RecordStatus.REJECTED)
            ),
        )
    )
    return int(base or 0) + int(added or 0)


def _closed(session: Session, plan_id: int, facility_id: int) -> bool:
    found = session.scalar(
        select(AllocationAdjustment.id)
        .where(
            AllocationAdjustment.plan_id == plan_id,
            AllocationAdjustment.stage == Stage.CAPACITY_REDUCTION,
            AllocationAdjustment.facility_id == facility_id,
            AllocationAdjustment.note == ReductionKind.CLOSURE.value,
            AllocationAdjustment.status != RecordStatus.REJECTED,
        )
        .limit(1)
    )
    return found is not None


@transactional
def record_reduction(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    inputs: BenchmarkInputs,
    effective_date: date,
    kind: ReductionKind = ReductionKind.CAPACITY_REDUCTION,
) -> AllocationAdjustment:
    """Record a capacity reduction or a closure, ``pending`` a second regulator's approval
    (regulators); nothing moves yet. Raises NotFound, Conflict (a draft or trued-up plan;
    nothing allocated to the facility; already closed), ValidationFailed and RuleViolation
    (sector not by benchmark, no benchmark, less than one allowance)."""
    authorize(actor, "allocation.issue")
    plan = open_plan(session, plan_id)
    facility, _enterprise, rule = benchmark_sector(session, plan, inputs.facility_id)
    check_inputs(plan, inputs, effective_date, day_field="effective_date", what="the reduction")
    if _closed(session, plan.id, facility.id):
        raise Conflict(f"facility {facility.id} is recorded as closed under plan {plan_id}")
    given = given_so_far(session, plan, facility.id)
    if given <= 0:
        raise Conflict(
            f"facility {facility.id} has no allowances under plan {plan_id} to give back"
        )
    category, computed = allocate(rule, plan, facility, inputs, effective_date)
    units = min(_whole_units(computed), given)
    breakdown = {
        **computed.breakdown,
        "kind": kind.value,
        "category": category,
        "output": str(inputs.output),
        "effective_date": effective_date.isoformat(),
        "given_so_far": given,
    }
    if units < (computed.units or 0):
        breakdown["capped_at"] = given
    row = pending_record(
        session, actor, plan, Stage.CAPACITY_REDUCTION, facility, -units, kind.value, breakdown
    )
    record(
        session,
        actor,
        action=f"allocation_plan:{kind.value}",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={"adjustment": row.id, "units": -units, "status": row.status},
    )
    return row
