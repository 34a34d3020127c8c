"""The methods and the power corrections against examples worked by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from allocation.rules.methods import benchmark, historical_emissions, historical_intensity
from allocation.rules.methods.benchmark import load_rate_factor
from allocation.rules.rulebook import default_corrections

RULES = default_corrections()


def frame(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})


def test_historical_emissions_is_the_mean_of_the_base_years_with_data_times_the_control_factor():
    # Facility 1: (1 000 + 1 100 + 1 300) / 3 = 1 133.333333… → 1 133.333333 (6 places, half
    # up); × 0.97 = 1 099.33333301 → 1 099.333333.
    # Facility 2: 2023 missing: (500 + 700) / 2 = 600; × 0.97 = 582.
    # Facility 3: no data at all: not allocable.
    out = historical_emissions(
        frame(
            emissions_2022=[D(1000), D(500), None],
            emissions_2023=[D(1100), None, None],
            emissions_2024=[D(1300), D(700), None],
        ),
        base_years=[2022, 2023, 2024],
        control_factor=D("0.97"),
    )
    assert list(out["base_mean_emissions"][:2]) == [D("1133.333333"), D("600.000000")]
    assert list(out["free_allocation"]) == [D("1099.333333"), D("582.000000"), None]
    assert list(out["base_years_used"]) == [3, 2, 0]
    assert out["note"][2] == "no verified emissions in the base years 2022–2024"


def test_historical_intensity_averages_year_by_year_intensities_and_applies_this_years_output():
    # Intensities: 2022 300/100 = 3, 2023 330/110 = 3, 2024 420/120 = 3.5; mean = 9.5/3 =
    # 3.1666666666… → 3.1666666667 (10 places). Output 2025 = 130: 130 × 3.1666666667 × 0.98
    # = 403.433333337… → 403.433333.
    out = historical_intensity(
        frame(
            emissions_2022=[D(300), D(10)],
            emissions_2023=[D(330), D(10)],
            emissions_2024=[D(420), D(10)],
            output_2022=[D(100), D(0)],
            output_2023=[D(110), None],
            output_2024=[D(120), D(5)],
            output_2025=[D(130), None],
        ),
        year=2025,
        base_years=[2022, 2023, 2024],
        control_factor=D("0.98"),
    )
    assert out["mean_intensity"][0] == D("3.1666666667")
    assert out["free_allocation"][0] == D("403.433333")
    # Facility 2: only 2024 counts (2022 has zero output, 2023 none), but 2025 has no output.
    assert out["base_years_used"][1] == 1
    assert out["free_allocation"][1] is None
    assert out["note"][1] == "no output for 2025"


@pytest.mark.parametrize(
    ("rate", "factor"),
    [
        # F ≥ 85%: 1.
        ("0.90", "1.000000"),
        ("0.85", "1.000000"),
        # 80% ≤ F < 85%: 1 + 0.0014 × (85 − 82) = 1.0042.
        ("0.82", "1.004200"),
        # 75% ≤ F < 80%: 1.007 + 0.0016 × (80 − 78) = 1.0102.
        ("0.78", "1.010200"),
        # F < 75%: 1.015^(16 − 20 × 0.70) = 1.015^2 = 1.030225.
        ("0.70", "1.030225"),
        # 1.015^(16 − 20 × 0.6) = 1.015^4 = 1.061363550625 → 1.061364 (6 places, half up).
        ("0.6", "1.061364"),
    ],
)
def test_load_rate_factor_follows_the_national_plans_piecewise_formula(rate, factor):
    assert load_rate_factor(np.array([D(rate)], dtype=object), RULES)[0] == D(factor)


def test_benchmark_applies_cooling_heat_supply_and_load_rate_corrections():
    units = frame(
        category=["coal_300mw_plus", "coal_300mw_below", "gas", "coal_300mw_plus"],
        output_2025=[D(1000), D(2000), D(1000), D(100)],
        cooling=["air", "water", "", ""],
        heat_supply_ratio=[D(0), D("0.3"), D("0.5"), None],
        load_rate=[D("0.82"), None, None, D("0.70")],
        heat_supplied_gj=[None, D(1000), D(2000), None],
    )
    out = benchmark(
        units,
        year=2025,
        benchmarks={
            "coal_300mw_plus": D("0.7950"),
            "coal_300mw_below": D("0.8218"),
            "gas": D("0.3305"),
        },
        heat_benchmark=D("0.1260"),
        corrections=RULES,
    )
    # 1: air-cooled pure-condensing coal at F = 82%: 1000 × 0.7950 × 1.05 × 1 × 1.0042
    #    = 838.255950.
    # 2: water-cooled coal with r = 0.3: heat factor 1 − 0.22 × 0.3 = 0.934; no load factor
    #    (not pure condensing): 2000 × 0.8218 × 1 × 0.934 = 1 535.1224; heat 1000 × 0.1260
    #    = 126; total 1 661.122400.
    # 3: gas with r = 0.5: 1 − 0.6 × 0.5 = 0.7: 1000 × 0.3305 × 0.7 = 231.35; heat
    #    2000 × 0.1260 = 252; total 483.350000.
    # 4: coal, no cooling given (1), r empty (0), F = 70%: 100 × 0.7950 × 1.030225
    #    = 81.90288750 → 81.902888.
    assert list(out["free_allocation"]) == [
        D("838.255950"),
        D("1661.122400"),
        D("483.350000"),
        D("81.902888"),
    ]
    assert list(out["cooling_factor"]) == [D("1.05"), D(1), D(1), D(1)]
    assert list(out["heat_supply_factor"]) == [D(1), D("0.934"), D("0.7"), D(1)]
    assert list(out["load_rate_factor"]) == [D("1.0042"), D(1), D(1), D("1.030225")]


def test_benchmark_leaves_a_facility_without_a_benchmark_for_its_category_unallocated():
    out = benchmark(
        frame(category=["coal_unconventional"], output_2025=[D(10)]),
        year=2025,
        benchmarks={"gas": D("0.3305")},
        corrections=RULES,
    )
    assert out["free_allocation"][0] is None
    assert out["note"][0] == "no benchmark for category 'coal_unconventional'"
