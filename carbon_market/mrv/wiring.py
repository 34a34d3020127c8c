"""MRV's subscriptions to the features below it (``carbon_market.kernel.events``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carbon_market.kernel.events import subscribe
from carbon_market.mrv.reports.workflow import recompute_open_report
from finance.greenpower.events import GreenPowerClaimed


def _recompute(session: Session, event: GreenPowerClaimed) -> None:
    """A green-power claim lowers the enterprise's open report of that year at once."""
    recompute_open_report(session, event.actor, event.enterprise_id, event.year)


def wire() -> None:
    subscribe(GreenPowerClaimed, _recompute)
