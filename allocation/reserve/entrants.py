"""New entrants and capacity changes, allocated from the plan's reserve by benchmark.

A regulator records a facility that started operating in the plan year (``new_entrant``)
or an existing facility's added capacity (``capacity_change``): its annual output (for a
change, the added annual output), the start date and, for power units, the correction
inputs. :func:`allocation.rules.entrant_allocation.allocate_entrant` computes the allocation (the
sector's
benchmark rule, pro rata by months operating). The record is ``pending``: a second
regulator approves it (:mod:`allocation.reserve.decisions`), and only then do the units leave the
government reserve. The plan's reserve is floor(cap × reserve_share); what its new
entrants take is the sum of their records **pending or approved** (rejected ones give
their share back), so two pending records cannot together promise more than the reserve
has. A record that would exceed it is refused ("the reserve is exhausted"). The plan row is
locked, so two records cannot both fit in the last of the reserve.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    EntrantKind,
    PlanStatus,
    RecordStatus,
    Stage,
)
from allocation.rules.entrant_allocation import EntrantAllocation, allocate_entrant
from allocation.rules.inputs import BenchmarkInputs
from allocation.rules.plan import BENCHMARK, SectorRule
from allocation.service import plan_of
from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger.accounts.service import compliance_account_of


def reserve_left(session: Session, plan: AllocationPlan, *, but: int | None = None) -> int:
    """floor(cap × reserve_share) less what the plan's new-entrant records pending or
    approved take (``but``: leave that record out, to check it against the others)."""
    budget = int(plan.cap * plan.reserve_share)  # int() of a positive Decimal: its floor
    query = select(func.coalesce(func.sum(AllocationAdjustment.quantity), 0)).where(
        AllocationAdjustment.plan_id == plan.id,
        AllocationAdjustment.stage == Stage.NEW_ENTRANT,
        AllocationAdjustment.status != RecordStatus.REJECTED,
    )
    if but is not None:
        query = query.where(AllocationAdjustment.id != but)
    return budget - int(session.scalar(query) or 0)


def exhausted(plan: AllocationPlan, left: int, needed: int) -> RuleViolation:
    return RuleViolation(
        f"the reserve of plan {plan.id} is exhausted: {left} allowances left, {needed} needed",
        errors=[FieldError("#/output", "more than the reserve has left")],
    )


def open_plan(session: Session, plan_id: int) -> AllocationPlan:
    """The plan, locked, if reserve records may still be recorded and decided under it:
    approved, and not trued up (the true-up's final allocation on verified output already
    counts every change of capacity; a record after it would count one twice)."""
    plan = session.scalar(
        select(AllocationPlan).where(AllocationPlan.id == plan_id).with_for_update()
    )
    if plan is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    if plan.status is PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is a draft: approve it first")
    if plan.trued_up_at is not None:
        raise Conflict(
            f"plan {plan_id} is trued up: its final allocation already counts every change "
            "of capacity"
        )
    return plan


def benchmark_sector(
    session: Session, plan: AllocationPlan, facility_id: int
) -> tuple[Facility, Enterprise, SectorRule]:
    """The facility, its enterprise and its sector's rule, which must be by benchmark."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(f"facility {facility_id} does not exist")
    enterprise = session.get_one(Enterprise, facility.enterprise_id)
    rule = plan_of(plan).sectors.get(enterprise.sector)
    if rule is None or rule.method != BENCHMARK:
        raise RuleViolation(
            f"plan {plan.id} does not allocate sector {enterprise.sector!r} by benchmark: new "
            "entrants and changes of capacity are allocated by benchmark only",
            errors=[FieldError("#/facility_id", "sector not allocated by benchmark")],
        )
    return facility, enterprise, rule


def whole_units(computed: EntrantAllocation) -> int:
    """The computed allowances, refused when the benchmark cannot give any."""
    if computed.units is None:
        raise RuleViolation(computed.note, errors=[FieldError("#/category", computed.note)])
    if computed.units == 0:
        raise RuleViolation(
            f"the benchmark gives {computed.prorated} t: less than one allowance",
            errors=[FieldError("#/output", "allocates nothing")],
        )
    return computed.units


def compliance_account(session: Session, enterprise_id: int) -> str:
    """The number of the enterprise's compliance account, where its allocation goes."""
    account = compliance_account_of(session, enterprise_id)
    if account is None:
        raise RuleViolation(f"enterprise {enterprise_id} has no compliance account")
    return account.number


def check_inputs(
    plan: AllocationPlan, inputs: BenchmarkInputs, day: date, *, day_field: str, what: str
) -> None:
    """Refuse a reserve record's figures (``what``: "the new entrant", "the reduction")
    that no benchmark can take, or a date (``day_field``) outside the plan year."""
    errors = []
    if inputs.output <= 0:
        errors.append(FieldError("#/output", "must be positive"))
    if inputs.heat_supplied_gj is not None and inputs.heat_supplied_gj < 0:
        errors.append(FieldError("#/heat_supplied_gj", "must not be negative"))
    if day.year != plan.year:
        errors.append(FieldError(f"#/{day_field}", f"must fall in the plan year {plan.year}"))
    if errors:
        raise ValidationFailed(f"{what}'s figures are not valid", errors=errors)


