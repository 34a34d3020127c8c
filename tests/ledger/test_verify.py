"""``verify_ledger``: clean on a sound ledger; after a row is changed behind the platform's
back (raw SQL), it reports the damage and names the first bad transaction.

Tampering happens inside the test's open transaction and is rolled back afterwards (the
posting trigger is dropped or disabled in the same transaction), so each test ends by showing
the ledger sound again.

Worked example: 1,000 allocated to alpha; alpha retires 100 (t3), then 50 (t4):
alpha 850, retirement 150, reserve 0, issuance −1,000; sum 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError

from carbon_market.kernel.types import UTCDateTime
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.models import Holding
from carbon_market.ledger.posting.chain import chain_of
from carbon_market.ledger.verify import check_conservation, verify_ledger
from tests.ledger.conftest import RESERVE, RETIREMENT
from tests.ledger.helpers import complete_transfer


@contextmanager
def behind_the_platforms_back(session) -> Iterator[None]:
    """Let raw SQL change postings (append-only by trigger); undo everything on exit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE posting DISABLE TRIGGER posting_no_change"))
    else:
        session.execute(text("DROP TRIGGER posting_no_update"))
    try:
        yield
    finally:
        session.rollback()


def _problems(session):
    session.expire_all()
    return verify_ledger(session)


def _named(problems):
    """The transactions the problems name, in report order, without repeats."""
    return list(dict.fromkeys(p.transaction_id for p in problems if p.transaction_id))


def _retire(world, quantity):
    tx = world.transfer(world.alpha, RETIREMENT, quantity)
    return ledger.approve(world.session, world.alpha.approver, tx.id)


@pytest.fixture
def ledger_with_history(world):
    world.fund(world.alpha, 1000)
    world.t3 = _retire(world, 100)
    world.t4 = _retire(world, 50)
    assert world.holding(world.alpha.account) == (850, 0)
    assert world.holding(RETIREMENT) == (150, 0)
    return world


def _update(session, sql, **params):
    session.execute(text(sql), params)


# --- clean ------------------------------------------------------------------------------


def test_empty_ledger_verifies_clean(session):
    assert verify_ledger(session) == []


def test_ledger_with_every_kind_of_state_verifies_clean(world, assert_ledger_sound):
    # Completed, pending, delayed, rejected, expired, reversed, across two kinds.
    world.fund(world.alpha, 1000)
    world.fund(world.beta, 300, unit_kind="ccer", vintage=2024)
    moved = complete_transfer(world, world.alpha, world.beta.account, 250)
    reversal = ledger.reverse(world.session, world.regulator_a, moved.id)
    ledger.approve(world.session, world.regulator_b, reversal.id)
    world.transfer(world.alpha, world.beta.account, 100)  # will expire
    world.pass_time(72)
    ledger.run_due(world.session, world.regulator_a)
    rejected = world.transfer(world.alpha, world.beta.account, 10)
    ledger.reject(world.session, world.alpha.approver, rejected.id)
    delayed = world.transfer(world.beta, world.alpha.account, 30, unit_kind="ccer", vintage=2024)
    ledger.approve(world.session, world.beta.approver, delayed.id)
    world.transfer(world.alpha, world.beta.account, 5)  # left pending

    assert _problems(world.session) == []
    assert world.holding(world.beta.account, "ccer", 2024) == (300, 30)
    assert_ledger_sound()


# --- tampering ----------------------------------------------------------------------------


