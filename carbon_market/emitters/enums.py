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
