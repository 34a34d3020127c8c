"""Account statements: postings oldest first, a running balance per unit kind and vintage,
the counterparty's account number, filters, and who may read them.

Worked example (alpha's account), in the order the postings are made:

    posting                                allowance 2025   ccer 2024   counterparty
    1 allocation  +600 allowance 2025            600            –       reserve
    2 allocation  +200 ccer 2024                   –          200       reserve
    3 retirement  −100 allowance 2025            500            –       retirement
    4 transfer    −250 allowance 2025            250            –       beta
    5 retirement   −80 ccer 2024                   –          120       retirement

The transfer to beta was requested before the retirement but waited out the 26 h delay, so
its posting comes after the retirement's: a statement follows completion, not request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import NotFound
from carbon_market.kernel.pagination import PageRequest
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.queries import statement
from tests.ledger.conftest import ISSUANCE, RESERVE, RETIREMENT


@pytest.fixture
def history(world):
    world.issue(1000)
    world.issue(500, unit_kind="ccer", vintage=2024)
    world.allocate(world.alpha, 600)
    world.allocate(world.alpha, 200, unit_kind="ccer", vintage=2024)
    world.start = world.clock.now()
    to_beta = world.transfer(world.alpha, world.beta.account, 250, memo="sold to beta")
    ledger.approve(world.session, world.alpha.approver, to_beta.id)  # delayed 26 h
    retire = world.transfer(world.alpha, RETIREMENT, 100)
    ledger.approve(world.session, world.alpha.approver, retire.id)  # completes now
    world.pass_time(26)
    ledger.run_due(world.session, world.regulator_a)  # the transfer to beta completes
    retire_ccer = world.transfer(world.alpha, RETIREMENT, 80, unit_kind="ccer", vintage=2024)
    ledger.approve(world.session, world.alpha.approver, retire_ccer.id)
    return world


def _rows(lines):
    return [
        (ln.kind, ln.unit_kind, ln.vintage, ln.quantity, ln.balance, ln.counterparty)
        for ln in lines
    ]


def test_statement_lists_postings_oldest_first_with_running_balances(history, assert_ledger_sound):
    lines, total = statement(history.session, history.alpha.initiator, history.alpha.account)

    beta = history.beta.account
    assert _rows(lines) == [
        ("allocation", "allowance", 2025, 600, 600, RESERVE),
        ("allocation", "ccer", 2024, 200, 200, RESERVE),
        ("retirement", "allowance", 2025, -100, 500, RETIREMENT),
        ("transfer", "allowance", 2025, -250, 250, beta),
        ("retirement", "ccer", 2024, -80, 120, RETIREMENT),
    ]
    assert total == 5
    assert [ln.posting_id for ln in lines] == sorted(ln.posting_id for ln in lines)
    assert_ledger_sound()


def test_statement_lines_carry_completion_time_and_memo(history, assert_ledger_sound):
    lines, _ = statement(history.session, history.alpha.initiator, history.alpha.account)

    retirement, transfer = lines[2], lines[3]
    assert retirement.completed_at == history.start
    assert transfer.completed_at == history.start + timedelta(hours=26)
    assert transfer.memo == "sold to beta"
    assert_ledger_sound()


def test_last_running_balance_equals_the_holding(history, assert_ledger_sound):
    lines, _ = statement(history.session, history.regulator_a, history.alpha.account)

    last = {(ln.unit_kind, ln.vintage): ln.balance for ln in lines}
    assert last == {("allowance", 2025): 250, ("ccer", 2024): 120}
    assert history.holding(history.alpha.account) == (250, 0)
    assert history.holding(history.alpha.account, "ccer", 2024) == (120, 0)
    assert_ledger_sound()


def test_statement_filtered_by_unit_kind(history, assert_ledger_sound):
    lines, total = statement(
        history.session, history.alpha.initiator, history.alpha.account, unit_kind="ccer"
    )

    # ccer 2024: +200 → 200, −80 → 120.
    assert [(ln.quantity, ln.balance) for ln in lines] == [(200, 200), (-80, 120)]
    assert total == 2
    assert_ledger_sound()


def test_statement_filtered_by_vintage(history, assert_ledger_sound):
    lines, total = statement(
        history.session, history.alpha.initiator, history.alpha.account, vintage=2025
    )

    # allowance 2025: +600 → 600, −100 → 500, −250 → 250.
    assert [(ln.quantity, ln.balance) for ln in lines] == [(600, 600), (-100, 500), (-250, 250)]
    assert {ln.unit_kind for ln in lines} == {"allowance"}
    assert total == 3
    assert_ledger_sound()


def test_statement_filtered_by_a_kind_and_vintage_not_held_is_empty(history, assert_ledger_sound):
    lines, total = statement(
        history.session,
        history.alpha.initiator,
        history.alpha.account,
        unit_kind="ccer",
        vintage=2025,
    )

    assert (lines, total) == ([], 0)
    assert_ledger_sound()


def test_paged_statement_keeps_the_running_balance_of_earlier_pages(history, assert_ledger_sound):
    lines, total = statement(
        history.session,
        history.alpha.initiator,
        history.alpha.account,
        page=PageRequest(page=2, page_size=2),
    )

    # Postings 3 and 4: the balance continues from page 1 (600 → 500 → 250).
    assert [(ln.quantity, ln.balance) for ln in lines] == [(-100, 500), (-250, 250)]
    assert total == 5
    assert_ledger_sound()


def test_receiving_account_statement_names_the_sender(history, assert_ledger_sound):
    lines, total = statement(history.session, history.beta.approver, history.beta.account)

    assert _rows(lines) == [("transfer", "allowance", 2025, 250, 250, history.alpha.account)]
    assert total == 1
    assert_ledger_sound()


def test_issuance_account_statement_runs_negative(history, assert_ledger_sound):
    lines, _ = statement(history.session, history.regulator_b, ISSUANCE)

    assert _rows(lines) == [
        ("issuance", "allowance", 2025, -1000, -1000, RESERVE),
        ("issuance", "ccer", 2024, -500, -500, RESERVE),
    ]
    assert_ledger_sound()


def test_enterprise_user_cannot_read_another_enterprises_statement(history, assert_ledger_sound):
    with pytest.raises(NotFound):
        statement(history.session, history.beta.initiator, history.alpha.account)

    assert_ledger_sound()


def test_auditor_may_read_any_statement(history, auditor, assert_ledger_sound):
    lines, total = statement(history.session, actor_for(auditor), history.alpha.account)

    assert total == 5
    assert lines[-1].balance == 120
    assert_ledger_sound()


def test_account_without_postings_has_an_empty_statement(world, assert_ledger_sound):
    lines, total = statement(world.session, world.alpha.initiator, world.alpha.account)

    assert (lines, total) == ([], 0)
    assert_ledger_sound()
