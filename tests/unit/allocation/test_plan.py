"""The plan document: its checks (every problem at once, with pointers) and its round trip."""

from __future__ import annotations

import json
from decimal import Decimal as D
from importlib import resources

import pytest

from allocation.rules.plan import copy_document, parse_plan, plan_document
from allocation.rules.rulebook import parse_corrections
from carbon_market.kernel.errors import ValidationFailed

EXAMPLE = {
    "year": 2025,
    "cap": 45000000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "pre_allocation_share": "0.7",
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "services": {"method": "historical_intensity", "control_factor": "0.98"},
        "power": {
            "method": "benchmark",
            "benchmarks": {"coal_300mw_plus": "0.7950", "gas": "0.3305"},
            "heat_benchmark": "0.1260",
        },
    },
}


def pointers(document: object) -> set[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_plan(document)
    return {e.pointer for e in caught.value.errors}


def test_the_issues_example_parses_and_round_trips():
    plan = parse_plan(EXAMPLE)
    # 45 000 000 × (1 − 0.05 − 0.03) = 41 400 000.
    assert plan.free_budget == D(41400000)
    assert parse_plan(plan_document(plan)) == plan
    assert plan_document(plan) == EXAMPLE


def test_every_problem_is_reported_at_once_with_its_pointer():
    bad = {
        **EXAMPLE,
        "reserve_share": "0.6",
        "auction_share": "0.5",
        "base_years": [2025],
        "sectors": {
            "cement": {"method": "historical_emissions"},
            "power": {"method": "benchmark", "benchmarks": {"gas": 0.33}},
            "steel": {"method": "auction"},
        },
        "colour": "red",
    }
    assert pointers(bad) == {
        "#/auction_share",
        "#/base_years/0",
        "#/sectors/cement/control_factor",
        "#/sectors/power/benchmarks/gas",
        "#/sectors/steel/method",
        "#/colour",
    }


def test_a_missing_member_and_a_non_object_are_refused():
    assert "#/cap" in pointers({k: v for k, v in EXAMPLE.items() if k != "cap"})
    assert pointers([]) == {"#"}


def test_copying_to_the_next_year_shifts_the_base_years():
    copied = copy_document(EXAMPLE, 2026)
    assert (copied["year"], copied["base_years"]) == (2026, [2023, 2024, 2025])


def test_the_packaged_power_corrections_are_valid():
    text = resources.files("allocation").joinpath("data/power-corrections.json").read_text()
    _corrections, errors = parse_corrections(json.loads(text))
    assert errors == []


@pytest.mark.parametrize("share", ["1e999999999", "-1e999999999", "9" * 40])
def test_a_share_far_out_of_range_is_a_pointer_not_an_arithmetic_error(share):
    # A share beyond the Decimal context's exponent range once overflowed the check that
    # the two shares add up to at most 100% (an uncaught InvalidOperation: a 500).
    assert pointers({**EXAMPLE, "reserve_share": share}) == {"#/reserve_share"}
    assert pointers({**EXAMPLE, "auction_share": share}) == {"#/auction_share"}
