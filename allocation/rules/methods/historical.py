"""Grandfathering: the historical-emissions (历史总量法) and historical-intensity (历史强度法)
methods.

Pure: no database, no web: values in, values out.

A base year counts for a facility when it has the figure the method needs for that year
(verified emissions; for intensities also a positive output); the mean is over the base
years that count, and a facility with none cannot be allocated. Worked examples:
``docs/allocation.md`` and ``tests/unit/allocation/test_methods.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

import numpy as np
import pandas as pd

from allocation.rules.methods.arrays import (
    ENGINE_CONTEXT,
    FREE_PLACES,
    ONE,
    ZERO,
    column_of,
    pick,
    present,
    rounded,
    values,
    with_gaps,
)

#: The base-year mean of emissions is stated to 6 places (1 g), half up, before the control
#: factor; the mean intensity to 10 places, half up, before output × control factor.
MEAN_PLACES = 6
INTENSITY_PLACES = 10


def _span(base_years: Sequence[int]) -> str:
    return f"{base_years[0]}–{base_years[-1]}" if len(base_years) > 1 else str(base_years[0])


def historical_emissions(
    frame: pd.DataFrame, *, base_years: Sequence[int], control_factor: Decimal
) -> pd.DataFrame:
    """free = mean(verified emissions over the base years with data) × control_factor."""
    with localcontext(ENGINE_CONTEXT):
        total = np.full(len(frame), ZERO, dtype=object)
        count = np.zeros(len(frame), dtype=np.int64)
        for year in base_years:
            column = column_of(frame, f"emissions_{year}")
            total = total + values(column)
            count += present(column)
        has_data = count > 0
        mean = rounded(total / np.where(has_data, count, 1).astype(object), MEAN_PLACES)
        free = rounded(mean * control_factor, FREE_PLACES)
    note = np.where(has_data, "", f"no verified emissions in the base years {_span(base_years)}")
    return pd.DataFrame(
        {
            "free_allocation": with_gaps(free, has_data),
            "note": note,
            "base_years_used": count,
            "base_mean_emissions": with_gaps(mean, has_data),
            "control_factor": control_factor,
        },
        index=frame.index,
    )


def historical_intensity(
    frame: pd.DataFrame, *, year: int, base_years: Sequence[int], control_factor: Decimal
) -> pd.DataFrame:
    """free = output(year) × mean(emissions ÷ output, year by year over the base years with
    both figures and a positive output) × control_factor."""
    with localcontext(ENGINE_CONTEXT):
        total = np.full(len(frame), ZERO, dtype=object)
        count = np.zeros(len(frame), dtype=np.int64)
        for base in base_years:
            emissions, output = (column_of(frame, f"{k}_{base}") for k in ("emissions", "output"))
            out = values(output)
            usable = present(emissions) & present(output) & (out > ZERO).astype(bool)
            ratio = values(emissions) / pick(usable, out, ONE)
            total = total + pick(usable, ratio, ZERO)
            count += usable
        current = column_of(frame, f"output_{year}")
        has_output = present(current)
        has_data = count > 0
        mean = rounded(total / np.where(has_data, count, 1).astype(object), INTENSITY_PLACES)
        free = rounded(values(current) * mean * control_factor, FREE_PLACES)
    ok = has_data & has_output
    note = np.where(
        ~has_data,
        f"no verified emissions with output in the base years {_span(base_years)}",
        np.where(has_output, "", f"no output for {year}"),
    )
    return pd.DataFrame(
        {
            "free_allocation": with_gaps(free, ok),
            "note": note,
            "base_years_used": count,
            "mean_intensity": with_gaps(mean, has_data),
            "output": with_gaps(values(current), has_output),
            "control_factor": control_factor,
        },
        index=frame.index,
    )
