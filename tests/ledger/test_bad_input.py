"""Bad input to a transfer or issuance is refused with a pointer to the field, and moves
nothing: holdings, transactions and postings are compared before and after.

Worked example: 1,000 allowances of 2025 allocated to alpha; alpha asks to send to beta.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbon_market.kernel.errors import InsufficientHolding, NotFound, ValidationFailed
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.numbers import make_account_number
from carbon_market.ledger.rules import MAX_QUANTITY
from tests.ledger.conftest import RESERVE
from tests.ledger.helpers import snapshot


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def _request(world, **overrides):
    values = {
        "from_account": world.alpha.account,
        "to_account": world.beta.account,
        "unit_kind": "allowance",
        "vintage": 2025,
        "quantity": 250,
        **overrides,
    }
    return ledger.request_transfer(world.session, world.alpha.initiator, **values)


def _wrong_check_digit(number: str) -> str:
    """The same number with its last check digit changed (a one-character typo)."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _pointers(refused):
    return [e.pointer for e in refused.value.errors]


@pytest.mark.parametrize(
    "quantity",
    [0, -5, 1.5, 250.0, Decimal("1.5"), Decimal("250"), True, False, "250", None],
    ids=[
        "zero",
        "negative",
        "fraction",
        "float-whole",
        "decimal-fraction",
        "decimal-whole",
        "true",
        "false",
        "string",
        "none",
    ],
)
def test_quantity_that_is_not_a_positive_whole_number_is_refused(
    funded, assert_ledger_sound, quantity
):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, quantity=quantity)

    assert _pointers(refused) == ["#/quantity"]
    assert snapshot(funded) == before
    assert_ledger_sound()


@pytest.mark.parametrize("vintage", [1999, 2101, True, "2025", 2025.0])
def test_vintage_outside_2000_to_2100_or_not_a_year_is_refused(
    funded, assert_ledger_sound, vintage
):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, vintage=vintage)

    assert _pointers(refused) == ["#/vintage"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_bad_quantity_and_bad_vintage_are_reported_together(funded, assert_ledger_sound):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, quantity=-1, vintage=1999)

    assert _pointers(refused) == ["#/quantity", "#/vintage"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_unknown_unit_kind_is_refused(funded, assert_ledger_sound):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, unit_kind="gold")

    assert _pointers(refused) == ["#/unit_kind"]
    assert snapshot(funded) == before
    assert_ledger_sound()


@pytest.mark.parametrize("field", ["from_account", "to_account"])
def test_account_number_with_a_wrong_check_digit_is_refused_with_its_pointer(
    funded, assert_ledger_sound, field
):
    number = getattr(funded, "alpha" if field == "from_account" else "beta").account
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, **{field: _wrong_check_digit(number)})

    assert _pointers(refused) == [f"#/{field}"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_account_number_typed_with_spaces_and_lower_case_is_accepted(funded, assert_ledger_sound):
    # Typed as "bj10 0012 3456 7890", read as "BJ10001234567890": the same account.
    number = funded.beta.account
    typed = " ".join([number[:4], number[4:8], number[8:12], number[12:]]).lower()

    tx = _request(funded, to_account=typed)

    assert tx.destination.number == number
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_unknown_destination_account_is_not_found(funded, assert_ledger_sound):
    # A well-formed number (valid check digits) that no account has.
    unknown = make_account_number("10", 9_999_999_999)
    before = snapshot(funded)

    with pytest.raises(NotFound) as refused:
        _request(funded, to_account=unknown)

    assert _pointers(refused) == ["#/to_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_unknown_source_account_is_not_found(funded, assert_ledger_sound):
    unknown = make_account_number("10", 9_999_999_999)
    before = snapshot(funded)

    with pytest.raises(NotFound) as refused:
        _request(funded, from_account=unknown)

    assert _pointers(refused) == ["#/from_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_same_source_and_destination_is_refused(funded, assert_ledger_sound):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, to_account=funded.alpha.account)

    assert _pointers(refused) == ["#/to_account"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_same_account_typed_two_ways_is_still_the_same_account(funded, assert_ledger_sound):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed):
        _request(funded, to_account=funded.alpha.account.lower())

    assert snapshot(funded) == before
    assert_ledger_sound()


@pytest.mark.parametrize(
    ("unit_kind", "vintage"),
    [("ccer", 2025), ("allowance", 2024)],
    ids=["kind-not-held", "vintage-not-held"],
)
def test_unit_kind_or_vintage_the_account_does_not_hold_is_insufficient(
    funded, assert_ledger_sound, unit_kind, vintage
):
    before = snapshot(funded)

    with pytest.raises(InsufficientHolding):
        _request(funded, unit_kind=unit_kind, vintage=vintage)

    assert snapshot(funded) == before
    assert_ledger_sound()


def test_more_than_the_whole_holding_is_insufficient(funded, assert_ledger_sound):
    # 1,000 held: 1,001 cannot be reserved.
    before = snapshot(funded)

    with pytest.raises(InsufficientHolding):
        _request(funded, quantity=1001)

    assert snapshot(funded) == before
    assert_ledger_sound()


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"quantity": 0}, "#/quantity"),
        ({"quantity": 2.5}, "#/quantity"),
        ({"vintage": 1999}, "#/vintage"),
        ({"unit_kind": "gold"}, "#/unit_kind"),
    ],
)
def test_bad_issuance_is_refused_and_creates_nothing(
    world, assert_ledger_sound, overrides, pointer
):
    before = snapshot(world)
    values = {"unit_kind": "allowance", "vintage": 2025, "quantity": 1000, **overrides}

    with pytest.raises(ValidationFailed) as refused:
        ledger.issue(world.session, world.regulator_a, **values)

    assert _pointers(refused) == [pointer]
    assert snapshot(world) == before
    assert_ledger_sound()


@pytest.mark.parametrize(
    "quantity", [MAX_QUANTITY + 1, 2**63, 10**20], ids=["limit+1", "2^63", "1e20"]
)
def test_quantity_beyond_any_real_holding_is_refused_not_a_database_overflow(
    funded, assert_ledger_sound, quantity
):
    # A 64-bit holding overflows beyond 2^63 - 1: SQLite raised OverflowError (a 500) for
    # the request itself, and two issuances of 2^62 turned the reserve into a float.
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _request(funded, quantity=quantity)

    assert _pointers(refused) == ["#/quantity"]
    assert snapshot(funded) == before
    assert_ledger_sound()


def test_issuances_can_never_add_up_past_a_64_bit_holding(world, assert_ledger_sound):
    # 2^62 twice made the reserve 9.223372036854776e+18 on SQLite: units lost to rounding.
    with pytest.raises(ValidationFailed) as refused:
        ledger.issue(world.session, world.regulator_a, unit_kind="allowance", vintage=2025,
                     quantity=2**62)  # fmt: skip

    assert _pointers(refused) == ["#/quantity"]
    world.issue(MAX_QUANTITY)
    assert world.holding(RESERVE) == (MAX_QUANTITY, 0)
    assert_ledger_sound()
