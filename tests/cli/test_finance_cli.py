"""``carbon-market finance check-milestones`` and ``finance import`` from the command line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from carbon_market.kernel.access.roles import Actor, Role
from finance.projects import monitoring
from finance.projects import service as projects
from finance.projects.enums import ProjectCategory
from finance.projects.models import Milestone, Project
from tests.factories import credit_code, make_user

SYSTEM = Actor.system(name="system:test")


def _project(session):
    return projects.create_project(
        session,
        SYSTEM,
        name="怀柔储能电站",
        sponsor_name="怀柔储能",
        sponsor_credit_code=credit_code(),
        locality="huairou",
        category=ProjectCategory.MITIGATION,
        subsector="renewable_energy",
        start_date=date(2025, 1, 1),
        total_investment=Decimal("1000000"),
        expected_annual_reduction_t=Decimal("100"),
    )


def test_check_milestones_prints_what_it_flagged_and_flags_nothing_twice(
    run_cli, session, fresh_session
):
    # The CLI runs on the system clock, long after 2025-03-31; 2099 is not yet due.
    project = _project(session)
    late = monitoring.add_milestone(
        session, SYSTEM, project.id, name="开工", due_date=date(2025, 3, 31)
    )
    monitoring.add_milestone(session, SYSTEM, project.id, name="远期", due_date=date(2099, 1, 1))

    first = run_cli("finance", "check-milestones")
    second = run_cli("finance", "check-milestones")

    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"overdue: project {project.id} milestone {late.id} '开工' (due 2025-03-31)",
        "flagged 1 overdue milestone(s)",
    ]
    assert second.stdout.splitlines() == ["flagged 0 overdue milestone(s)"]
    with fresh_session() as check:
        flagged = check.scalar(select(Milestone).where(Milestone.id == late.id))
        assert flagged is not None
        assert flagged.overdue_flagged_at is not None


def test_finance_import_registers_projects_as_the_named_officer(
    run_cli, session, fresh_session, tmp_path
):
    make_user(session, role=Role.FINANCE_OFFICER, name="officer")
    path = tmp_path / "projects.csv"
    path.write_text(
        "name,sponsor_name,sponsor_credit_code,locality,category,subsector,start_date,"
        "total_investment,expected_annual_reduction_t\n"
        f"平谷生物质供热,平谷热力,{credit_code()},pinggu,mitigation,renewable_energy,"
        "2025-10-01,8800000,4400\n",
        encoding="utf-8",
    )

    result = run_cli("finance", "import", "projects", str(path), "--as", "officer")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 projects created"
    with fresh_session() as check:
        assert check.scalar(select(Project.name)) == "平谷生物质供热"


def test_finance_import_by_a_regulator_is_refused(run_cli, session, tmp_path):
    make_user(session, role=Role.REGULATOR, name="reg")
    path = tmp_path / "projects.csv"
    path.write_text("name\nx\n", encoding="utf-8")

    result = run_cli("finance", "import", "projects", str(path), "--as", "reg")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: Permission denied:")
