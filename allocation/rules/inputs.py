"""What a reserve record gives the benchmark (pure).

A new entrant, a capacity change, a capacity reduction and a closure are all allocated by
one computation (:func:`allocation.reserve.entrants.allocate`): the sector's benchmark on one
facility's annual output and, for power units, its correction inputs. They differ only in
their date (the first day operating, or the first day without the capacity) and their
kind. :class:`BenchmarkInputs` carries what they share, so the API schema, the CLI and both
services name these figures once; each record keeps its own date and kind beside it.

It sits below the services and the schemas (the import-linter layers) so that each channel
may build it, and it touches no database: the figures are checked by the service
(:func:`allocation.reserve.entrants.check_inputs`), which knows the plan and answers with pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class BenchmarkInputs:
    """One facility's figures for the benchmark of a reserve record (annual ones: the
    service prorates by months). Unchecked: see :func:`allocation.reserve.entrants.check_inputs`."""

    facility_id: int
    #: Annual output (a capacity change: the added output; a reduction: the removed).
    output: Decimal
    #: The benchmark's category; None: the facility's type.
    category: str | None = None
    heat_supplied_gj: Decimal | None = None
    #: Power units' corrections: "air" or "water", and two fractions of 1.
    cooling: str | None = None
    heat_supply_ratio: Decimal | None = None
    load_rate: Decimal | None = None
