"""``carbon-market mrv calc``: the offline emissions calculator (JSON in, JSON out)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TextIO

import click

from carbon_market.kernel import cli


@click.group(help="MRV: emission calculation.")
def mrv() -> None:
    pass


def _refuse_constant(name: str) -> Decimal:
    raise ValueError(f"{name} is not a number")


@mrv.command(
    "calc",
    help="Calculate CO2 and co-pollutants of the streams in FILE (JSON; '-' reads stdin) and "
    "print the breakdown as JSON. Format: docs/mrv.md.",
)
@click.argument("file", type=click.File("r", encoding="utf-8"))
def mrv_calc(file: TextIO) -> None:
    from carbon_market.mrv.calculator import emissions as calc

    try:
        document = json.loads(file.read(), parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        cli.fail(f"Validation failed: {file.name} is not valid JSON: {exc}")
        return
    try:
        result = calc.calculate_document(document)
    except calc.CalculationInputError as exc:
        cli.fail(f"{exc.title}: {exc.detail}")
        return
    click.echo(json.dumps(calc.result_as_json(result), indent=2, ensure_ascii=False))
