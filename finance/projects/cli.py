"""``carbon-market finance``: the milestone check by hand and the bulk intake."""

from __future__ import annotations

from pathlib import Path

import click

from carbon_market.kernel import cli


@click.group(help="Climate finance: the pilot project library.")
def finance() -> None:
    pass


@finance.command(
    "check-milestones",
    help="Flag milestones not done by their due date (what the scheduler runs); prints each.",
)
@cli.reports_errors
def finance_check_milestones() -> None:
    from carbon_market.kernel.clock import SystemClock
    from finance.projects.monitoring import flag_overdue_milestones

    with cli.session() as session:
        flagged = flag_overdue_milestones(session, SystemClock().now())
    for milestone in flagged:
        click.echo(
            f"overdue: project {milestone.project_id} milestone {milestone.id} "
            f"{milestone.name!r} (due {milestone.due_date})"
        )
    click.echo(f"flagged {len(flagged)} overdue milestone(s)")


@finance.command(
    "import", help="Import projects or financings from FILE (CSV or XLSX), all or nothing."
)
@click.argument("kind", type=click.Choice(["projects", "financings"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cli.AS_USER
@cli.reports_errors
def finance_import(kind: str, file: Path, as_user: str | None) -> None:
    from finance.projects import bulk as finance_bulk
    from finance.projects.importing import read_table

    with file.open("rb") as fh:
        table = read_table(fh, file.name, kind)
    with cli.session() as session:
        actor = cli.acting_user(session, as_user)
        run = finance_bulk.import_projects if kind == "projects" else finance_bulk.import_financings
        result = run(session, actor, table=table)
    click.echo(", ".join(f"{count} {what.replace('_', ' ')}" for what, count in result.items()))
