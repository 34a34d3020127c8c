"""Review flags: supplied fuel factors outside their expected range, and monthly jumps."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from carbon_market.mrv.calculator import emissions as calc
from carbon_market.mrv.calculator.factor_sets import default_library
from carbon_market.mrv.reports.review import (
    FUEL_RANGE,
    MONTHLY_JUMP,
    FuelRange,
    MonthlyPoint,
    Series,
    default_fuel_ranges,
    jump_flags,
    range_flags,
)

GAS = Series(facility=7, kind="fuel", code="natural_gas")
RATIO = D("1.5")


def _breakdown(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    document = calc.result_as_json(calc.calculate_document({"year": 2025, "streams": streams}))
    return document["streams"]  # type: ignore[no-any-return]


def test_every_shipped_range_admits_the_default_set_and_cites_a_source() -> None:
    # The cn-default values must never be flagged when an enterprise restates them.
    ranges = default_fuel_ranges()
    (default_set,) = [s for s in default_library().sets if s.name == "cn-default"]
    assert set(default_set.fuels) == {fuel for fuel, _ in ranges}
    for fuel in default_set.fuels.values():
        for name in ("ncv", "carbon_content", "oxidation_rate"):
            expected = ranges[(fuel.code, name)]
            assert expected.low <= getattr(fuel, name) <= expected.high, (fuel.code, name)
    assert all(r.source.strip() for r in ranges.values())


def test_a_supplied_factor_outside_the_range_is_flagged_and_one_inside_is_not() -> None:
    # raw coal NCV 35 GJ/t is above the expected 11.5–32.2; carbon content 0.02618 tC/GJ and
    # oxidation rate 0.94 lie inside their ranges.
    streams = _breakdown(
        [
            {"kind": "fuel", "fuel": "raw_coal", "quantity": "10", "unit": "t",
             "factors": {"ncv": "35", "carbon_content": "0.02618", "oxidation_rate": "0.94"}},
        ]
    )  # fmt: skip
    flags = range_flags(streams)
    assert [(f.code, f.stream, f.field, f.value) for f in flags] == [
        (FUEL_RANGE, 0, "factors/ncv", D("35"))
    ]
    assert "11.5–32.2" in flags[0].detail
    assert flags[0].as_dict()["pointer"] == "#/streams/0/factors/ncv"


def test_set_defaults_are_not_checked_only_what_the_enterprise_supplied() -> None:
    # A range that excludes the default NCV flags nothing when the stream does not override.
    streams = _breakdown([{"kind": "fuel", "fuel": "diesel", "quantity": "5", "unit": "t"}])
    narrow = {("diesel", "ncv"): FuelRange("diesel", "ncv", D("1"), D("2"), "GJ/t", "test")}
    assert range_flags(streams, narrow) == []


def test_low_oxidation_rate_and_non_fuel_streams() -> None:
    # oxidation rate 0.5 for natural gas is below 0.97; electricity has no fuel range.
    streams = _breakdown(
        [
            {"kind": "electricity", "quantity": "5", "unit": "MWh", "factors": {"grid": "9"}},
            {"kind": "fuel", "fuel": "natural_gas", "quantity": "1", "unit": "10^4 Nm3",
             "factors": {"oxidation_rate": "0.5"}},
        ]
    )  # fmt: skip
    assert [(f.stream, f.field) for f in range_flags(streams)] == [(1, "factors/oxidation_rate")]


def _point(year: int, month: int, quantity: str, stream: int | None = None) -> MonthlyPoint:
    return MonthlyPoint(GAS, year, month, D(quantity), stream)


@pytest.mark.parametrize(
    ("this_year", "flagged"),
    [
        ("151", True),  # 151 > 1.5 × 100 = 150
        ("150", False),  # exactly 1.5 times is not more
        ("67", False),  # 67 × 1.5 = 100.5 is not below 100
        ("66", True),  # 66 × 1.5 = 99 < 100
    ],
)
def test_a_month_is_compared_with_the_same_month_last_year(this_year: str, flagged: bool) -> None:
    history = [_point(2024, 3, "100"), _point(2025, 2, "1"), _point(2025, 1, "1")]
    flags = jump_flags([_point(2025, 3, this_year, stream=4)], history, RATIO)
    assert [(f.code, f.stream) for f in flags] == ([(MONTHLY_JUMP, 4)] if flagged else [])
    if flagged:
        assert "2024-03" in flags[0].detail


@pytest.mark.parametrize(("april", "flagged"), [("166", True), ("165", False), ("73", True)])
def test_without_last_year_the_three_months_before_are_the_reference(
    april: str, flagged: bool
) -> None:
    # January 100, February 110, March 120: sum 330 (mean 110). April 166: 166 × 3 = 498 >
    # 1.5 × 330 = 495, flagged; 165: 495 is not more. 73: 73 × 3 × 1.5 = 328.5 < 330, flagged.
    current = [
        _point(2025, 1, "100", 0),
        _point(2025, 2, "110", 1),
        _point(2025, 3, "120", 2),
        _point(2025, 4, april, 3),
    ]
    flags = jump_flags(current, [], RATIO)
    assert [f.stream for f in flags] == ([3] if flagged else [])
    if flagged:
        assert "mean of 2025-01..2025-03" in flags[0].detail
        assert "110.000000" in flags[0].detail


def test_without_three_months_before_there_is_no_reference_and_no_flag() -> None:
    # February 2025 has only January before it and no February 2024: nothing to compare.
    current = [_point(2025, 1, "1", 0), _point(2025, 2, "500", 1)]
    assert jump_flags(current, [], RATIO) == []


def test_the_three_month_window_reaches_into_last_year() -> None:
    # January 2025: October to December 2024 sum 30 (mean 10): 100 × 3 = 300 > 1.5 × 30 = 45.
    # February 2025: November, December 2024 and January 2025 sum 10 + 10 + 100 = 120:
    # 150 × 3 = 450 > 1.5 × 120 = 180, flagged too; 60 would not be (180 ≤ 180).
    history = [_point(2024, 10, "10"), _point(2024, 11, "10"), _point(2024, 12, "10")]
    current = [_point(2025, 1, "100", 0), _point(2025, 2, "150", 1)]
    flags = jump_flags(current, history, RATIO)
    assert [f.stream for f in flags] == [0, 1]
    assert "mean of 2024-10..2024-12" in flags[0].detail
    quiet = [_point(2025, 1, "100", 0), _point(2025, 2, "60", 1)]
    assert [f.stream for f in jump_flags(quiet, history, RATIO)] == [0]


def test_streams_of_one_month_are_added_before_comparing() -> None:
    # Two streams of March 2025 of 80 each make 160 > 1.5 × 100: both streams are flagged.
    # Another series of the same month is compared on its own.
    history = [_point(2024, 3, "100"), MonthlyPoint(GAS._replace(facility=8), 2024, 3, D("100"))]
    current = [
        _point(2025, 3, "80", 0),
        _point(2025, 3, "80", 1),
        MonthlyPoint(GAS._replace(facility=8), 2025, 3, D("80"), 2),
    ]
    assert [f.stream for f in jump_flags(current, history, RATIO)] == [0, 1]


def test_from_zero_to_something_is_a_jump_and_zero_to_zero_is_not() -> None:
    history = [_point(2024, 5, "0"), _point(2024, 6, "0")]
    current = [_point(2025, 5, "3", 0), _point(2025, 6, "0", 1)]
    assert [f.stream for f in jump_flags(current, history, RATIO)] == [0]


def test_the_ratio_must_be_above_one() -> None:
    with pytest.raises(ValueError, match="above 1"):
        jump_flags([], [], D("1"))
