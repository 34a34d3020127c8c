"""A report's output for the year: the denominators of its intensity indicators.

A value, no logic: the model returns it (``EmissionReport.output``), the schemas load it and
the pure indicators (``indicators.py``) divide by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Output:
    """What the enterprise produced in the year, as the denominators of its intensities:
    a physical quantity in a free-text unit (``t clinker``, ``MWh``) and/or the output value
    in 10⁴ CNY (万元). Both are positive when given."""

    quantity: Decimal | None = None
    unit: str | None = None
    value_10k_cny: Decimal | None = None
