"""Position-limit disclosure: the holders above the rulebook's disclosure threshold.

After the Beijing pilot, a covered enterprise above its annual allocation plus
``disclosure_covered_extra`` (500,000 t) and any other participant above
``disclosure_other`` (500,000 t) are listed for the regulator, before they reach the
position limit itself. One query: each trading account's position in a unit kind (every
vintage held, plus purchases recorded and not yet settled, as the recording check counts
it) against its threshold, computed in SQL; nothing is loaded per account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.ledger.enums import AccountKind, TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, Holding, LedgerTransaction
from carbon_market.trading import checks
from carbon_market.trading.models import Trade, TradeStatus


@dataclass(frozen=True)
class LargeHolder:
    account: str
    holder_name: str | None
    account_kind: str
    #: Units held (every vintage) plus purchases recorded and not yet settled.
    position: int
    #: The annual allocation counted (completed allocations of ``vintage``).
    allocation: int
    threshold: int
    limit: int
    vintage: int | None

    @property
    def excess(self) -> int:
        """Units above the disclosure threshold."""
        return self.position - self.threshold


def allocation_vintage(session: Session, unit_kind: str) -> int | None:
    """The latest vintage allocated in ``unit_kind``: the year whose allocation counts."""
    return session.scalar(
        select(func.max(LedgerTransaction.vintage)).where(
            LedgerTransaction.kind == TransactionKind.ALLOCATION,
            LedgerTransaction.status == TransactionStatus.COMPLETED,
            LedgerTransaction.unit_kind == unit_kind,
        )
    )


def large_holders(
    session: Session, actor: Actor, *, unit_kind: str, vintage: int | None = None
) -> list[LargeHolder]:
    """Accounts whose position in ``unit_kind`` is above their disclosure threshold,
    largest first (regulators and auditors). ``vintage`` is the allocation year counted
    for covered enterprises (default: the latest allocated). Empty when the rulebook sets
    no position limits for the unit kind."""
    authorize(actor, "market.surveillance")
    checks.check_unit_kind(session, unit_kind)
    rulebook = checks.rulebook_of(session)
    limits = rulebook.position_limits
    if unit_kind not in limits.unit_kinds:
        return []
    if vintage is None:
        vintage = allocation_vintage(session, unit_kind)
    held = (
        select(Holding.account_id.label("id"), func.sum(Holding.quantity).label("units"))
        .where(Holding.unit_kind == unit_kind)
        .group_by(Holding.account_id)
        .subquery()
    )
    pending = (
        select(Trade.buyer_account_id.label("id"), func.sum(Trade.quantity).label("units"))
        .where(Trade.unit_kind == unit_kind, Trade.status == TradeStatus.RECORDED)
        .group_by(Trade.buyer_account_id)
        .subquery()
    )
    allocated = (
        select(
            LedgerTransaction.to_account_id.label("id"),
            func.sum(LedgerTransaction.quantity).label("units"),
        )
        .where(
            LedgerTransaction.kind == TransactionKind.ALLOCATION,
            LedgerTransaction.status == TransactionStatus.COMPLETED,
            LedgerTransaction.unit_kind == unit_kind,
            LedgerTransaction.vintage == (vintage if vintage is not None else -1),
        )
        .group_by(LedgerTransaction.to_account_id)
        .subquery()
    )
    position = func.coalesce(held.c.units, 0) + func.coalesce(pending.c.units, 0)
    allocation = func.coalesce(allocated.c.units, 0)
    covered = Account.kind == AccountKind.ENTERPRISE_COMPLIANCE
    threshold = case(
        (covered, allocation + limits.disclosure_covered_extra),
        else_=literal(limits.disclosure_other),
    )
    limit = case((covered, allocation + limits.covered_extra), else_=literal(limits.other_limit))
    rows = session.execute(
        select(
            Account.number, Account.holder_name, Account.kind, position, allocation,
            threshold, limit,
        )
        .select_from(Account)
        .outerjoin(held, held.c.id == Account.id)
        .outerjoin(pending, pending.c.id == Account.id)
        .outerjoin(allocated, allocated.c.id == Account.id)
        .where(
            Account.kind.in_([AccountKind(k) for k in rulebook.eligible_account_kinds]),
            position > threshold,
        )
        .order_by(position.desc(), Account.number)
    )  # fmt: skip
    return [
        LargeHolder(number, name, kind.value, int(units), int(alloc), int(edge), int(cap), vintage)
        for number, name, kind, units, alloc, edge, cap in rows
    ]
