"""New entrants and capacity changes, allocated from the plan's reserve by benchmark.

A regulator records a facility that started operating in the plan year (``new_entrant``)
or an existing facility's added capacity (``capacity_change``): its annual output (for a
change, the added annual output), the start date and, for power units, the correction
inputs. :func:`allocation.entrant.allocate_entrant` computes the allocation (the sector's
benchmark rule, pro rata by months operating); it is issued at once from the government
reserve, in the same unit of work as the record. The plan's reserve is floor(cap ×
reserve_share); what its new entrants have received so far is the sum of their records, and
a record that would exceed it is refused ("the reserve is exhausted"). The plan row is
locked, so two records cannot both fit in the last of the reserve.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation.adjusting import post
from allocation.entrant import allocate_entrant
from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    EntrantKind,
    PlanStatus,
    Stage,
)
from allocation.plan import BENCHMARK
from allocation.service import plan_of
from carbon_market.audit.service import record
from carbon_market.auth.policy import authorize
from carbon_market.auth.roles import Actor
from carbon_market.db import clock_of, transactional
from carbon_market.emitters.models import Enterprise, EnterpriseStatus, Facility
from carbon_market.errors import Conflict, FieldError, NotFound, RuleViolation, ValidationFailed
from carbon_market.ledger.models import Account, AccountKind


def reserve_left(session: Session, plan: AllocationPlan) -> int:
    """floor(cap × reserve_share) less what the plan's new entrants have received."""
    budget = int(plan.cap * plan.reserve_share)  # int() of a positive Decimal: its floor
    used = session.scalar(
        select(func.coalesce(func.sum(AllocationAdjustment.quantity), 0)).where(
            AllocationAdjustment.plan_id == plan.id,
            AllocationAdjustment.stage == Stage.NEW_ENTRANT,
        )
    )
    return budget - int(used or 0)


def _check_inputs(
    plan: AllocationPlan, output: Decimal, start_date: date, heat_supplied_gj: Decimal | None
) -> None:
    errors = []
    if output <= 0:
        errors.append(FieldError("#/output", "must be positive"))
    if heat_supplied_gj is not None and heat_supplied_gj < 0:
        errors.append(FieldError("#/heat_supplied_gj", "must not be negative"))
    if start_date.year != plan.year:
        errors.append(FieldError("#/start_date", f"must fall in the plan year {plan.year}"))
    if errors:
        raise ValidationFailed("the new entrant's figures are not valid", errors=errors)


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
    facility_id: int,
    output: Decimal,
    start_date: date,
    kind: EntrantKind = EntrantKind.NEW_ENTRANT,
    category: str | None = None,
    heat_supplied_gj: Decimal | None = None,
    cooling: str | None = None,
    heat_supply_ratio: Decimal | None = None,
    load_rate: Decimal | None = None,
) -> AllocationAdjustment:
    """Allocate a new entrant or a capacity change from the reserve and issue it (regulators).
    ``category`` defaults to the facility's type. Raises NotFound, Conflict (a draft plan; a
    new entrant already allocated), ValidationFailed, RuleViolation (sector not by
    benchmark, no benchmark, nothing to allocate, the reserve exhausted) and
    InsufficientHolding (the reserve account lacks the units)."""
    authorize(actor, "allocation.issue")
    plan = session.scalar(
        select(AllocationPlan).where(AllocationPlan.id == plan_id).with_for_update()
    )
    if plan is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    if plan.status is PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is a draft: approve it first")
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(f"facility {facility_id} does not exist")
    enterprise = session.get_one(Enterprise, facility.enterprise_id)
    if enterprise.status is EnterpriseStatus.EXITED:
        raise RuleViolation(f"enterprise {enterprise.id} has exited: it receives no allocation")
    _check_inputs(plan, output, start_date, heat_supplied_gj)
    rule = plan_of(plan).sectors.get(enterprise.sector)
    if rule is None or rule.method != BENCHMARK:
        raise RuleViolation(
            f"plan {plan_id} does not allocate sector {enterprise.sector!r} by benchmark: new "
            "entrants are allocated by benchmark only",
            errors=[FieldError("#/facility_id", "sector not allocated by benchmark")],
        )
    if kind is EntrantKind.NEW_ENTRANT and _already_allocated(session, plan.id, facility_id):
        raise Conflict(
            f"facility {facility_id} already has an allocation under plan {plan_id}: record "
            "a capacity change instead"
        )
    category = category or facility.facility_type
    computed = allocate_entrant(
        rule, year=plan.year, category=category, output=output, start=start_date,
        heat_supplied_gj=heat_supplied_gj, cooling=cooling,
        heat_supply_ratio=heat_supply_ratio, load_rate=load_rate,
    )  # fmt: skip
    if computed.units is None:
        raise RuleViolation(computed.note, errors=[FieldError("#/category", computed.note)])
    if computed.units == 0:
        raise RuleViolation(
            f"the benchmark gives {computed.prorated} t: less than one allowance",
            errors=[FieldError("#/output", "allocates nothing")],
        )
    left = reserve_left(session, plan)
    if computed.units > left:
        raise RuleViolation(
            f"the reserve of plan {plan_id} is exhausted: {left} allowances left, "
            f"{computed.units} needed",
            errors=[FieldError("#/output", "more than the reserve has left")],
        )
    account = session.scalar(
        select(Account.number).where(
            Account.enterprise_id == enterprise.id,
            Account.kind == AccountKind.ENTERPRISE_COMPLIANCE,
        )
    )
    if account is None:
        raise RuleViolation(f"enterprise {enterprise.id} has no compliance account")
    inputs = {
        "kind": kind.value, "category": category, "output": str(output),
        "start_date": start_date.isoformat(),
    }  # fmt: skip
    row = AllocationAdjustment(
        plan_id=plan.id,
        stage=Stage.NEW_ENTRANT,
        facility_id=facility_id,
        enterprise_id=enterprise.id,
        basis=computed.units,
        quantity=computed.units,
        note=kind.value,
        breakdown={**inputs, **computed.breakdown},
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    session.add(row)
    session.flush()  # the transfer's memo and the audit event name the record by its id
    row.tx_id = post(
        session, actor, plan, row.id, facility_id, computed.units, account, Stage.NEW_ENTRANT
    )
    record(
        session,
        actor,
        action=f"allocation_plan:{kind.value}",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={"adjustment": row.id, "units": computed.units, "reserve_left": left - row.quantity},
    )
    return row
