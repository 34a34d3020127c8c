"""The year-end forecast and early warning (pure): 以月保年.

Where an enterprise files monthly activity data during the year, its year-end emissions can
be projected long before the verified report exists, and compared with what it holds, so a
likely shortfall — and what it would cost — is known while there is still time to buy.

Projection methods, the first that applies:

* ``complete``: all twelve months are filed; the projection is their sum.
* ``seasonal``: last year's report has all twelve months; this year's filed months are
  scaled by last year's whole-year total over last year's same months. A cement plant that
  emits most in spring projects correctly from a spring-heavy first half.
* ``run_rate``: the mean of the filed months × 12.
* ``annual_only``: nothing monthly, only streams filed for the whole year; taken as is.

Streams filed for the whole year are added to every projection as they stand. The projected
emissions are rounded once, half up, to whole tonnes, as the obligation will be
(``mrv.calc.obligation``), and then capped by the rulebook as a real obligation would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from carbon_market.compliance.rules.obligations import (
    FEN,
    ObligationInput,
    Surrendered,
    obligation,
    offset_caps,
    penalty,
)
from carbon_market.compliance.rules.rulebook import Rulebook

MONTHS = range(1, 13)


@dataclass(frozen=True)
class Projection:
    #: The projected year's CO2, full precision, tonnes.
    co2_t: Decimal
    #: Rounded half up to whole tonnes, as an obligation is.
    projected_t: int
    method: str
    months_filed: int


def project(
    months: Mapping[int, Decimal],
    *,
    annual: Decimal = Decimal(0),
    last_year: Mapping[int, Decimal] | None = None,
) -> Projection | None:
    """Project the year's emissions from the months filed so far; None with nothing filed.

    Worked example (seasonal): January–March filed as 100, 120, 80 t (300 t); last year's
    same months were 90, 110, 100 t (300 t) of a 1 500 t year, so the projection is
    300 × 1 500 ÷ 300 = 1 500 t.
    """
    filed = {m: months[m] for m in MONTHS if m in months}
    if not filed and annual == 0:
        return None
    so_far = sum(filed.values(), Decimal(0))
    if len(filed) == 12:
        co2, method = so_far, "complete"
    elif filed and last_year is not None and all(m in last_year for m in MONTHS):
        same = sum((last_year[m] for m in filed), Decimal(0))
        whole = sum((last_year[m] for m in MONTHS), Decimal(0))
        if same > 0:
            co2, method = so_far * whole / same, "seasonal"
        else:
            co2, method = so_far / len(filed) * 12, "run_rate"
    elif filed:
        co2, method = so_far / len(filed) * 12, "run_rate"
    else:
        co2, method = Decimal(0), "annual_only"
    co2 += annual
    whole_t = int(co2.to_integral_value(rounding=ROUND_HALF_UP))
    return Projection(co2, whole_t, method, len(filed))


@dataclass(frozen=True)
class Position:
    """What the enterprise holds towards the year and has already surrendered for it."""

    #: Allowances in its compliance account of vintages the year's surrender accepts.
    allowances_held_t: int
    #: Offsets in its compliance account of kinds and vintages the surrender accepts.
    offsets_held_t: int
    surrendered: Surrendered
    #: The free allocation for the year (the basis of caps), when known.
    allocation_t: int | None = None
    is_gas_unit: bool = False


@dataclass(frozen=True)
class Outlook:
    projected_t: int
    #: The projected obligation after the rulebook's caps.
    obligation_t: int
    #: Surrendered already + allowances held + the offsets the cap still admits.
    covered_t: int
    expected_shortfall_t: int
    #: The expected shortfall bought at the market price, to the fen (None without a price).
    expected_cost: Decimal | None
    #: The penalty at the rulebook's lowest multiple if the shortfall is not covered.
    penalty_exposure: Decimal | None

    @property
    def warn(self) -> bool:
        return self.expected_shortfall_t > 0


def outlook(
    projection: Projection,
    position: Position,
    book: Rulebook,
    *,
    year: int,
    price: Decimal | None,
) -> Outlook:
    """Compare a projection with the enterprise's position.

    Offsets held count only up to what the offset cap still admits: holding 10 000 t of
    CCERs under a 4 000 t cap (1 000 t already surrendered) covers 3 000 t more.
    """
    due = obligation(
        ObligationInput(year, projection.projected_t, position.allocation_t, position.is_gas_unit),
        book,
    ).obligation_t
    caps = offset_caps(book, obligation_t=due, allocation_t=position.allocation_t)
    offsets_room = max(caps.total_t - position.surrendered.offsets_t, 0)
    covered = (
        position.surrendered.total_t
        + position.allowances_held_t
        + min(position.offsets_held_t, offsets_room)
    )
    short = max(due - covered, 0)
    cost = exposure = None
    if price is not None:
        cost = (Decimal(short) * price).quantize(FEN, ROUND_HALF_UP)
        exposure = penalty(
            book, shortfall_t=short, multiple=book.penalty.multiple_min, average_price=price
        ).amount
    return Outlook(projection.projected_t, due, covered, short, cost, exposure)
