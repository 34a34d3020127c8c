"""The corrections cascade's penalty supersession: a penalty follows the corrected shortfall.

A penalty row is never edited but for its ``status`` and ``ended_by_id``. When a correction
changes an assessed enterprise's shortfall, the current penalty is **superseded** by a new row
recomputed from the new shortfall with the same multiple, average price and window
(``supersedes_id`` points back), or **cancelled** when the shortfall is gone; an unchanged
shortfall leaves it alone. A cancelled penalty is reinstated as a new current row if a later
correction brings a shortfall back. An enterprise never assessed is left to the
``penalty_assessment`` job. At most one ``current`` penalty per enterprise and year (a partial
unique index).

:mod:`corrections` orchestrates; this module only touches penalties.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.enums import PenaltyStatus
from carbon_market.compliance.models import ComplianceCorrection, CompliancePenalty, ComplianceYear
from carbon_market.compliance.rules.obligations import MAX_AMOUNT, penalty
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of


def _penalty_row(
    basis: CompliancePenalty, found: ComplianceYear, shortfall_t: int, **values: Any
) -> CompliancePenalty:
    """A recomputed penalty: ``basis``'s multiple, average price and window, a new shortfall."""
    result = penalty(
        queries.book_of(found),
        shortfall_t=shortfall_t,
        multiple=basis.multiple,
        average_price=basis.average_price,
    )
    return CompliancePenalty(
        year=basis.year,
        enterprise_id=basis.enterprise_id,
        shortfall_t=result.shortfall_t,
        multiple=result.multiple,
        average_price=result.average_price,
        amount=result.amount,
        allocation_deduction_t=result.allocation_deduction_t,
        price_from=basis.price_from,
        price_to=basis.price_to,
        status=PenaltyStatus.CURRENT,
        **values,
    )


def _latest(session: Session, correction: ComplianceCorrection) -> CompliancePenalty | None:
    return session.scalar(
        select(CompliancePenalty)
        .where(
            CompliancePenalty.year == correction.year,
            CompliancePenalty.enterprise_id == correction.enterprise_id,
        )
        .order_by(CompliancePenalty.id.desc())
        .limit(1)
    )


def _end(
    session: Session,
    actor: Actor,
    latest: CompliancePenalty,
    correction: ComplianceCorrection,
    shortfall_t: int,
) -> None:
    """Supersede (a new shortfall follows) or cancel (none does) the current penalty."""
    latest.status = PenaltyStatus.SUPERSEDED if shortfall_t else PenaltyStatus.CANCELLED
    latest.ended_by_id = correction.id
    session.flush()  # the old row leaves the current-penalty unique index first
    record(
        session,
        actor,
        action=f"compliance_penalty:{'supersede' if shortfall_t else 'cancel'}",
        entity_type="compliance_penalty",
        entity_id=latest.id,
        after={
            "status": latest.status.value,
            "correction_of": {"report_id": correction.report_id, "version": correction.version},
        },
    )


def repenalise(
    session: Session,
    actor: Actor,
    correction: ComplianceCorrection,
    found: ComplianceYear,
    shortfall_t: int,
    today: date,
) -> dict[str, Any]:
    """Supersede, cancel or reinstate the enterprise's penalty for the new shortfall.

    Returns what changed for the audit record and the notice (empty: nothing did):
    ``previous_id`` and ``previous_amount``, then ``cancelled`` or the new ``id``,
    ``amount`` and ``shortfall_t`` (or ``too_large`` and ``shortfall_t`` when the new amount
    is beyond what an amount holds: the penalty on record then stands, unassessed anew, as
    the assessment leaves such a penalty). The caller authorised ``actor``."""
    latest = _latest(session, correction)
    if latest is None:
        return {}  # never assessed: the penalty_assessment job assesses from the new status
    current = latest.status is PenaltyStatus.CURRENT
    if current and latest.shortfall_t == shortfall_t:
        return {}
    if not current and (shortfall_t == 0 or latest.status is PenaltyStatus.SUPERSEDED):
        return {}
    change: dict[str, Any] = {"previous_id": latest.id, "previous_amount": str(latest.amount)}
    new = None
    if shortfall_t:
        new = _penalty_row(
            latest,
            found,
            shortfall_t,
            assessed_on=today,
            assessed_at=clock_of(session).now(),
            assessed_by=actor.name,
            correction_id=correction.id,
            supersedes_id=latest.id if current else None,
        )
        if new.amount > MAX_AMOUNT:
            # Beyond what the amount column holds (as in the assessment): the penalty on
            # record stands and the correction says so, instead of failing the approval.
            return {**change, "too_large": True, "shortfall_t": shortfall_t}
    if current:
        _end(session, actor, latest, correction, shortfall_t)
    if new is None:
        return {**change, "cancelled": True}
    session.add(new)
    session.flush()  # the new penalty's id names it in the audit record and the notice
    record(
        session,
        actor,
        action="compliance_penalty:recompute",
        entity_type="compliance_penalty",
        entity_id=new.id,
        after={
            "shortfall_t": shortfall_t,
            "multiple": str(new.multiple),
            "average_price": str(new.average_price),
            "amount": str(new.amount),
            "supersedes_id": new.supersedes_id,
            "correction_of": {"report_id": correction.report_id, "version": correction.version},
        },
    )
    return {**change, "id": new.id, "amount": str(new.amount), "shortfall_t": shortfall_t}
