"""Compliance's vocabulary: the statuses of an enterprise's year and of a penalty.

Enumerations only, no logic and no database: the models store them, and the pure rules
(``rules/``) reason about them without importing the models.
"""

from __future__ import annotations

import enum


class ComplianceStatusKind(enum.StrEnum):
    NOT_REPORTED = "not_reported"
    REPORTED = "reported"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLIANT = "compliant"
    SHORTFALL = "shortfall"
    LATE = "late"
    EXEMPT = "exempt"


class PenaltyStatus(enum.StrEnum):
    """A penalty stands (``current``) until a correction replaces it with a recomputed one
    (``superseded``) or its shortfall drops to nothing (``cancelled``); rows are never
    deleted and their figures never edited."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"
