"""``carbon-market import``: the all-or-nothing bulk import of enterprises and facilities."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from carbon_market.kernel import cli

if TYPE_CHECKING:
    from carbon_market.emitters.importing import ImportBatch


@click.group("import", help="All-or-nothing bulk imports from CSV or XLSX.")
def import_() -> None:
    pass


def _run_import(as_user: str | None, batch: ImportBatch) -> None:
    from carbon_market.emitters import bulk

    bars: dict[str, tqdm[Any]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="row", file=sys.stderr)
        bar.update(done - bar.n)

    with cli.session() as session:
        actor = cli.acting_user(session, as_user)
        try:
            result = bulk.import_enterprises(session, actor, batch=batch, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
    click.echo(
        f"imported {result['enterprises_created']} enterprises and "
        f"{result['facilities_created']} facilities"
    )


@import_.command(
    "enterprises",
    help="Import enterprises from FILE (CSV, or XLSX with an "
    "'enterprises' and optional 'facilities' sheet).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--facilities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A facilities CSV imported in the same all-or-nothing run.",
)
@cli.AS_USER
@cli.reports_errors
def import_enterprises(file: Path, facilities: Path | None, as_user: str | None) -> None:
    from carbon_market.emitters import importing

    with file.open("rb") as fh:
        if facilities is None:
            batch = importing.read_batch(fh, file.name)
        else:
            with facilities.open("rb") as fac:
                batch = importing.read_batch(fh, file.name, fac, facilities.name)
    _run_import(as_user, batch)


@import_.command("facilities", help="Import facilities of registered enterprises from FILE.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cli.AS_USER
@cli.reports_errors
def import_facilities(file: Path, as_user: str | None) -> None:
    from carbon_market.emitters import importing

    with file.open("rb") as fh:
        batch = importing.read_batch(None, facilities=fh, facilities_name=file.name)
    _run_import(as_user, batch)
