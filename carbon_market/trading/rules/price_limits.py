"""Price limits and trading modes (pure: no database).

The band of a trade is its mode's fraction around the reference price (the previous trading
day's close). Band edges are rounded to the fen half up (四舍五入), the exchange's price
tick: a reference of 100.00 with ±10 % admits 90.00 to 110.00 inclusive.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from carbon_market.kernel.errors import FieldError, RuleViolation
from carbon_market.trading.rules.rulebook import Mode, Rulebook

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def band(reference: Decimal, fraction: Decimal) -> tuple[Decimal, Decimal]:
    """The lowest and highest admissible prices around ``reference``."""
    return to_fen(reference * (1 - fraction)), to_fen(reference * (1 + fraction))


def mode_for(rulebook: Rulebook, kind: str, quantity: int) -> Mode:
    """The mode of a ``kind`` trade, or RuleViolation when its size belongs to another."""
    mode = rulebook.mode(kind)
    if mode is None:
        raise RuleViolation(
            f"the {rulebook.name} rules have no {kind} trades",
            errors=[FieldError("#/kind", f"not a trading mode of the {rulebook.name} market")],
        )
    if not mode.admits(quantity):
        upper = f" to {mode.max_quantity:,}" if mode.max_quantity is not None else " or more"
        raise RuleViolation(
            f"a {kind} trade ({mode.label}) is {mode.min_quantity:,}{upper} units "
            f"under the {rulebook.name} rules",
            errors=[FieldError("#/quantity", f"{quantity:,} is outside the {kind} order size")],
        )
    return mode


def check_price(price: Decimal, reference: Decimal, mode: Mode) -> None:
    """Refuse a price outside the mode's band around ``reference`` (a mode without a band
    takes any price)."""
    if mode.band is None:
        return
    low, high = band(reference, mode.band)
    if not low <= price <= high:
        raise RuleViolation(
            f"price {price} is outside the {mode.kind} band {low}–{high} "
            f"(reference {reference} ± {mode.band * 100:g} %)",
            errors=[FieldError("#/price", f"outside {low}–{high}", "price.outside_band")],
        )


def cash_amount(quantity: int, price: Decimal) -> Decimal:
    """Cash due for a trade: quantity × price, to the fen (exact: prices have two places)."""
    return to_fen(price * quantity)


def vwap_fen(turnover_fen: int, volume: int) -> int:
    """The volume-weighted average price in fen, rounded half up, in integers only."""
    return (2 * turnover_fen + volume) // (2 * volume)
