"""The engine over facilities of several sectors, each with its own method."""

from __future__ import annotations

import io
from decimal import Decimal as D

from allocation.files import read_facilities
from allocation.rules.engine import BREAKDOWN, compute
from allocation.rules.plan import parse_plan

PLAN = parse_plan(
    {
        "year": 2025,
        "cap": 100000,
        "reserve_share": "0.05",
        "auction_share": "0.03",
        "base_years": [2023, 2024],
        "sectors": {
            "cement": {"method": "historical_emissions", "control_factor": "0.97"},
            "power": {"method": "benchmark", "benchmarks": {"gas": "0.3305"}},
        },
    }
)
FILE = (
    "facility_id,enterprise,sector,category,emissions_2023,emissions_2024,output_2025,"
    "cooling,heat_supply_ratio,load_rate,heat_supplied_gj\n"
    "1,A,cement,,100,120,,,,,\n"
    "2,B,power,gas,,,1000,,0,,\n"
)


def test_a_factor_another_sectors_method_lacks_is_none_not_nan() -> None:
    results = compute(PLAN, read_facilities(io.BytesIO(FILE.encode()))).results
    kiln, unit = results.to_dict("records")
    # The kiln: (100 + 120) / 2 × 0.97 = 106.7; the gas unit: 1000 × 0.3305 = 330.5 (gas,
    # no heat supplied: every correction factor 1). Budget 92 000: no scaling.
    assert (kiln["free_allocation"], unit["free_allocation"]) == (D("106.7"), D("330.5"))
    assert (kiln["allocation"], unit["allocation"]) == (107, 330)
    # Each row has only its own method's factors; the others are None, never float NaN.
    assert kiln["benchmark"] is None
    assert unit["base_mean_emissions"] is None
    for row in (kiln, unit):
        assert not any(isinstance(row[name], float) for name in BREAKDOWN), row
