"""Issuing an approved plan through the ledger: in batches, idempotent, resumable.

Each batch is one unit of work: it locks up to ``batch_size`` results of the plan that have
no transaction yet, posts one ``allocation`` transaction per result from the government
reserve to the enterprise's compliance account (as the system actor: the plan itself had
four eyes), and records each transaction id on its result. A batch commits whole or not at
all, so after a crash the committed batches stand, the rest still have no transaction, and
running the issue again finishes the job; running it on a finished plan moves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    PlanStatus,
    Stage,
)
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, InsufficientHolding, NotFound
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, TransactionKind
from carbon_market.ledger.models import Account, Holding

UNIT_KIND = "allowance"
BATCH_SIZE = 1000
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]


@dataclass(frozen=True)
class IssueSummary:
    plan_id: int
    #: Results issued by this call, and the units they moved.
    issued: int
    units: int
    #: Results issued before this call (a retry or a resumed run).
    already_issued: int
    batches: int


def _unissued(plan_id: int) -> list[ColumnElement[bool]]:
    return [
        AllocationResult.plan_id == plan_id,
        AllocationResult.issued_tx_id.is_(None),
        AllocationResult.allocation > 0,
    ]


def _check_not_staged(session: Session, plan_id: int) -> None:
    """Refuse a plan issued in two steps (pre-allocation and true-up): never both ways."""
    staged = session.scalar(
        select(AllocationAdjustment.id)
        .where(
            AllocationAdjustment.plan_id == plan_id,
            AllocationAdjustment.stage.in_([Stage.PRE_ALLOCATION, Stage.TRUE_UP]),
        )
        .limit(1)
    )
    if staged is not None:
        raise Conflict(f"plan {plan_id} is pre-allocated: finish it with the true-up")


@transactional
def _start(session: Session, actor: Actor, plan_id: int) -> tuple[AllocationPlan, int]:
    """Check the plan can be issued and the reserve covers what is left; (plan, issued)."""
    authorize(actor, "allocation.issue")
    plan = session.get(AllocationPlan, plan_id)
    if plan is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    if plan.status is PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is a draft: approve it before issuing")
    _check_not_staged(session, plan_id)
    issued = session.scalar(
        select(func.count()).where(
            AllocationResult.plan_id == plan_id, AllocationResult.issued_tx_id.is_not(None)
        )
    )
    needed = session.scalar(
        select(func.coalesce(func.sum(AllocationResult.allocation), 0)).where(*_unissued(plan_id))
    )
    held = session.scalar(
        select(Holding.quantity - Holding.reserved)
        .join(Account, Account.id == Holding.account_id)
        .where(Account.number == RESERVE, Holding.unit_kind == UNIT_KIND)
        .where(Holding.vintage == plan.year)
    )
    if needed and (held or 0) < needed:
        raise InsufficientHolding(
            f"the reserve holds {held or 0} allowances of vintage {plan.year}; issuing plan "
            f"{plan_id} needs {needed}: issue units into the reserve first",
            errors=[FieldError("#/plan", "the reserve does not cover the allocations")],
        )
    return plan, int(issued or 0)


@transactional
def _issue_batch(
    session: Session, actor: Actor, plan: AllocationPlan, batch_size: int
) -> tuple[int, int]:
    """Issue up to ``batch_size`` results; (results issued, units moved).

    Each batch locks the plan and looks again for a pre-allocation: one may have started
    since :func:`_start` (it locks the plan too, and refuses once a result is issued), and
    a plan must never be issued both whole and in two steps."""
    session.execute(select(AllocationPlan.id).where(AllocationPlan.id == plan.id).with_for_update())
    _check_not_staged(session, plan.id)
    rows = session.execute(
        select(AllocationResult.id, AllocationResult.facility_id, AllocationResult.allocation,
               Account.number)
        .join(
            Account,
            (Account.enterprise_id == AllocationResult.enterprise_id)
            & (Account.kind == AccountKind.ENTERPRISE_COMPLIANCE),
        )
        .where(*_unissued(plan.id))
        .order_by(AllocationResult.id)
        .limit(batch_size)
        .with_for_update(of=AllocationResult)
    ).all()  # fmt: skip
    system = Actor.system(name=f"system:allocation:{actor.name}", request_id=actor.request_id)
    done = []
    units = 0
    for result_id, facility_id, allocation, account in rows:
        quantity = int(allocation or 0)  # the query selects allocation > 0 only
        units += quantity
        tx = ledger.request_transfer(
            session,
            system,
            from_account=RESERVE,
            to_account=account,
            unit_kind=UNIT_KIND,
            vintage=plan.year,
            quantity=quantity,
            memo=f"allocation plan {plan.id}, facility {facility_id}",
            kind=TransactionKind.ALLOCATION,
        )
        done.append({"id": result_id, "issued_tx_id": tx.id})
    if done:
        session.execute(update(AllocationResult), done)
    if rows:
        record(
            session,
            actor,
            action="allocation_plan:issue_batch",
            entity_type="allocation_plan",
            entity_id=plan.id,
            after={"results": len(rows), "units": units},
        )
    return len(rows), units


@transactional
def _finish(session: Session, actor: Actor, plan_id: int) -> None:
    plan = session.get_one(AllocationPlan, plan_id)
    left = session.scalar(select(func.count()).where(*_unissued(plan_id)))
    if left or plan.status is PlanStatus.ISSUED:
        return
    plan.status, plan.issued_at = PlanStatus.ISSUED, clock_of(session).now()
    record(
        session,
        actor,
        action="allocation_plan:issued",
        entity_type="allocation_plan",
        entity_id=plan.id,
        after={"status": plan.status, "total_allocation": plan.total_allocation},
    )


def issue_plan(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> IssueSummary:
    """Issue an approved plan's allocations (regulators), batch by batch, each batch its
    own unit of work. Idempotent and resumable (see the module docstring). Raises NotFound,
    Conflict (a draft) and InsufficientHolding (the reserve does not cover what is left;
    nothing is issued)."""
    plan, already = _start(session, actor, plan_id)
    issued = units = batches = 0
    while True:
        count, moved = _issue_batch(session, actor, plan, batch_size)
        if count == 0:
            break
        issued, units, batches = issued + count, units + moved, batches + 1
        if progress is not None:
            progress(count)
    _finish(session, actor, plan_id)
    return IssueSummary(plan_id, issued, units, already, batches)
