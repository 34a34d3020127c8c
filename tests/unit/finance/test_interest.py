"""Interest and refinancing (pure), against figures worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from finance.projects.rules.interest import (
    Drawdown,
    accrual_days,
    refinancing_amount,
    refinancing_interest,
    simple_interest,
    to_fen,
)

END = date(2027, 1, 1)
LOAN = [Drawdown(date(2026, 1, 1), D("6000000.00")), Drawdown(date(2026, 7, 1), D("4000000.00"))]


def test_days_count_the_first_day_and_not_the_last():
    assert accrual_days(date(2026, 1, 1), END) == 365
    assert accrual_days(date(2026, 7, 1), END) == 184
    assert accrual_days(END, END) == 0
    assert accrual_days(date(2027, 2, 1), END) == 0  # never negative


def test_simple_interest_is_actual_over_360_summed_then_rounded_once():
    # 6,000,000 × 0.0345 × 365/360 = 209,875.00
    # 4,000,000 × 0.0345 × 184/360 =  70,533.3333…  → total 280,408.33
    assert simple_interest(LOAN, D("0.0345"), END) == D("280408.33")


def test_refinancing_is_the_share_of_disbursed_principal_at_its_own_rate():
    # 60 % of 10,000,000.00 = 6,000,000.00
    assert refinancing_amount(LOAN, D("0.6")) == D("6000000.00")
    # 3,600,000 × 0.0175 × 365/360 = 63,875.00; 2,400,000 × 0.0175 × 184/360 = 21,466.6667
    assert refinancing_interest(LOAN, D("0.6"), D("0.0175"), END) == D("85341.67")


def test_money_rounds_half_up_to_the_fen():
    assert to_fen(D("0.005")) == D("0.01")
    assert to_fen(D("2.675")) == D("2.68")  # a float would give 2.67
    assert to_fen(D("-0.005")) == D("-0.01")


def test_one_yuan_for_one_day_at_3_6_percent_is_one_fen():
    # 1 × 0.036 × 1/360 = 0.0001 → 0.00; 100 yuan → 0.01
    assert simple_interest([Drawdown(date(2026, 1, 1), D("1"))], D("0.036"), date(2026, 1, 2)) == D(
        "0.00"
    )
    assert simple_interest(
        [Drawdown(date(2026, 1, 1), D("100"))], D("0.036"), date(2026, 1, 2)
    ) == D("0.01")


def test_no_drawdowns_accrue_nothing():
    assert simple_interest([], D("0.05"), END) == D("0.00")
    assert refinancing_amount([], D("0.6")) == D("0.00")
