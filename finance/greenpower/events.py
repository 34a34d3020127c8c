"""What green power tells the features above it (``carbon_market.kernel.events``)."""

from __future__ import annotations

from dataclasses import dataclass

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.events import Event


@dataclass(frozen=True)
class GreenPowerClaimed(Event):
    """An enterprise claimed green certificates for its consumption in ``year``.

    MRV recomputes the enterprise's open report of that year on it, in the same unit of
    work: the claim lowers the report's purchased-electricity emissions at once.
    """

    actor: Actor
    enterprise_id: int
    year: int