def allocate(
    rule: SectorRule, plan: AllocationPlan, facility: Facility, inputs: BenchmarkInputs,
    start: date,
) -> tuple[str, EntrantAllocation]:  # fmt: skip
    """The category the record counts under (the facility's type unless named) and what
    the sector's benchmark gives its inputs from ``start``: one computation for additions
    and reductions, so that adding a capacity and removing it from the same month cancel."""
    category = inputs.category or facility.facility_type
    computed = allocate_entrant(
        rule, year=plan.year, category=category, output=inputs.output, start=start,
        heat_supplied_gj=inputs.heat_supplied_gj, cooling=inputs.cooling,
        heat_supply_ratio=inputs.heat_supply_ratio, load_rate=inputs.load_rate,
    )  # fmt: skip
    return category, computed


def _already_allocated(session: Session, plan_id: int, facility_id: int) -> bool:
    """Whether the plan gave the facility units: a frozen result, a pre-allocation or an
    earlier record from the reserve."""
    by_plan = session.scalar(
        select(AllocationResult.id).where(
            AllocationResult.plan_id == plan_id,
            AllocationResult.facility_id == facility_id,
            AllocationResult.allocation > 0,
        )
    )
    by_stage = session.scalar(
        select(AllocationAdjustment.id)
        .where(
            AllocationAdjustment.plan_id == plan_id,
            AllocationAdjustment.stage.in_([Stage.PRE_ALLOCATION, Stage.NEW_ENTRANT]),
            AllocationAdjustment.facility_id == facility_id,
            AllocationAdjustment.quantity > 0,
            AllocationAdjustment.status != RecordStatus.REJECTED,
        )
        .limit(1)
    )
    return by_plan is not None or by_stage is not None


@transactional
def record_entrant(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    inputs: BenchmarkInputs,
    start_date: date,
    kind: EntrantKind = EntrantKind.NEW_ENTRANT,
) -> AllocationAdjustment:
    """Record a new entrant or a capacity change, ``pending`` a second regulator's approval
    (regulators); nothing moves yet, but its units count against the reserve at once.
    The inputs' category defaults to the facility's type. Raises NotFound, Conflict (a
    draft or trued-up plan; a new entrant already allocated), ValidationFailed and
    RuleViolation (sector not by benchmark, no benchmark, nothing to allocate, the reserve
    exhausted)."""
    authorize(actor, "allocation.issue")
    plan = open_plan(session, plan_id)
    facility, enterprise, rule = benchmark_sector(session, plan, inputs.facility_id)
    if enterprise.status is EnterpriseStatus.EXITED:
        raise RuleViolation(f"enterprise {enterprise.id} has exited: it receives no allocation")
    check_inputs(plan, inputs, start_date, day_field="start_date", what="the new entrant")
    if kind is EntrantKind.NEW_ENTRANT and _already_allocated(session, plan.id, facility.id):
        raise Conflict(
            f"facility {facility.id} already has an allocation under plan {plan_id}: record "
            "a capacity change instead"
        )
    category, computed = allocate(rule, plan, facility, inputs, start_date)
    units = whole_units(computed)
    left = reserve_left(session, plan)
    if units > left:
        raise exhausted(plan, left, units)
    compliance_account(session, enterprise.id)  # refused now, not at approval
    recorded = {
        "kind": kind.value, "category": category, "output": str(inputs.output),
        "start_date": start_date.isoformat(),
    }  # fmt: skip
    row = pending_record(
        session, actor, plan, Stage.NEW_ENTRANT, facility, units, kind.value,
        {**recorded, **computed.breakdown},
    )  # fmt: skip
    record(
        session,
        actor,
        action=f"allocation_plan:{kind.value}",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={"adjustment": row.id, "units": units, "status": row.status,
               "reserve_left": left - units},
    )  # fmt: skip
    return row


def pending_record(
    session: Session, actor: Actor, plan: AllocationPlan, stage: Stage, facility: Facility,
    quantity: int, note: str, breakdown: dict[str, Any],
) -> AllocationAdjustment:  # fmt: skip
    """Write a reserve record awaiting its second regulator."""
    row = AllocationAdjustment(
        plan_id=plan.id,
        stage=stage,
        facility_id=facility.id,
        enterprise_id=facility.enterprise_id,
        basis=abs(quantity),
        quantity=quantity,
        note=note,
        breakdown=breakdown,
        status=RecordStatus.PENDING,
        created_at=clock_of(session).now(),
        created_by=actor.name,
        created_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()  # the audit event names the record by its id
    return row
