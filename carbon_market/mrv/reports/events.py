"""What the emission reports tell the features above them (``carbon_market.kernel.events``)."""

from __future__ import annotations

from dataclasses import dataclass

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.events import Event


@dataclass(frozen=True)
class ReportApproved(Event):
    """A regulator approved a verified report (``workflow.approve_and_publish``).

    Compliance applies the correction cascade on it when the report corrects an approved
    version, in the same unit of work: the approval and its consequences commit together.
    """

    actor: Actor
    report_id: int
