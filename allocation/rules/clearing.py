"""Uniform-price sealed-bid auction clearing (pure: no database, no web).

Rules (``docs/allocation.md``, "Auctions"): bids below the reserve price are out; the rest
are sorted by price, highest first, and filled up to the volume; every winner pays the
clearing price, the lowest accepted bid's price (never below the reserve). When the bids at
the marginal price ask for more than is left, what is left is shared pro rata to their
quantities in whole units by the largest-remainder rule, ties to the earliest bid. The
arithmetic is integer (quantities) and Decimal (prices): exact. An auction has hundreds of
bids, not hundreds of thousands, so this is plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby


@dataclass(frozen=True)
class Bid:
    bidder: str
    price: Decimal
    quantity: int
    #: Order of arrival: the smaller, the earlier (breaks ties at the margin).
    sequence: int


@dataclass(frozen=True)
class Award:
    bid: Bid
    quantity: int


@dataclass(frozen=True)
class Clearing:
    #: None when no bid reached the reserve price.
    price: Decimal | None
    sold: int
    awards: tuple[Award, ...]


def share_pro_rata(units: int, bids: list[Bid]) -> list[int]:
    """``units`` shared among ``bids`` in proportion to their quantities, whole units by
    largest remainder (ties: earliest bid); never more than a bid asked for."""
    asked = sum(b.quantity for b in bids)
    floors = [units * b.quantity // asked for b in bids]
    remainders = [units * b.quantity % asked for b in bids]
    left = units - sum(floors)
    order = sorted(range(len(bids)), key=lambda i: (-remainders[i], bids[i].sequence))
    for i in order[:left]:
        floors[i] += 1
    return floors


def clear_auction(bids: list[Bid], *, volume: int, reserve_price: Decimal) -> Clearing:
    """Clear a uniform-price auction of ``volume`` units (see the module docstring)."""
    if volume <= 0:
        raise ValueError("the volume must be a positive number of units")
    eligible = sorted(
        (b for b in bids if b.price >= reserve_price and b.quantity > 0),
        key=lambda b: (-b.price, b.sequence),
    )
    awards: list[Award] = []
    left = volume
    price: Decimal | None = None
    for level_price, level in groupby(eligible, key=lambda b: b.price):
        if left == 0:
            break
        at_level = list(level)
        asked = sum(b.quantity for b in at_level)
        granted = (
            [b.quantity for b in at_level] if asked <= left else share_pro_rata(left, at_level)
        )
        awards.extend(Award(b, q) for b, q in zip(at_level, granted, strict=True) if q > 0)
        left -= sum(granted)
        price = level_price
    return Clearing(price=price, sold=volume - left, awards=tuple(awards))
