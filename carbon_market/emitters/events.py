"""What the registry tells the features above it (``carbon_market.kernel.events``)."""

from __future__ import annotations

from dataclasses import dataclass

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.events import Event


@dataclass(frozen=True)
class EnterprisesRegistered(Event):
    """Covered enterprises were registered (one by the API, a chunk by the bulk import).

    The ledger opens each one's compliance account on it, in the same unit of work: an
    enterprise is never registered without the account its allowances go to.
    """

    actor: Actor
    enterprise_ids: tuple[int, ...]
