"""The registry's vocabulary: an enterprise's lifecycle statuses, capacity units and cooling.

Enumerations only, no logic and no database: the models store them, and the schemas and the
import's shape checks (pure) read them without importing the models.
"""

from __future__ import annotations

import enum


class EnterpriseStatus(enum.StrEnum):
    REGISTERED = "registered"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXITED = "exited"


class CapacityUnit(enum.StrEnum):
    MW = "MW"
    MW_THERMAL = "MWth"
    TONNES_PER_HOUR = "t/h"
    TONNES_PER_DAY = "t/d"
    TONNES_PER_YEAR = "t/a"
    GJ_PER_HOUR = "GJ/h"
    SQUARE_METRES = "m2"
    KVA = "kVA"


class Cooling(enum.StrEnum):
    """A power unit's cooling mode: the benchmark method's cooling correction reads it."""

    AIR = "air"
    WATER = "water"


class PowerCategory(enum.StrEnum):
    """A power unit's category, as the power sector's allocation benchmarks and corrections
    name them (``allocation/data/power-corrections.json``, whose ``fuel_of_category`` a
    test holds equal to this list): the registry's vocabulary, which allocation, above it,
    reads."""

    COAL_300MW_PLUS = "coal_300mw_plus"
    COAL_300MW_BELOW = "coal_300mw_below"
    COAL_UNCONVENTIONAL = "coal_unconventional"
    GAS = "gas"
