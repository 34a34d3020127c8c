"""Trading rulebooks: the policy numbers of a market as data (pure: no database).

A rulebook is a JSON file in ``carbon_market/trading/data/`` (``national`` is the default,
``beijing`` ships beside it), chosen with ``TRADING_RULEBOOK``. It says which trading modes
exist with their price bands and order sizes, whether trades settle at once (T+0) or at the
end of the day (T+1), whether units bought may be sold again the same day, which accounts
may trade, and the position limits. Nothing of this is a constant in code, so a regulator
changes policy by changing a file (docs/trading.md lists the sources of each number).
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any


class Settlement(enum.StrEnum):
    #: Settled in the unit of work that records the trade.
    T0 = "t0"
    #: Recorded during the day, settled by the end-of-day run (``trading_settle_due``).
    T1 = "t1"


@dataclass(frozen=True)
class Mode:
    """A trading mode: the trade kind it is recorded as, its band and its order sizes."""

    kind: str
    label: str
    #: The price may differ from the reference by at most this fraction (0.10 = ±10 %);
    #: None: the rules set no band for the mode (one-way bidding: the auction's own
    #: announcement bounds its prices).
    band: Decimal | None
    min_quantity: int
    max_quantity: int | None

    def admits(self, quantity: int) -> bool:
        return quantity >= self.min_quantity and (
            self.max_quantity is None or quantity <= self.max_quantity
        )


@dataclass(frozen=True)
class PositionLimits:
    """After the Beijing pilot: a covered enterprise holds at most its annual allocation
    plus ``covered_extra``; any other participant at most ``other_limit``. Holders above
    the allocation plus ``disclosure_covered_extra`` (others: ``disclosure_other``) are
    listed for the regulator."""

    unit_kinds: frozenset[str]
    covered_extra: int
    other_limit: int
    disclosure_covered_extra: int
    disclosure_other: int


@dataclass(frozen=True)
class Surveillance:
    #: A day's volume above this many times the rolling average of the days before is flagged.
    volume_ratio: Decimal
    rolling_days: int


@dataclass(frozen=True)
class Rulebook:
    name: str
    title: str
    sources: tuple[str, ...]
    modes: tuple[Mode, ...]
    settlement: Settlement
    no_same_day_resale: bool
    eligible_account_kinds: frozenset[str]
    position_limits: PositionLimits
    surveillance: Surveillance

    def mode(self, kind: str) -> Mode | None:
        """The mode trades of ``kind`` are recorded under; None when the market has none."""
        for mode in self.modes:
            if mode.kind == kind:
                return mode
        return None


def parse_rulebook(document: dict[str, Any]) -> Rulebook:
    """A rulebook from its JSON document; KeyError/ValueError when a member is missing."""
    limits = document["position_limits"]
    watch = document["surveillance"]
    return Rulebook(
        name=document["name"],
        title=document["title"],
        sources=tuple(document["sources"]),
        modes=tuple(
            Mode(
                kind=m["kind"],
                label=m["label"],
                band=None if m["band"] is None else Decimal(m["band"]),
                min_quantity=int(m["min_quantity"]),
                max_quantity=None if m["max_quantity"] is None else int(m["max_quantity"]),
            )
            for m in document["modes"]
        ),
        settlement=Settlement(document["settlement"]),
        no_same_day_resale=bool(document["no_same_day_resale"]),
        eligible_account_kinds=frozenset(document["eligible_account_kinds"]),
        position_limits=PositionLimits(
            unit_kinds=frozenset(limits["unit_kinds"]),
            covered_extra=int(limits["covered_extra"]),
            other_limit=int(limits["other_limit"]),
            disclosure_covered_extra=int(limits["disclosure_covered_extra"]),
            disclosure_other=int(limits["disclosure_other"]),
        ),
        surveillance=Surveillance(
            volume_ratio=Decimal(watch["volume_ratio"]), rolling_days=int(watch["rolling_days"])
        ),
    )


@functools.cache
def load_rulebook(name: str) -> Rulebook:
    """The packaged rulebook ``name`` (read once per process)."""
    text = (
        resources.files("carbon_market.trading")
        .joinpath("data", f"{name}.json")
        .read_text(encoding="utf-8")
    )
    return parse_rulebook(json.loads(text))
