"""Exact decimal arithmetic over numpy object arrays, and the engine's rounding rules.

Pure: no database, no web: values in, values out.

pandas and numpy apply ``+ - * /`` and comparisons to object arrays element by element in C,
calling ``Decimal``'s own operators: exact, and no Python loop of ours. Sums and products of
the inputs are exact under :data:`ENGINE_CONTEXT` (60 significant digits is more than any
product of inputs needs); only quotients (means, intensities, the scaling factor) and the
load-rate power are inexact, and each is rounded by a named rule below.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Significant digits of every engine operation; quotients are rounded at this precision
#: (half up) before the named rounding of the result.
ENGINE_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)
#: A facility's free allocation is stated to 6 places (1 g), half up, like stored tonnes.
FREE_PLACES = 6
#: Correction factors are stated to 6 places, half up (the national plans publish ≤ 4).
FACTOR_PLACES = 6
ZERO = Decimal(0)
ONE = Decimal(1)

Objects = npt.NDArray[np.object_]
Mask = npt.NDArray[np.bool_]

#: numpy's stubs know no Decimal: the ufunc is typed loosely.
_quantize: Any = np.frompyfunc(Decimal.quantize, 2, 1)


def present(column: pd.Series[Any]) -> Mask:
    """Where a column holds a value (not None/NaN)."""
    return np.asarray(column.notna().to_numpy(), dtype=bool)


def values(column: pd.Series[Any], fill: Decimal = ZERO) -> Objects:
    """The column as an object array of Decimals, ``fill`` where it is empty."""
    out = column.to_numpy(dtype=object, copy=True)
    out[~present(column)] = fill
    return out


def rounded(array: Objects, places: int) -> Objects:
    """Every element quantized to ``places`` decimal places, half up (四舍五入)."""
    if len(array) == 0:
        return array
    quantum = Decimal(1).scaleb(-places)
    out: Objects = np.asarray(_quantize(array, quantum), dtype=np.object_)
    return out


def column_of(frame: pd.DataFrame, name: str) -> pd.Series[Any]:
    """A column, or an all-empty one when the input does not have it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def with_gaps(array: Objects, mask: Mask) -> Objects:
    """``array`` with None where ``mask`` is False."""
    out = array.copy()
    out[~mask] = None
    return out


def pick(mask: Any, yes: Any, no: Any) -> Objects:
    """``np.where`` over object arrays and Decimal scalars (numpy's stubs know no Decimal)."""
    out: Objects = np.where(mask, yes, no)
    return out
