"""Moving frozen adjustments (pre-allocation, true-up, new entrants) through the ledger.

Every movement is an ``allocation`` transaction posted by the system actor (the stage was
started by a regulator under an approved plan): a positive quantity goes from the government
reserve to the enterprise's compliance account, a negative one (a true-up below the
pre-allocation) comes back from the compliance account to the reserve. A claw-back is an
allocation in the other direction, not a reversal: the pre-allocation was right when it was
made and is undone only in part. A claw-back the account cannot cover (the units were sold
or surrendered) is skipped and stays pending: running the stage again after the enterprise
has bought units back finishes it. Approved capacity reductions whose units are owed are
moved the same way by each true-up run (:mod:`allocation.reserve.reductions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from allocation.models import AllocationAdjustment, AllocationPlan, RecordStatus, Stage
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import transactional
from carbon_market.kernel.errors import FieldError, InsufficientHolding
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, TransactionKind
from carbon_market.ledger.models import Account, Holding

UNIT_KIND = "allowance"
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]


@dataclass(frozen=True)
class Batch:
    rows: int
    #: The last adjustment id looked at: the next batch starts after it.
    last_id: int
    issued: int
    clawed_back: int
    #: Claw-backs skipped because the account does not hold the units.
    short: int


def available(session: Session, number: str, vintage: int) -> int:
    """Allowances of ``vintage`` in account ``number`` that no pending transfer reserves."""
    held = session.scalar(
        select(Holding.quantity - Holding.reserved)
        .join(Account, Account.id == Holding.account_id)
        .where(Account.number == number, Holding.unit_kind == UNIT_KIND)
        .where(Holding.vintage == vintage)
    )
    return int(held or 0)


def pending(stage: Stage, plan_id: int) -> list[ColumnElement[bool]]:
    return [
        AllocationAdjustment.plan_id == plan_id,
        AllocationAdjustment.stage == stage,
        AllocationAdjustment.tx_id.is_(None),
        AllocationAdjustment.quantity != 0,
        # Reserve records move once a second regulator approves them, never before.
        AllocationAdjustment.status == RecordStatus.APPROVED,
    ]


def check_reserve_covers(session: Session, plan: AllocationPlan, stage: Stage) -> None:
    """Refuse to start moving when the reserve cannot cover the units still to be issued."""
    needed = session.scalar(
        select(func.coalesce(func.sum(AllocationAdjustment.quantity), 0)).where(
            *pending(stage, plan.id), AllocationAdjustment.quantity > 0
        )
    )
    held = available(session, RESERVE, plan.year)
    if needed and held < needed:
        raise InsufficientHolding(
            f"the reserve holds {held} allowances of vintage {plan.year}; the {stage} of plan "
            f"{plan.id} needs {needed}: issue units into the reserve first",
            errors=[FieldError("#/plan", "the reserve does not cover the allocations")],
        )


def post(
    session: Session, actor: Actor, plan: AllocationPlan, adjustment_id: int, facility_id: int,
    quantity: int, account: str, stage: Stage,
) -> int:  # fmt: skip
    """Post one adjustment's transfer and return its transaction id (callers write it)."""
    system = Actor.system(name=f"system:allocation:{actor.name}", request_id=actor.request_id)
    source, destination = (RESERVE, account) if quantity > 0 else (account, RESERVE)
    tx = ledger.request_transfer(
        session,
        system,
        from_account=source,
        to_account=destination,
        unit_kind=UNIT_KIND,
        vintage=plan.year,
        quantity=abs(quantity),
        memo=f"allocation plan {plan.id}, {stage} {adjustment_id}, facility {facility_id}",
        kind=TransactionKind.ALLOCATION,
    )
    return tx.id


@transactional
def move_batch(
    session: Session, actor: Actor, plan: AllocationPlan, stage: Stage, *, after_id: int,
    batch_size: int,
) -> Batch:  # fmt: skip
    """Move up to ``batch_size`` pending adjustments of ``stage`` after ``after_id``, one
    unit of work; each moved row gets its transaction id."""
    rows = session.execute(
        select(AllocationAdjustment.id, AllocationAdjustment.facility_id,
               AllocationAdjustment.quantity, Account.number)
        .join(
            Account,
            (Account.enterprise_id == AllocationAdjustment.enterprise_id)
            & (Account.kind == AccountKind.ENTERPRISE_COMPLIANCE),
        )
        .where(*pending(stage, plan.id), AllocationAdjustment.id > after_id)
        .order_by(AllocationAdjustment.id)
        .limit(batch_size)
        .with_for_update(of=AllocationAdjustment)
    ).all()  # fmt: skip
    done: list[dict[str, int]] = []
    issued = clawed = short = 0
    for adjustment_id, facility_id, quantity, account in rows:
        if quantity < 0 and available(session, account, plan.year) < -quantity:
            short += 1
            continue
        tx_id = post(session, actor, plan, adjustment_id, facility_id, quantity, account, stage)
        done.append({"id": adjustment_id, "tx_id": tx_id})
        issued += max(quantity, 0)
        clawed += max(-quantity, 0)
    if done:
        session.execute(update(AllocationAdjustment), done)
    if rows:
        record(
            session,
            actor,
            action=f"allocation_plan:{stage}_batch",
            entity_type="allocation_plan",
            entity_id=plan.id,
            after={"rows": len(done), "issued": issued, "clawed_back": clawed, "short": short},
        )
    last = rows[-1][0] if rows else after_id
    return Batch(len(rows), last, issued, clawed, short)
