"""Cap scaling and whole allowances by the largest-remainder rule (pure).

1. The free budget is cap × (1 − reserve_share − auction_share).
2. When the facilities' free allocations add up to more than the budget, each is multiplied
   by one factor f = budget ÷ sum, **rounded down** to :data:`SCALE_PLACES` places, so that
   Σ free × f ≤ budget always holds; the products are exact.
3. Each facility gets the floor of its (scaled) value; the units left up to the target —
   floor(budget) when scaling applied, else floor(sum) — go one each to the largest
   fractional parts, ties by ascending facility id. The total never exceeds the budget.
   When the factor's rounding leaves the scaled sum more than one unit per facility short
   of floor(budget) (only for totals around 10**12 times the facility count), the target is
   floor(Σ scaled) instead: the rule cannot give a facility more than one unit over its
   floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext

import numpy as np
import numpy.typing as npt

from allocation.rules.methods.arrays import ENGINE_CONTEXT, ONE, ZERO, Objects

SCALE_PLACES = 12
#: Fractional parts have at most 6 (free) + 12 (factor) places: × 10**18 they are exact
#: integers below 10**18, which fit in int64 and sort exactly.
FRACTION_SCALE = Decimal(10) ** 18


@dataclass(frozen=True)
class Rounded:
    scale_factor: Decimal
    #: The free allocations after scaling (exact), and the whole allowances.
    scaled: Objects
    allocation: npt.NDArray[np.int64]
    #: The total the whole allowances add up to.
    target: int


def scale_factor(total: Decimal, budget: Decimal) -> Decimal:
    """1 when the total fits the budget, else budget ÷ total rounded down to 12 places."""
    if total <= budget:
        return ONE
    with localcontext(ENGINE_CONTEXT):
        return (budget / total).quantize(Decimal(1).scaleb(-SCALE_PLACES), rounding=ROUND_DOWN)


def largest_remainder(
    values: Objects, ids: npt.NDArray[np.generic], target: int
) -> npt.NDArray[np.int64]:
    """Whole units adding up to ``target``: floors, then one more to each of the
    ``target − Σ floors`` largest fractional parts (ties: ascending ``ids``)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    with localcontext(ENGINE_CONTEXT):
        floors = values // 1  # Decimal // truncates: the floor for these non-negative values
        fractions = ((values - floors) * FRACTION_SCALE).astype(np.int64)
    whole: npt.NDArray[np.int64] = floors.astype(np.int64)
    left = target - int(whole.sum())
    if not 0 <= left <= len(values):
        raise ValueError(f"cannot distribute {left} units over {len(values)} facilities")
    order = np.lexsort((ids, -fractions))
    whole[order[:left]] += 1
    return whole


def scale_and_round(values: Objects, ids: npt.NDArray[np.generic], budget: Decimal) -> Rounded:
    """Scale ``values`` into ``budget`` if they exceed it, then round to whole units."""
    with localcontext(ENGINE_CONTEXT):
        total = values.sum() if len(values) else ZERO
        factor = scale_factor(total, budget)
        scaled = values * factor if factor != ONE else values
        target = int(budget // 1) if factor != ONE else int(total // 1)
        if factor != ONE and target - int((scaled // 1).sum()) > len(values):
            target = int(scaled.sum() // 1)  # see the module docstring, step 3
    return Rounded(factor, scaled, largest_remainder(scaled, ids, target), target)
