"""The emission report's vocabulary: the statuses of its workflow.

An enumeration only, no logic and no database: the models store it, and pure rules (the
compliance status, ``carbon_market.compliance.rules.status``) reason about it without
importing the models.
"""

from __future__ import annotations

import enum


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    APPROVED = "approved"
    RETURNED = "returned"
