"""``carbon-market jobs run compliance_sweep|penalty_assessment --date D``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from carbon_market.compliance import service
from carbon_market.compliance.models import ComplianceStatus
from carbon_market.kernel.clock import FixedClock
from tests.compliance.conftest import build_world


def test_the_compliance_jobs_run_by_hand_for_a_date(
    run_cli, session, clock: FixedClock, fresh_session
) -> None:
    world = build_world(session, clock)
    service.open_year(session, world.regulator, year=2023, rulebook="national",
                      surrender_deadline=date(2026, 6, 30))  # fmt: skip
    short = world.enterprise("某发电企业")
    world.approved_report(short, 2023, "100")

    swept = run_cli("jobs", "run", "compliance_sweep", "--date", "2026-07-01")
    assert swept.exit_code == 0, swept.stderr
    assert swept.stdout.strip() == "compliance_sweep: swept 1 year(s): 2023 (1 enterprises)"
    with fresh_session() as check:
        row = check.scalar(select(ComplianceStatus))
        assert row is not None
        assert (row.status.value, row.shortfall_t, row.as_of) == (
            "shortfall", 100, date(2026, 7, 1),
        )  # fmt: skip

    for _ in range(2):  # no trade in June 2026: nothing assessed, and it says why
        assessed = run_cli("jobs", "run", "penalty_assessment", "--date", "2026-07-01")
        assert assessed.exit_code == 0, assessed.stderr
        assert assessed.stdout.strip() == (
            "penalty_assessment: 2023: no allowance trades from 2026-06-01 to 2026-06-30: "
            "no market price, 1 shortfall(s) left unassessed; 0 notice(s)"
        )
