"""The benchmark method (基准线法) with the power sector's correction factors.

free = (output × benchmark[category] × cooling × heat supply × load rate
        + heat supplied × heat benchmark) × control factor (1 unless the plan gives one)

The corrections come from the rulebook (:mod:`allocation.rules.rulebook`): they apply to the
categories the rulebook gives a fuel (coal, gas) and are 1 elsewhere. Cooling applies to
coal units; the heat-supply factor is ``1 − c × r`` with the fuel's c; the load-rate factor
applies to pure-condensing coal units (r = 0). A correction whose data is missing is 1, the
conservative choice (every correction is ≥ 1 only where it rewards a hardship). Each factor
is stated to :data:`~allocation.rules.methods.arrays.FACTOR_PLACES` places, half up.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pandas as pd

from allocation.rules.methods.arrays import (
    ENGINE_CONTEXT,
    FACTOR_PLACES,
    FREE_PLACES,
    ONE,
    ZERO,
    Mask,
    Objects,
    column_of,
    pick,
    present,
    rounded,
    values,
    with_gaps,
)
from allocation.rules.rulebook import PowerCorrections


def load_rate_factor(rate: Objects, corrections: PowerCorrections) -> Objects:
    """The load-rate factor for load rates F (fractions, 0.82 = 82%), 6 places half up."""
    with localcontext(ENGINE_CONTEXT):
        factor = np.full(len(rate), ONE, dtype=object)
        done: Mask = (rate >= corrections.full_load).astype(bool)
        hundred_f = rate * 100
        for piece in corrections.linear:
            here = ~done & (rate >= piece.from_rate).astype(bool)
            linear = piece.base + piece.slope * (piece.pivot - hundred_f)
            factor = np.where(here, linear, factor)
            done |= here
        law = corrections.below
        exponent = law.constant - law.coefficient * rate[~done]
        factor[~done] = law.base**exponent
        return rounded(factor, FACTOR_PLACES)


def _text(column: pd.Series[Any]) -> pd.Series[Any]:
    return column.fillna("").astype(str)


def _corrections(
    frame: pd.DataFrame, fuel: pd.Series[Any], corrections: PowerCorrections
) -> tuple[Objects, Objects, Objects, Mask]:
    """(cooling, heat supply, load rate) factors and where the cooling mode is unknown."""
    is_coal = (fuel == "coal").to_numpy(dtype=bool)
    cooling_mode = _text(column_of(frame, "cooling"))
    cooling_values = cooling_mode.map(corrections.cooling)
    unknown = is_coal & (cooling_mode != "").to_numpy(dtype=bool) & ~present(cooling_values)
    cooling = pick(is_coal & present(cooling_values), values(cooling_values, ONE), ONE)
    ratio = values(column_of(frame, "heat_supply_ratio"))
    coefficient = values(fuel.map(corrections.heat_supply))
    with localcontext(ENGINE_CONTEXT):
        heat = rounded(ONE - coefficient * ratio, FACTOR_PLACES)
    load_rate = column_of(frame, "load_rate")
    condensing = is_coal & (ratio == ZERO).astype(bool) & present(load_rate)
    load = np.full(len(frame), ONE, dtype=object)
    load[condensing] = load_rate_factor(values(load_rate)[condensing], corrections)
    return cooling, heat, load, unknown


def benchmark(
    frame: pd.DataFrame,
    *,
    year: int,
    benchmarks: dict[str, Decimal],
    corrections: PowerCorrections,
    heat_benchmark: Decimal | None = None,
    control_factor: Decimal | None = None,
) -> pd.DataFrame:
    """Benchmark allocations of one sector's facilities (see the module docstring)."""
    category = _text(column_of(frame, "category"))
    bench_column = category.map(benchmarks)
    has_bench = present(bench_column)
    output_column = column_of(frame, f"output_{year}")
    has_output = present(output_column)
    heat_gj = values(column_of(frame, "heat_supplied_gj"))
    lacks_heat_benchmark = (heat_gj > ZERO).astype(bool) & (heat_benchmark is None)
    fuel = category.map(corrections.fuel_of_category)
    cooling, heat, load, unknown_cooling = _corrections(frame, fuel, corrections)
    factor = control_factor if control_factor is not None else ONE
    with localcontext(ENGINE_CONTEXT):
        bench = values(bench_column)
        electricity = values(output_column) * bench * cooling * heat * load
        heat_part = heat_gj * (heat_benchmark if heat_benchmark is not None else ZERO)
        free = rounded((electricity + heat_part) * factor, FREE_PLACES)
    ok = has_bench & has_output & ~unknown_cooling & ~lacks_heat_benchmark
    note = np.select(
        [~has_bench, ~has_output, unknown_cooling, lacks_heat_benchmark],
        [
            ("no benchmark for category '" + category + "'").to_numpy(dtype=object),
            f"no output for {year}",
            ("unknown cooling mode '" + _text(column_of(frame, "cooling")) + "'").to_numpy(
                dtype=object
            ),
            "heat supplied but the plan has no heat_benchmark",
        ],
        default="",
    )
    return pd.DataFrame(
        {
            "free_allocation": with_gaps(free, ok),
            "note": note,
            "output": with_gaps(values(output_column), has_output),
            "benchmark": with_gaps(bench, has_bench),
            "cooling_factor": cooling,
            "heat_supply_factor": heat,
            "load_rate_factor": load,
            "heat_supplied_gj": heat_gj,
            "heat_benchmark": heat_benchmark,
            "control_factor": factor,
        },
        index=frame.index,
    )