def test_changed_posting_quantity_is_found_and_its_transaction_named(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        # t3's credit to the retirement account: +100 becomes +90.
        _update(
            world.session,
            "UPDATE posting SET quantity = 90 WHERE transaction_id = :tx AND quantity = 100",
            tx=world.t3.id,
        )

        problems = _problems(world.session)

        assert {p.check for p in problems} == {"balance", "postings", "holdings", "chain"}
        assert _named(problems) == [world.t3.id]
        chain = [p for p in problems if p.check == "chain"]
        assert len(chain) == 1
        assert chain[0].detail.startswith(f"transaction {world.t3.id} ")
    assert_ledger_sound()


def test_chain_names_the_first_bad_transaction_when_two_were_changed(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        for tx, quantity in ((world.t4, 50), (world.t3, 100)):
            _update(
                world.session,
                "UPDATE posting SET quantity = quantity + 1 "
                "WHERE transaction_id = :tx AND quantity = :q",
                tx=tx.id,
                q=quantity,
            )

        problems = _problems(world.session)

        # Each chain names its first bad entry: t3 alone when t4 came after it in the same
        # chain, both (in chain order) when their UUIDs put them in different chains.
        t3, t4 = (chain_of(t.seq) for t in (world.t3, world.t4))
        expected = (
            [world.t3.id]
            if t3 == t4
            else [t.id for _, t in sorted([(t3, world.t3), (t4, world.t4)])]
        )
        assert [p.transaction_id for p in problems if p.check == "chain"] == expected
        assert [p.transaction_id for p in problems if p.check == "balance"] == [
            world.t3.id,
            world.t4.id,
        ]
    assert_ledger_sound()


def test_changed_holding_quantity_is_found(ledger_with_history, assert_ledger_sound):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        # alpha 850 becomes 855: five units created from nothing.
        _update(
            world.session,
            "UPDATE holding SET quantity = quantity + 5 WHERE account_id = "
            "(SELECT id FROM account WHERE number = :n)",
            n=world.alpha.account,
        )

        problems = _problems(world.session)

        assert {p.check for p in problems} == {"holdings", "conservation"}
        holdings = next(p for p in problems if p.check == "holdings")
        assert "holding 855 but postings sum to 850" in holdings.detail
        conservation = next(p for p in problems if p.check == "conservation")
        assert conservation.detail == "allowance 2025: holdings sum to 5, not 0"
    assert_ledger_sound()


def test_changed_reservation_is_found(ledger_with_history, assert_ledger_sound):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        _update(
            world.session,
            "UPDATE holding SET reserved = 10 WHERE account_id = "
            "(SELECT id FROM account WHERE number = :n)",
            n=world.alpha.account,
        )

        problems = _problems(world.session)

        assert [p.check for p in problems] == ["reservations"]
        assert "reserved 10 but open transfers hold 0" in problems[0].detail
    assert_ledger_sound()


def test_changed_quantity_of_a_completed_transaction_is_found(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        # t3 now claims to have moved 90, but its postings moved 100.
        _update(
            world.session,
            "UPDATE ledger_transaction SET quantity = 90 WHERE id = :id",
            id=world.t3.id,
        )

        problems = _problems(world.session)

        assert [p.check for p in problems] == ["postings"]
        assert _named(problems) == [world.t3.id]
    assert_ledger_sound()


def test_changed_completion_time_breaks_the_hash_chain_at_that_transaction(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        statement = text(
            "UPDATE ledger_transaction SET completed_at = :at WHERE id = :id"
        ).bindparams(bindparam("at", type_=UTCDateTime()))
        world.session.execute(
            statement, {"at": world.t3.completed_at - timedelta(days=1), "id": world.t3.id}
        )

        problems = _problems(world.session)

        assert [(p.check, p.transaction_id) for p in problems] == [("chain", world.t3.id)]
        assert "content does not match its hash" in problems[0].detail
    assert_ledger_sound()


def test_changed_hash_of_the_last_transaction_is_found(ledger_with_history, assert_ledger_sound):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        _update(
            world.session,
            "UPDATE ledger_transaction SET hash = :h WHERE id = :id",
            h="f" * 64,
            id=world.t4.id,
        )

        problems = _problems(world.session)

        assert [(p.check, p.transaction_id) for p in problems] == [("chain", world.t4.id)]
    assert_ledger_sound()


def test_posting_moved_to_another_account_is_found(ledger_with_history, assert_ledger_sound):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        # t4's credit lands in beta instead of the retirement account.
        _update(
            world.session,
            "UPDATE posting SET account_id = "
            "(SELECT id FROM account WHERE number = :beta) "
            "WHERE transaction_id = :tx AND quantity > 0",
            beta=world.beta.account,
            tx=world.t4.id,
        )

        problems = _problems(world.session)

        assert {p.check for p in problems} == {"postings", "holdings", "chain"}
        assert _named(problems) == [world.t4.id]
    assert_ledger_sound()


def test_posting_table_refuses_updates_while_its_trigger_is_in_place(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with pytest.raises(DBAPIError, match="append-only"):
        _update(
            world.session,
            "UPDATE posting SET quantity = 90 WHERE transaction_id = :tx AND quantity = 100",
            tx=world.t3.id,
        )
    world.session.rollback()

    assert world.holding(RETIREMENT) == (150, 0)
    assert_ledger_sound()


# --- conservation -------------------------------------------------------------------------


def test_holdings_sum_to_zero_per_unit_kind_and_vintage(world, assert_ledger_sound):
    # allowance 2025: issuance −1,000, alpha 1,000 − 250 = 750, beta 250 → 0
    # allowance 2024: issuance −400, reserve 400 → 0
    # ccer 2024:      issuance −300, beta 300 − 30 = 270, retirement 30 → 0
    world.fund(world.alpha, 1000)
    world.issue(400, vintage=2024)
    world.fund(world.beta, 300, unit_kind="ccer", vintage=2024)
    complete_transfer(world, world.alpha, world.beta.account, 250)
    retire = world.transfer(world.beta, RETIREMENT, 30, unit_kind="ccer", vintage=2024)
    ledger.approve(world.session, world.beta.approver, retire.id)

    world.session.expire_all()
    sums = dict(
        ((kind, vintage), total)
        for kind, vintage, total in world.session.execute(
            select(Holding.unit_kind, Holding.vintage, func.sum(Holding.quantity)).group_by(
                Holding.unit_kind, Holding.vintage
            )
        )
    )
    assert sums == {("allowance", 2025): 0, ("allowance", 2024): 0, ("ccer", 2024): 0}
    assert world.holding(RESERVE, "allowance", 2024) == (400, 0)
    assert world.holding(world.beta.account, "ccer", 2024) == (270, 0)
    assert world.holding(RETIREMENT, "ccer", 2024) == (30, 0)
    assert check_conservation(world.session) == []
    assert_ledger_sound()


def test_conservation_check_names_the_kind_and_vintage_of_units_made_from_nothing(
    ledger_with_history, assert_ledger_sound
):
    world = ledger_with_history
    with behind_the_platforms_back(world.session):
        _update(
            world.session,
            "INSERT INTO holding "
            "(account_id, unit_kind, vintage, quantity, reserved, is_issuance) "
            "SELECT id, 'ccer', 2024, 10, 0, :no FROM account WHERE number = :n",
            n=world.beta.account,
            no=False,
        )

        problems = check_conservation(world.session)

        assert len(problems) == 1
        assert problems[0].detail == "ccer 2024: holdings sum to 10, not 0"
    assert_ledger_sound()
