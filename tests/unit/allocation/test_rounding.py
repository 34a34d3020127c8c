"""Cap scaling and the largest-remainder rule, against examples worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from allocation.rules.rounding import largest_remainder, scale_and_round, scale_factor


def objects(*values: str) -> np.ndarray:
    return np.array([D(v) for v in values], dtype=object)


def test_no_scaling_when_the_sum_fits_and_the_target_is_the_floor_of_the_sum():
    # 10.4 + 20.4 + 30.4 = 61.2 ≤ 100: factor 1, target floor(61.2) = 61. Floors 10 + 20 +
    # 30 = 60; one unit left: the fractional parts tie at 0.4, so the smallest id (1) gets it.
    result = scale_and_round(objects("10.4", "20.4", "30.4"), np.array([3, 1, 2]), D(100))
    assert result.scale_factor == 1
    assert result.target == 61
    assert list(result.allocation) == [10, 21, 30]


def test_scaling_multiplies_every_facility_by_budget_over_sum_rounded_down_to_12_places():
    # Sum 100 + 200 + 300.5 = 600.5 > budget 500.25: f = 500.25 / 600.5 = 0.833055786844296…
    # → 0.833055786844 (12 places, down). Scaled: 83.3055786844, 166.6111573688,
    # 250.3332639466220 (sum 500.2499999998…, ≤ 500.25). Target floor(500.25) = 500;
    # floors 83 + 166 + 250 = 499; the one unit left goes to the largest fraction (.611…).
    result = scale_and_round(objects("100", "200", "300.5"), np.array([1, 2, 3]), D("500.25"))
    assert result.scale_factor == D("0.833055786844")
    assert list(result.scaled) == [D("83.3055786844"), D("166.6111573688"), D("250.3332639466220")]
    assert list(result.allocation) == [83, 167, 250]
    assert result.allocation.sum() == 500


def test_ties_at_the_margin_go_to_the_smallest_facility_id():
    # Target 7 from 2.5 + 2.5 + 2.5 = 7.5: floors 6, one unit left among three .5 ties:
    # facility "a" (ids sort as strings when they are not numbers).
    assert list(largest_remainder(objects("2.5", "2.5", "2.5"), np.array(["c", "a", "b"]), 7)) == [
        2,
        3,
        2,
    ]


def test_the_total_never_exceeds_the_budget_even_with_many_facilities():
    rng = np.random.default_rng(3)
    values = np.array([D(int(v)) / 1000 for v in rng.integers(1, 10**9, 5000)], dtype=object)
    result = scale_and_round(values, np.arange(5000), D("1234567.89"))
    assert result.allocation.sum() == 1234567
    assert scale_factor(D(5), D(5)) == 1


def test_a_factor_too_coarse_for_the_budget_targets_the_floor_of_the_scaled_sum():
    # 3 × 500,000,000,000,000 t (a facilities file takes 15 digits) into 999,999,999,999:
    # f = 0.000666666666666 exactly, rounded down to 12 places 0.000666666666. Scaled:
    # 333,333,333,000 each, 999,999,999,000 in all: 999 units short of floor(budget), more
    # than one unit each can make up. That raised ValueError (a 500, a CLI traceback); the
    # target is then the floor of the scaled sum, and the total stays within the budget.
    big = "500000000000000"
    result = scale_and_round(objects(big, big, big), np.array([1, 2, 3]), D("999999999999"))
    assert result.scale_factor == D("0.000666666666")
    assert result.target == 999_999_999_000
    assert list(result.allocation) == [333_333_333_000] * 3
