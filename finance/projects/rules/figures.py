"""Monitoring figures of one project (pure): the expected reduction pro-rated to a period,
achievement and cost per tonne.

* Expected reduction for a period = expected annual reduction × days in the period (both
  ends counted) / 365, rounded half up to 0.001 t. A 365-day year gets exactly the annual
  figure; a leap year's 366 days get 1/365 more, which we accept for a rule anyone can
  check by hand.
* Cost per tonne to date = total investment ÷ reductions achieved to date (CNY/tCO2e, to
  the fen); None until something has been achieved.
* Expected cost per annual tonne = total investment ÷ expected annual reduction: what one
  tonne a year of abatement costs up front, comparable across projects before they report.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from finance.projects.rules.interest import to_fen

DAYS_PER_YEAR = 365
TONNE_PLACES = Decimal("0.001")
RATIO_PLACES = Decimal("0.0001")


def period_days(start: date, end: date) -> int:
    """Days of a reporting period, both ends counted."""
    return (end - start).days + 1


def expected_for_period(annual_t: Decimal, start: date, end: date) -> Decimal:
    """The expected annual reduction pro-rated to the period, to 0.001 t half up."""
    exact = annual_t * period_days(start, end) / DAYS_PER_YEAR
    return exact.quantize(TONNE_PLACES, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """``numerator / denominator`` to four places half up; None when dividing by zero."""
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def cost_per_tonne(investment: Decimal, tonnes: Decimal) -> Decimal | None:
    """CNY per tonne, to the fen; None when no tonnes (yet)."""
    if tonnes == 0:
        return None
    return to_fen(investment / tonnes)
