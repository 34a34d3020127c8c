"""Interest on financing and the central bank's carbon-reduction refinancing (pure).

Convention (documented in ``docs/finance.md``, worked examples in the tests):

* simple interest, day count actual/360 as Chinese loan practice quotes it: each
  disbursement accrues ``amount × annual rate × days / 360``, where ``days`` runs from the
  disbursement date (counted) to the financing's end date (not counted);
* the support tool refinances ``share`` (60 % by default) of every disbursed amount at the
  refinancing rate (1.75 % by default), over the same days: refinancing interest is
  ``amount × share × refinancing rate × days / 360``;
* every figure is summed exactly and rounded once, to the fen, half up (四舍五入).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

DAY_COUNT_BASIS = 360
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Drawdown:
    """One disbursement: ``amount`` CNY paid out on ``on``."""

    on: date
    amount: Decimal


def to_fen(value: Decimal) -> Decimal:
    """Round CNY to the fen, half up: the one rounding rule for money here."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def accrual_days(start: date, end: date) -> int:
    """Days from ``start`` (counted) to ``end`` (not counted); never negative."""
    return max(0, (end - start).days)


def _accrued(drawdowns: Iterable[Drawdown], rate: Decimal, end: date) -> Decimal:
    return sum(
        (d.amount * rate * accrual_days(d.on, end) / DAY_COUNT_BASIS for d in drawdowns),
        Decimal(0),
    )


def simple_interest(drawdowns: Iterable[Drawdown], rate: Decimal, end: date) -> Decimal:
    """Interest on every disbursement until ``end`` at the annual ``rate``, actual/360."""
    return to_fen(_accrued(drawdowns, rate, end))


def refinancing_amount(drawdowns: Iterable[Drawdown], share: Decimal) -> Decimal:
    """The central bank's refinancing: ``share`` of the disbursed principal."""
    return to_fen(sum((d.amount for d in drawdowns), Decimal(0)) * share)


def refinancing_interest(
    drawdowns: Iterable[Drawdown], share: Decimal, rate: Decimal, end: date
) -> Decimal:
    """Interest the lender pays the central bank on the refinanced share, actual/360."""
    return to_fen(_accrued(drawdowns, rate, end) * share)
