"""Compliance's subscriptions to the features below it (``carbon_market.kernel.events``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carbon_market.compliance.corrections.cascade import apply_correction
from carbon_market.kernel.events import subscribe
from carbon_market.mrv.reports.events import ReportApproved


def _apply_correction(session: Session, event: ReportApproved) -> None:
    """A corrected version's approval recomputes the enterprise's year in the approval's
    unit of work; a first approval, or one of a year not opened, changes nothing here."""
    apply_correction(session, event.actor, event.report_id)


def wire() -> None:
    subscribe(ReportApproved, _apply_correction)
