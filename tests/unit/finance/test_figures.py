"""Pro-rated expected reductions, ratios and cost per tonne (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from finance.projects.rules.figures import cost_per_tonne, expected_for_period, period_days, ratio


def test_a_calendar_year_expects_exactly_the_annual_figure():
    assert period_days(date(2025, 1, 1), date(2025, 12, 31)) == 365
    assert expected_for_period(D("7300"), date(2025, 1, 1), date(2025, 12, 31)) == D("7300.000")


def test_a_quarter_is_pro_rated_by_its_days_over_365():
    # Q1 2026 has 90 days: 7,300 × 90/365 = 1,800
    assert expected_for_period(D("7300"), date(2026, 1, 1), date(2026, 3, 31)) == D("1800.000")
    # One day of 1,000 t a year: 1,000/365 = 2.7397… → 2.740
    assert expected_for_period(D("1000"), date(2026, 1, 1), date(2026, 1, 1)) == D("2.740")


def test_a_leap_year_expects_one_day_more_than_the_annual_figure():
    # 2028 has 366 days: 365 × 366/365 = 366
    assert expected_for_period(D("365"), date(2028, 1, 1), date(2028, 12, 31)) == D("366.000")


def test_ratio_is_four_places_half_up_and_none_over_zero():
    assert ratio(D("2"), D("3")) == D("0.6667")
    assert ratio(D("1"), D("0")) is None


def test_cost_per_tonne_is_to_the_fen_and_none_before_any_tonne():
    # 36,500,000 ÷ 8,550.5 = 4,268.7562… → 4,268.76
    assert cost_per_tonne(D("36500000.00"), D("8550.500")) == D("4268.76")
    assert cost_per_tonne(D("1000.00"), D("0.000")) is None
