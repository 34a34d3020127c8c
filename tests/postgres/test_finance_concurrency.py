"""Climate-finance races between connections (PostgreSQL): the commitment holds."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import RuleViolation
from finance.projects import financing, service
from finance.projects.enums import Instrument, ProjectCategory
from finance.projects.models import Disbursement
from tests.factories import credit_code
from tests.postgres.test_concurrency import WORKERS, _race

pytestmark = pytest.mark.postgres
SYSTEM = Actor.system(name="system:race")


def test_concurrent_disbursements_never_exceed_the_commitment(app, session):
    # Eight disbursements of 300,000.00 against a 1,000,000.00 commitment: each fits alone,
    # but the locked financing row lets only three in (900,000.00); five are refused.
    project = service.create_project(
        session,
        SYSTEM,
        name="顺义地源热泵",
        sponsor_name="顺义热力",
        sponsor_credit_code=credit_code(),
        locality="shunyi",
        category=ProjectCategory.MITIGATION,
        subsector="energy_efficiency",
        start_date=date(2025, 1, 1),
        total_investment=Decimal("3000000"),
        expected_annual_reduction_t=Decimal("800"),
    )
    loan = financing.add_financing(
        session,
        SYSTEM,
        project.id,
        instrument=Instrument.GREEN_LOAN,
        institution="顺义农商行",
        committed=Decimal("1000000.00"),
        rate=Decimal("0.04"),
        start_date=date(2026, 1, 1),
        end_date=date(2028, 1, 1),
    )

    def disburse(s):
        financing.add_disbursement(
            s,
            SYSTEM,
            project.id,
            loan.financing.id,
            disbursed_on=date(2026, 2, 1),
            amount=Decimal("300000.00"),
        )

    outcomes = _race(app, disburse)

    assert outcomes == Counter({"ok": 3, RuleViolation.__name__: WORKERS - 3})
    total = session.scalar(
        select(func.sum(Disbursement.amount)).where(Disbursement.financing_id == loan.financing.id)
    )
    assert total == Decimal("900000.00")
