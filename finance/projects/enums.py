"""The project library's vocabulary: categories, lifecycle statuses and instruments.

Enumerations only, no logic and no database: the models store them, and the pure rules
(``rules/``) and the import's shape checks reason about them without importing the models.
"""

from __future__ import annotations

import enum


class ProjectCategory(enum.StrEnum):
    MITIGATION = "mitigation"
    ADAPTATION = "adaptation"
    BOTH = "both"


class ProjectStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ADMITTED = "admitted"
    FINANCED = "financed"
    UNDER_CONSTRUCTION = "under_construction"
    OPERATING = "operating"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Instrument(enum.StrEnum):
    GREEN_LOAN = "green_loan"
    GREEN_BOND = "green_bond"
    TRANSITION_LOAN = "transition_loan"
    EQUITY = "equity"
    GRANT = "grant"
    GREEN_INSURANCE = "green_insurance"
    CARBON_REDUCTION_SUPPORT_TOOL = "carbon_reduction_support_tool"
    OTHER = "other"


#: Instruments that bear interest: only these take a ``rate``.
INTEREST_BEARING = frozenset(
    {
        Instrument.GREEN_LOAN,
        Instrument.GREEN_BOND,
        Instrument.TRANSITION_LOAN,
        Instrument.CARBON_REDUCTION_SUPPORT_TOOL,
        Instrument.OTHER,
    }
)
