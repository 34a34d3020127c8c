"""``carbon-market``: the command line, gathered from every feature's command groups.

Each feature lists its groups in its manifest (``carbon_market.kernel.features``) and builds
them on the kernel's plumbing (``carbon_market.kernel.cli``: sessions, ``--as``, one-line
errors). This package adds the commands that belong to no feature, the operator's: ``db``
(``db.py``), ``users`` and ``tokens`` (``users.py``), ``quickstart`` and ``serve``
(``serving.py``), ``scheduler`` and ``jobs`` (``jobs.py``). It also readies the process for
a command's first session: every model mapped and the features wired (:func:`_prepare`).

Importing this package imports every command module, which keep their heavy imports
(Alembic, pandas, Flask) inside the commands: ``carbon-market --help`` and the offline
commands start in well under a second.
"""

from __future__ import annotations

import click

from carbon_market.entrypoints.cli import db, jobs, serving, users
from carbon_market.entrypoints.features import load_models, paths, wire
from carbon_market.kernel import cli
from carbon_market.kernel.features import resolve


def _prepare() -> None:
    # The CLI does not build the web app, which maps every model and wires the features; a
    # command's queries may reach any relationship, and its services publish events.
    load_models()
    wire()


cli.prepare.provide(_prepare)


@click.group(help="Carbon market and green finance operations platform.")
@click.version_option(package_name="carbon-market")
def main() -> None:
    pass


for _command in (
    db.db,
    serving.quickstart,
    serving.serve,
    jobs.scheduler,
    jobs.jobs,
    users.users,
    users.tokens,
    *(resolve(path) for path in paths("commands")),
):
    main.add_command(_command)
