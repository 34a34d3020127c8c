"""The compliance arithmetic (pure): obligations, offset caps, surrender checks, what a
correction keeps surrendered, penalties.

Units are whole tonnes (int); money is ``Decimal`` CNY. Rounding rules, each applied once:

* a share of tonnes that makes a **cap** (offsets, the shortfall cap) is rounded **down** to
  whole tonnes: a cap may never let through a tonne more than its share;
* a **penalty** is rounded to the fen, half up (四舍五入), after the whole product.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from carbon_market.compliance.rules.rulebook import PriceWindow, Rulebook

#: The largest penalty amount the ``Money`` column stores: 2^63 − 1 fen. A larger one is
#: left unassessed and named (the assessment), or leaves the penalty on record (a correction).
MAX_AMOUNT = Decimal(2**63 - 1).scaleb(-2)

FEN = Decimal("0.01")


def _floor_tonnes(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class ObligationInput:
    """What the obligation of one enterprise in one year depends on."""

    year: int
    #: The approved verified emissions, whole tonnes (the report's ``obligation_t``).
    verified_t: int
    #: The free allocation received for the year (None when not known / not allocated).
    allocation_t: int | None = None
    #: Gas-fired units fall under the national power plan's gas cap.
    is_gas_unit: bool = False


@dataclass(frozen=True)
class Obligation:
    obligation_t: int
    #: Why the obligation differs from the verified emissions, if it does.
    adjustment: str | None = None


def obligation(facts: ObligationInput, book: Rulebook) -> Obligation:
    """The units due: the verified emissions, capped where the rulebook says so.

    National power plans (2021–2022): a gas unit owes at most its free allocation; any unit
    owes at most its allocation plus ``shortfall_share_cap`` × its verified emissions, the
    share rounded down to whole tonnes.
    """
    due, why = facts.verified_t, None
    caps, allocation = book.obligation_caps, facts.allocation_t
    gas_capped = caps.gas_capped_at_allocation and facts.is_gas_unit
    if allocation is not None and gas_capped and due > allocation:
        due, why = allocation, "gas unit: capped at its free allocation"
    share = caps.shortfall_share_cap
    if allocation is not None and share is not None and facts.year in caps.shortfall_cap_years:
        cap = allocation + _floor_tonnes(share * facts.verified_t)
        if due > cap:
            due, why = cap, f"shortfall capped at {share:%} of verified emissions"
    return Obligation(due, why)


@dataclass(frozen=True)
class OffsetCaps:
    #: Most offsets that may be surrendered for the year, whole tonnes.
    total_t: int
    #: Of those, most from outside the jurisdiction (None: no separate cap).
    outside_t: int | None


def offset_caps(book: Rulebook, *, obligation_t: int, allocation_t: int | None) -> OffsetCaps:
    """The offset caps for one enterprise and year, rounded down to whole tonnes.

    National: CCERs ≤ 5 % of the units due. Beijing: offsets ≤ 5 % of the year's allocation,
    of which CCERs from projects outside Beijing ≤ 2.5 %. A basis that is not known (no
    allocation) admits no offsets.
    """
    basis = obligation_t if book.offsets.basis == "obligation" else allocation_t
    if basis is None:
        return OffsetCaps(0, 0 if book.offsets.outside_share_cap is not None else None)
    outside = book.offsets.outside_share_cap
    return OffsetCaps(
        _floor_tonnes(book.offsets.share_cap * basis),
        None if outside is None else _floor_tonnes(outside * basis),
    )


@dataclass(frozen=True)
class Surrendered:
    """What an enterprise has surrendered for a year so far."""

    allowances_t: int = 0
    offsets_t: int = 0
    outside_offsets_t: int = 0

    @property
    def total_t(self) -> int:
        return self.allowances_t + self.offsets_t


@dataclass(frozen=True)
class SurrenderRequest:
    unit_kind: str
    vintage: int
    quantity: int
    #: For offsets: the project is outside the jurisdiction (e.g. a CCER from Hebei).
    outside: bool = False


def surrender_problems(
    book: Rulebook,
    *,
    year: int,
    request: SurrenderRequest,
    obligation_t: int,
    done: Surrendered,
    caps: OffsetCaps,
) -> list[tuple[str, str]]:
    """Why a surrender may not be made, as ``(field, reason)``; empty when it may.

    Checked: the unit kind counts under the rulebook; the vintage is the year, or an earlier
    one where banking is allowed (a later one never: no borrowing); the quantity is positive
    and not more than what is still due; offsets stay within their caps.
    """
    problems: list[tuple[str, str]] = []
    counts_as = book.surrenderable.get(request.unit_kind)
    if counts_as is None:
        problems.append(("unit_kind", f"{request.unit_kind} cannot be surrendered here"))
    if request.vintage > year:
        problems.append(("vintage", f"vintage {request.vintage} is later than {year}"))
    elif request.vintage < year and not book.banking:
        problems.append(("vintage", f"banked vintage {request.vintage} is not allowed"))
    outstanding = max(obligation_t - done.total_t, 0)
    if request.quantity <= 0:
        problems.append(("quantity", "must be a positive whole number"))
    elif request.quantity > outstanding:
        problems.append(("quantity", f"more than the {outstanding} t still due"))
    if counts_as == "offset" and request.quantity > 0:
        if done.offsets_t + request.quantity > caps.total_t:
            left = max(caps.total_t - done.offsets_t, 0)
            problems.append(("quantity", f"over the offset cap: {left} t of offsets left"))
        elif (
            request.outside
            and caps.outside_t is not None
            and (done.outside_offsets_t + request.quantity > caps.outside_t)
        ):
            left = max(caps.outside_t - done.outside_offsets_t, 0)
            problems.append(("quantity", f"over the cap on outside offsets: {left} t left"))
    return problems


@dataclass(frozen=True)
class SurrenderLot:
    """One completed surrender, as a correction sees it: how many units and how they count."""

    quantity: int
    is_offset: bool = False
    #: An offset from outside the jurisdiction (counts against the outside cap too).
    is_outside: bool = False


def _trim(keep: list[int], order: Iterable[int], amount: int) -> int:
    """Take up to ``amount`` units off ``keep``, lot by lot in ``order``; returns how many."""
    taken = 0
    for i in order:
        if taken >= amount:
            break
        cut = min(keep[i], amount - taken)
        keep[i] -= cut
        taken += cut
    return taken


def kept_after_correction(
    lots: Sequence[SurrenderLot], *, obligation_t: int, caps: OffsetCaps
) -> list[int]:
    """How much of each completed surrender (``lots``, newest first) stays surrendered after a
    correction to ``obligation_t`` with the offset ``caps`` that obligation gives.

    1. Units beyond the obligation go back newest first, whatever their kind.
    2. Offsets beyond the new caps go back too, newest offset first: outside offsets beyond
       the outside cap, then any offsets beyond the total cap.
    3. The tonnes step 2 returned are made up from allowances step 1 was returning, the
       oldest of those first (as if step 1 had stopped earlier); never from other offsets
       and never from units not surrendered before, so the total kept never exceeds the
       obligation and a correction downwards never leaves a shortfall that was not there.

    Worked example (national, cap 5 % of the obligation): 500 t CCER surrendered, then 9 500
    allowances; 10 000 t corrected to 6 000 t, cap floor(5 % × 6 000) = 300 t. Step 1: the
    4 000 t excess comes off the newest, the allowances: 5 500 kept. Step 2: 500 − 300 = 200
    CCER back: 300 kept. Step 3: 200 allowances kept instead: 5 700. Kept [5 700, 300], back
    3 800 allowances and 200 CCER.
    """
    keep = [lot.quantity for lot in lots]
    _trim(keep, range(len(lots)), sum(keep) - obligation_t)
    returned_offsets = 0
    if caps.outside_t is not None:
        outside = [i for i, lot in enumerate(lots) if lot.is_offset and lot.is_outside]
        over = sum(keep[i] for i in outside) - caps.outside_t
        returned_offsets += _trim(keep, outside, over)
    offsets = [i for i, lot in enumerate(lots) if lot.is_offset]
    returned_offsets += _trim(keep, offsets, sum(keep[i] for i in offsets) - caps.total_t)
    for i in reversed(range(len(lots))):
        if returned_offsets <= 0:
            break
        if not lots[i].is_offset:
            back = min(lots[i].quantity - keep[i], returned_offsets)
            keep[i] += back
            returned_offsets -= back
    return keep


@dataclass(frozen=True)
class Penalty:
    shortfall_t: int
    multiple: Decimal
    average_price: Decimal
    amount: Decimal
    #: Deducted from next year's allocation if the shortfall is left uncorrected.
    allocation_deduction_t: int


def penalty(
    book: Rulebook, *, shortfall_t: int, multiple: Decimal, average_price: Decimal
) -> Penalty:
    """shortfall × multiple × average price, to the fen, half up.

    Raises ValueError for a multiple outside the rulebook's range, a negative shortfall or a
    negative price. Worked example (the published national case): 865 300 t short, average
    98.00 CNY/t, 5 times: 865 300 × 5 × 98.00 = 423 997 000.00 CNY.
    """
    low, high = book.penalty.multiple_min, book.penalty.multiple_max
    if not low <= multiple <= high:
        raise ValueError(f"the multiple must be between {low} and {high}, got {multiple}")
    if shortfall_t < 0 or average_price < 0:
        raise ValueError("shortfall and price cannot be negative")
    amount = (Decimal(shortfall_t) * multiple * average_price).quantize(FEN, ROUND_HALF_UP)
    deduction = shortfall_t if book.penalty.deduct_uncorrected else 0
    return Penalty(shortfall_t, multiple, average_price, amount, deduction)


def _months_back(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's length."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def price_window(book: Rulebook, year: int) -> tuple[date, date]:
    """The trading days whose average price sets the penalty: first and last, inclusive.

    The window ends on the surrender deadline and reaches back one month (national) or six
    (Beijing). A deadline on a month's last day takes whole calendar months (deadline
    2026-12-31, one month: 2026-12-01 to 2026-12-31; 2026-06-30, six months: 2026-01-01 to
    2026-06-30); any other deadline reaches back to the day after the same date N months
    earlier (2026-06-15, one month: 2026-05-16 to 2026-06-15).
    """
    last = book.deadline("surrender", year)
    months = 1 if book.penalty.price_window is PriceWindow.MONTH_BEFORE_DEADLINE else 6
    if last.day == calendar.monthrange(last.year, last.month)[1]:
        return _months_back(last.replace(day=1), months - 1), last
    return _months_back(last, months) + timedelta(days=1), last
