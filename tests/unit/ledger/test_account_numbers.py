"""Registry account numbers: ISO 7064 MOD 97-10 check digits and normalisation."""

from __future__ import annotations

import string

import pytest

from carbon_market.ledger.accounts.numbers import (
    check_digits,
    is_valid_account_number,
    make_account_number,
    normalize_account_number,
)

# Worked example, computed by hand: kind "10", serial 12345678.
#   body              = "BJ" + "10" + "0012345678"           = "BJ100012345678"
#   letters as 10..35 : B = 11, J = 19                        -> "1119" + "100012345678"
#   append "00"       : 111910001234567800
#   mod 97 piecewise (9 digits at a time, as for IBAN):
#     111910001         mod 97 = 34   (97 × 1153711 = 111909967; 111910001 - 111909967 = 34)
#     "34" + "2345678"  = 342345678 mod 97 = 86   (97 × 3529336 = 342345592)
#     "86" + "00"       = 8600 mod 97 = 64        (97 × 88 = 8536)
#   check digits      = 98 - 64 = 34
#   account number    = "BJ10001234567834"; 111910001234567834 mod 97 = 1, as the check requires.
WORKED_BODY = "BJ100012345678"
WORKED_NUMBER = "BJ10001234567834"

SAMPLE_NUMBERS = [
    make_account_number(kind, serial)
    for kind in ("10", "20", "99")
    for serial in (0, 1, 12345678, 9_999_999_999, 4_200_000_017)
]


def test_check_digits_are_34_when_computed_for_the_worked_example():
    assert check_digits(WORKED_BODY) == "34"


def test_worked_example_is_congruent_to_one_mod_97_when_letters_are_read_as_numbers():
    assert int("1119" + WORKED_NUMBER[2:]) % 97 == 1


def test_made_number_matches_worked_example_when_kind_10_and_serial_12345678():
    assert make_account_number("10", 12345678) == WORKED_NUMBER


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_made_number_is_valid_when_checked(number: str):
    assert is_valid_account_number(number)


def test_check_digits_keep_their_leading_zero_when_below_ten():
    serial = next(s for s in range(10_000) if check_digits(f"BJ10{s:010d}").startswith("0"))
    number = make_account_number("10", serial)
    assert len(number) == 16
    assert number[-2] == "0"
    assert is_valid_account_number(number)


@pytest.mark.parametrize(
    ("kind_code", "serial"),
    [("1", 1), ("100", 1), ("1A", 1), ("", 1), ("10", -1), ("10", 10**10)],
)
def test_making_a_number_is_refused_when_kind_code_or_serial_is_out_of_shape(
    kind_code: str, serial: int
):
    with pytest.raises(ValueError, match="two digits"):
        make_account_number(kind_code, serial)


@pytest.mark.parametrize(
    "typed",
    [
        "BJ10 0012 3456 7834",
        "BJ10-0012-3456-7834",
        "bj10 0012-3456 78 34",
        " BJ10001234567834\t",
    ],
)
def test_number_is_normalised_when_typed_with_spaces_dashes_or_lower_case(typed: str):
    assert normalize_account_number(typed) == WORKED_NUMBER
    assert is_valid_account_number(typed)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "BJ1000123456783",  # one digit short
        "BJ100012345678340",  # one digit long
        "B110001234567834",  # digit where a letter belongs
        "BJ1000123456783A",  # letter where a digit belongs
        "BJ10.0012.3456.7834",  # dots are not stripped
    ],
)
def test_number_is_rejected_when_its_shape_is_wrong(raw: str):
    assert not is_valid_account_number(raw)


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_every_single_digit_substitution_is_rejected_when_applied_to_a_valid_number(number: str):
    for position in range(2, len(number)):
        for digit in string.digits:
            if digit == number[position]:
                continue
            mutated = number[:position] + digit + number[position + 1 :]
            assert not is_valid_account_number(mutated), mutated


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_every_letter_substitution_is_rejected_when_applied_to_the_jurisdiction(number: str):
    for position in (0, 1):
        for letter in string.ascii_uppercase:
            if letter == number[position]:
                continue
            mutated = number[:position] + letter + number[position + 1 :]
            assert not is_valid_account_number(mutated), mutated


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_every_adjacent_transposition_is_rejected_when_the_characters_differ(number: str):
    swaps = 0
    for position in range(len(number) - 1):
        a, b = number[position], number[position + 1]
        if a == b:
            continue
        mutated = number[:position] + b + a + number[position + 2 :]
        assert not is_valid_account_number(mutated), mutated
        swaps += 1
    assert swaps > 0
