"""The project lifecycle and the instrument rules (pure)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal as D

import pytest

from finance.projects.enums import Instrument, ProjectStatus
from finance.projects.rules.lifecycle import (
    STATUS_TRANSITIONS,
    financing_errors,
    is_allowed_transition,
)

S = ProjectStatus
LADDER = [S.PROPOSED, S.ADMITTED, S.FINANCED, S.UNDER_CONSTRUCTION, S.OPERATING, S.CLOSED]


@pytest.mark.parametrize(("here", "after"), list(itertools.pairwise(LADDER)))
def test_each_status_moves_to_the_next_one(here, after):
    assert is_allowed_transition(here, after)


@pytest.mark.parametrize("here", LADDER[:-1])
def test_every_status_before_closed_may_be_withdrawn(here):
    assert is_allowed_transition(here, S.WITHDRAWN)


def test_closed_and_withdrawn_are_final():
    assert STATUS_TRANSITIONS[S.CLOSED] == frozenset()
    assert STATUS_TRANSITIONS[S.WITHDRAWN] == frozenset()


def test_no_status_may_be_skipped_or_undone():
    allowed = {(a, b) for a, targets in STATUS_TRANSITIONS.items() for b in targets}
    assert (S.PROPOSED, S.FINANCED) not in allowed
    assert (S.OPERATING, S.UNDER_CONSTRUCTION) not in allowed
    assert len(allowed) == 10  # five steps up the ladder and five withdrawals


def test_a_complete_support_tool_loan_has_no_errors():
    assert (
        financing_errors(
            instrument=Instrument.CARBON_REDUCTION_SUPPORT_TOOL,
            rate=D("0.0345"),
            end_date=date(2027, 1, 1),
            has_disclosure=True,
        )
        == []
    )


def test_a_support_tool_loan_needs_rate_end_date_and_disclosure():
    fields = [
        f
        for f, _ in financing_errors(
            instrument=Instrument.CARBON_REDUCTION_SUPPORT_TOOL,
            rate=None,
            end_date=None,
            has_disclosure=False,
        )
    ]
    assert fields == ["rate", "end_date", "disclosure"]


@pytest.mark.parametrize("instrument", [Instrument.EQUITY, Instrument.GRANT])
def test_equity_and_grants_refuse_a_rate_and_a_disclosure(instrument):
    fields = [
        f
        for f, _ in financing_errors(
            instrument=instrument, rate=D("0.01"), end_date=None, has_disclosure=True
        )
    ]
    assert fields == ["rate", "disclosure"]
