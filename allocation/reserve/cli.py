"""``carbon-market allocation`` commands of the reserve's records: a new entrant, a capacity
change or reduction, and the second regulator's decision on each (part of the ``allocation``
group, ``allocation/cli.py``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from allocation.rules.inputs import BenchmarkInputs
from carbon_market.kernel import cli
from carbon_market.kernel.errors import FieldError, ValidationFailed, marshmallow_errors

#: A reserve record's benchmark inputs: the option, and its field in the API's schema.
_BENCHMARK_OPTIONS = {
    "facility_id": ("--facility", "The facility's id.", int),
    "output": ("--output", None, str),
    "category": ("--category", "Default: the facility type.", str),
    "heat_supplied_gj": ("--heat-gj", "Heat supplied a year, GJ.", str),
    "cooling": ("--cooling", "Power units: air or water.", str),
    "heat_supply_ratio": ("--heat-supply-ratio", "Power units: heat supply ratio r, 0-1.", str),
    "load_rate": ("--load-rate", "Power units: load rate F, 0-1.", str),
}


def _benchmark_inputs(output_help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a reserve record's benchmark inputs, declared once for every kind of
    record and checked by the API's own schema (same rules, same messages, errors named by
    option): the command receives them as one ``inputs``
    (:class:`allocation.rules.inputs.BenchmarkInputs`), as the service takes them. Anything the
    API accepts for a record, the command line accepts too."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        @cli.reports_errors  # the options are checked here, outside the command's own
        def wrapper(*args: Any, **kwargs: Any) -> None:
            given = {name: kwargs.pop(name) for name in _BENCHMARK_OPTIONS}
            fn(*args, inputs=_load_benchmark_inputs(given), **kwargs)

        decorated: Callable[..., None] = wrapper
        for name, (flag, help_, kind) in reversed(_BENCHMARK_OPTIONS.items()):
            decorated = click.option(
                flag, name, type=kind, required=name in ("facility_id", "output"),
                help=help_ or output_help,
            )(decorated)  # fmt: skip
        return decorated

    return decorate


def _load_benchmark_inputs(given: dict[str, Any]) -> BenchmarkInputs:
    from marshmallow import ValidationError

    from allocation.schemas import BenchmarkInputsSchema

    try:
        loaded = BenchmarkInputsSchema().load({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        # "#/load_rate" → "--load-rate": the user typed options, not JSON.
        flags = {f"#/{name}": option[0] for name, option in _BENCHMARK_OPTIONS.items()}
        errors = [
            FieldError(flags.get(error.pointer, error.pointer), error.detail)
            for error in marshmallow_errors(exc.messages)
        ]
        raise ValidationFailed("the record's figures are not valid", errors=errors) from exc
    inputs: BenchmarkInputs = loaded["inputs"]
    return inputs


@click.command(
    "new-entrant",
    help="Record a new entrant (or, with --capacity-change, added capacity) of plan PLAN_ID: "
    "its allocation from the reserve by benchmark, pro rata by months operating, pending a "
    "second regulator (approve-record).",
)
@click.argument("plan_id", type=cli.ID)
@_benchmark_inputs("Annual output (a change: the added).")
@click.option("--start", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--capacity-change", is_flag=True, help="Added capacity of an allocated facility.")
@cli.AS_USER
@cli.reports_errors
def allocation_new_entrant(
    plan_id: int,
    inputs: BenchmarkInputs,
    start: datetime,
    capacity_change: bool,
    as_user: str | None,
) -> None:
    from allocation.models import EntrantKind
    from allocation.reserve import entrants

    kind = EntrantKind.CAPACITY_CHANGE if capacity_change else EntrantKind.NEW_ENTRANT
    with cli.session() as session:
        row = entrants.record_entrant(
            session, cli.acting_user(session, as_user), plan_id, inputs=inputs,
            start_date=start.date(), kind=kind,
        )  # fmt: skip
        click.echo(
            f"{kind.value} {row.id}: {row.quantity} allowances for facility {inputs.facility_id} "
            f"({row.breakdown['months']} months), pending a second regulator"
        )


@click.command(
    "capacity-reduction",
    help="Record a capacity reduction (or, with --closure, a closure) of a facility under plan "
    "PLAN_ID: the allowances to return to the reserve by benchmark, pro rata by the months "
    "from --effective (the first day without the capacity), pending a second regulator.",
)
@click.argument("plan_id", type=cli.ID)
@_benchmark_inputs("Annual output removed.")
@click.option("--effective", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--closure", is_flag=True, help="The whole facility closes.")
@cli.AS_USER
@cli.reports_errors
def allocation_capacity_reduction(
    plan_id: int,
    inputs: BenchmarkInputs,
    effective: datetime,
    closure: bool,
    as_user: str | None,
) -> None:
    from allocation.models import ReductionKind
    from allocation.reserve import reductions

    kind = ReductionKind.CLOSURE if closure else ReductionKind.CAPACITY_REDUCTION
    with cli.session() as session:
        row = reductions.record_reduction(
            session, cli.acting_user(session, as_user), plan_id, inputs=inputs,
            effective_date=effective.date(), kind=kind,
        )  # fmt: skip
        click.echo(
            f"{kind.value} {row.id}: {-row.quantity} allowances to return from facility "
            f"{inputs.facility_id} ({row.breakdown['months']} months), pending a second regulator"
        )


_RECORD_KINDS = {"new-entrant": "new_entrant", "capacity-reduction": "capacity_reduction"}
_KIND_OPTION = click.option(
    "--kind",
    type=click.Choice(sorted(_RECORD_KINDS)),
    default="new-entrant",
    show_default=True,
    help="new-entrant also covers capacity changes.",
)


@click.command(
    "approve-record",
    help="Approve reserve record RECORD_ID of plan PLAN_ID (a regulator other than its "
    "recorder): its units move through the ledger. Safe to run again.",
)
@click.argument("plan_id", type=cli.ID)
@click.argument("record_id", type=cli.ID)
@_KIND_OPTION
@cli.AS_USER
@cli.reports_errors
def allocation_approve_record(plan_id: int, record_id: int, kind: str, as_user: str | None) -> None:
    from allocation.models import Stage
    from allocation.reserve import decisions

    with cli.session() as session:
        row = decisions.approve_record(
            session, cli.acting_user(session, as_user), plan_id, record_id,
            stage=Stage(_RECORD_KINDS[kind]),
        )  # fmt: skip
        moved = f"transaction {row.tx_id}" if row.tx_id is not None else "owed: nothing moved"
        click.echo(f"{row.stage} {row.id} approved: {row.quantity} allowances, {moved}")


@click.command(
    "reject-record",
    help="Reject pending reserve record RECORD_ID of plan PLAN_ID (a regulator other than its "
    "recorder): nothing moves.",
)
@click.argument("plan_id", type=cli.ID)
@click.argument("record_id", type=cli.ID)
@_KIND_OPTION
@click.option("--reason", default="", help="Why (kept on the record).")
@cli.AS_USER
@cli.reports_errors
def allocation_reject_record(
    plan_id: int, record_id: int, kind: str, reason: str, as_user: str | None
) -> None:
    from allocation.models import Stage
    from allocation.reserve import decisions

    with cli.session() as session:
        row = decisions.reject_record(
            session, cli.acting_user(session, as_user), plan_id, record_id,
            stage=Stage(_RECORD_KINDS[kind]), reason=reason,
        )  # fmt: skip
        click.echo(f"{row.stage} {row.id} rejected")


#: The reserve's commands, in the order ``allocation --help`` lists them.
COMMANDS = (
    allocation_new_entrant,
    allocation_capacity_reduction,
    allocation_approve_record,
    allocation_reject_record,
)
