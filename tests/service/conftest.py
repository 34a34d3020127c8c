"""Helpers shared by the service tests: row counts to prove that nothing was written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise, EnterpriseStatusChange, Facility, Sector
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.models import ApiToken, User
from carbon_market.ledger.models import Account

COUNTED: dict[str, Any] = {
    "enterprise": Enterprise,
    "account": Account,
    "audit_event": AuditEvent,
    "enterprise_status_change": EnterpriseStatusChange,
    "facility": Facility,
    "user_account": User,
    "api_token": ApiToken,
    "sector": Sector,
}


@pytest.fixture
def row_counts(session: Session) -> Callable[[], dict[str, int]]:
    """``row_counts()`` gives the number of rows of every table a service may write."""

    def counts() -> dict[str, int]:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in COUNTED.items()
        }

    return counts
