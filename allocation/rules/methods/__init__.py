"""The allocation methods: pure, vectorised functions over a DataFrame of facilities.

Each takes the facilities of one sector (one row per facility, the columns of
``docs/allocation.md``, decimals as ``Decimal`` objects or None) and the sector's parameters,
and returns a frame on the same index with ``free_allocation`` (a ``Decimal`` at
:data:`~allocation.rules.methods.arrays.FREE_PLACES` places, or None when the facility cannot be
allocated), ``note`` (why not, or "") and one column per factor used (the breakdown).
"""

from allocation.rules.methods.benchmark import benchmark
from allocation.rules.methods.historical import historical_emissions, historical_intensity

__all__ = ["benchmark", "historical_emissions", "historical_intensity"]
