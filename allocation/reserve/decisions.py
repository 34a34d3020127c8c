"""The second regulator's decision on a reserve record (new entrant, capacity change,
capacity reduction): four eyes, as for plans.

A record is written ``pending`` by one regulator; another approves or rejects it. The
recorder can do neither (422 ``four-eyes``; the database CHECKs it too). Approving a new
entrant or capacity change checks the reserve again (the others' records, pending or
approved, against floor(cap × reserve_share)) and moves its units from the government
reserve to the enterprise's compliance account; approving a reduction moves them back, or
leaves them owed when the account does not hold them (:mod:`allocation.reserve.reductions`). The
plan row and then the record are locked, and the move is made only on the ``pending`` →
``approved`` step, in the same unit of work that writes the transaction on the record (its
``tx_id`` is UNIQUE): two approvals at once move the units once. Approving an approved
record again moves nothing, except an owed reduction, which it tries to collect again;
rejecting a rejected one changes nothing; the opposite decision is 409.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocation.issuing.adjustments import available, post
from allocation.models import AllocationAdjustment, AllocationPlan, RecordStatus, Stage
from allocation.reserve.entrants import compliance_account, exhausted, open_plan, reserve_left
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    FourEyesViolation,
    NotFound,
    ValidationFailed,
)

#: The record's ``reason`` column holds this many characters; a longer one is refused, not cut.
MAX_REASON = 500


def _locked_record(
    session: Session, plan: AllocationPlan, record_id: int, stage: Stage
) -> AllocationAdjustment:
    row = session.scalar(
        select(AllocationAdjustment)
        .where(
            AllocationAdjustment.id == record_id,
            AllocationAdjustment.plan_id == plan.id,
            AllocationAdjustment.stage == stage,
        )
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"plan {plan.id} has no {stage} record {record_id}")
    return row


def _check_second(actor: Actor, row: AllocationAdjustment) -> None:
    if actor.user_id is not None and actor.user_id == row.created_by_user_id:
        raise FourEyesViolation("the regulator who recorded it cannot decide on it")


def _decide(
    session: Session, actor: Actor, row: AllocationAdjustment, status: RecordStatus
) -> None:
    """Write the second regulator's decision on the record."""
    row.status, row.decided_at = status, clock_of(session).now()
    row.decided_by, row.decided_by_user_id = actor.name, actor.user_id


def _move(session: Session, actor: Actor, plan: AllocationPlan, row: AllocationAdjustment) -> None:
    """Post the record's transfer, unless it is a reduction the account cannot cover (owed:
    it stays without a transaction and is tried again later)."""
    account = compliance_account(session, row.enterprise_id)
    if row.quantity < 0 and available(session, account, plan.year) < -row.quantity:
        return
    row.tx_id = post(
        session, actor, plan, row.id, row.facility_id, row.quantity, account, row.stage
    )


@transactional
def approve_record(
    session: Session, actor: Actor, plan_id: int, record_id: int, *, stage: Stage
) -> AllocationAdjustment:
    """Approve a pending reserve record and move its units (a regulator other than the
    recorder). Raises NotFound, Conflict (rejected; a draft or trued-up plan),
    FourEyesViolation, RuleViolation (the reserve exhausted) and InsufficientHolding (the
    reserve account lacks the units: nothing changes, the record stays pending)."""
    authorize(actor, "allocation.approve")
    plan = open_plan(session, plan_id)
    row = _locked_record(session, plan, record_id, stage)
    if row.status is RecordStatus.REJECTED:
        raise Conflict(f"{stage} record {record_id} was rejected")
    _check_second(actor, row)
    if row.status is RecordStatus.APPROVED:
        if row.tx_id is None:  # an owed reduction: collect it if the account now holds it
            _move(session, actor, plan, row)
            if row.tx_id is not None:
                _audit(session, actor, plan, row, "collect")
        return row
    if row.quantity > 0:
        left = reserve_left(session, plan, but=row.id)
        if row.quantity > left:
            raise exhausted(plan, left, row.quantity)
    _decide(session, actor, row, RecordStatus.APPROVED)
    _move(session, actor, plan, row)
    _audit(session, actor, plan, row, "approve")
    return row


@transactional
def reject_record(
    session: Session,
    actor: Actor,
    plan_id: int,
    record_id: int,
    *,
    stage: Stage,
    reason: str = "",
) -> AllocationAdjustment:
    """Reject a pending reserve record (a regulator other than the recorder): nothing
    moves, and a new entrant's share of the reserve is free again. Raises NotFound,
    Conflict (approved; a draft or trued-up plan) and FourEyesViolation."""
    authorize(actor, "allocation.approve")
    plan = open_plan(session, plan_id)
    row = _locked_record(session, plan, record_id, stage)
    if row.status is RecordStatus.APPROVED:
        raise Conflict(f"{stage} record {record_id} is approved: its units have moved")
    _check_second(actor, row)
    if row.status is RecordStatus.REJECTED:
        return row
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            f"a reason is at most {MAX_REASON} characters",
            errors=[FieldError("#/reason", f"longer than {MAX_REASON} characters")],
        )
    _decide(session, actor, row, RecordStatus.REJECTED)
    row.reason = reason
    _audit(session, actor, plan, row, "reject")
    return row


def _audit(
    session: Session, actor: Actor, plan: AllocationPlan, row: AllocationAdjustment, verb: str
) -> None:
    record(
        session,
        actor,
        action=f"allocation_plan:{row.stage}_{verb}",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={
            "adjustment": row.id,
            "status": row.status,
            "units": row.quantity,
            "tx_id": row.tx_id,
            "owed": row.quantity < 0 and row.tx_id is None and row.status is RecordStatus.APPROVED,
            **({"reason": row.reason} if verb == "reject" else {}),
        },
    )
