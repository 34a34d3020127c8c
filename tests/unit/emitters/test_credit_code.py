"""GB 32100-2015 unified social credit codes: check character, normalisation, error codes."""

from __future__ import annotations

import pytest

from carbon_market.emitters.credit_code import (
    ALPHABET,
    WEIGHTS,
    InvalidCreditCode,
    check_character,
    make_credit_code,
    normalize_credit_code,
)

# A widely published valid code (Fuzhou, Fujian).
VALID = "91350100M000100Y43"

# Worked example, computed by hand for the first 17 characters of VALID.
# Values: digits are themselves; letters count on from 10 skipping I, O, S, V, Z,
# so M = 21 (A10 B11 C12 D13 E14 F15 G16 H17 J18 K19 L20 M21) and Y = 30.
# Weights are 3^i mod 31 for i = 0..16.
#
#   pos  char  value  weight  product
#    1    9      9      1        9
#    2    1      1      3        3
#    3    3      3      9       27
#    4    5      5     27      135
#    5    0      0     19        0
#    6    1      1     26       26
#    7    0      0     16        0
#    8    0      0     17        0
#    9    M     21     20      420
#   10    0      0     29        0
#   11    0      0     25        0
#   12    0      0     13        0
#   13    1      1      8        8
#   14    0      0     24        0
#   15    0      0     10        0
#   16    Y     30     30      900
#   17    4      4     28      112
#                          sum = 1640
#
# 1640 = 52 × 31 + 28, so sum mod 31 = 28; check value = 31 - 28 = 3; ALPHABET[3] = "3".
WORKED_SUM = 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112
NOT_IN_ALPHABET = "IOSVZ"


def _error_code(raw: str) -> str:
    with pytest.raises(InvalidCreditCode) as info:
        normalize_credit_code(raw)
    return info.value.code


def test_worked_example_sum_matches_hand_computation_when_weights_applied_to_first_17():
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(VALID[:17], WEIGHTS, strict=True))
    assert total == WORKED_SUM == 1640
    assert total % 31 == 28


def test_check_character_is_3_when_computed_for_the_published_code():
    assert check_character(VALID[:17]) == "3"


def test_published_code_is_accepted_unchanged_when_already_canonical():
    assert normalize_credit_code(VALID) == VALID


def test_weights_are_powers_of_three_mod_31_when_listed_for_17_positions():
    assert tuple(pow(3, i, 31) for i in range(17)) == WEIGHTS


def test_alphabet_has_31_characters_without_i_o_s_v_z():
    assert len(ALPHABET) == 31
    assert len(set(ALPHABET)) == 31
    assert not set(NOT_IN_ALPHABET) & set(ALPHABET)


def test_check_character_is_zero_when_weighted_sum_is_a_multiple_of_31():
    # 17 zeros sum to 0; (31 - 0) % 31 = 0 must map to "0", not index 31 (out of range).
    assert check_character("0" * 17) == "0"


def test_check_character_refuses_input_when_not_exactly_17_characters():
    with pytest.raises(ValueError, match="zip"):
        check_character(VALID[:16])


def test_code_is_trimmed_and_upper_cased_when_typed_in_lower_case_with_spaces():
    assert normalize_credit_code(f"  {VALID.lower()}\t\n") == VALID


def test_made_code_is_valid_when_completed_from_17_characters():
    code = make_credit_code("91110000000000001")
    assert len(code) == 18
    assert normalize_credit_code(code) == code


@pytest.mark.parametrize("raw", ["", VALID[:17], VALID + "0", VALID[:9] + " " + VALID[9:]])
def test_length_error_is_reported_when_code_is_not_18_characters(raw: str):
    assert _error_code(raw) == "credit_code.length"


def test_length_error_message_gives_actual_length_when_code_is_too_short():
    with pytest.raises(InvalidCreditCode, match="got 17"):
        normalize_credit_code(VALID[:17])


@pytest.mark.parametrize("letter", list(NOT_IN_ALPHABET))
def test_charset_error_is_reported_when_code_contains_a_letter_outside_the_alphabet(letter: str):
    raw = VALID[:9] + letter + VALID[10:]
    assert _error_code(raw) == "credit_code.charset"


@pytest.mark.parametrize("position", range(2, 8))
def test_charset_error_is_reported_when_division_code_holds_a_letter(position: int):
    raw = VALID[:position] + "A" + VALID[position + 1 :]
    assert _error_code(raw) == "credit_code.charset"


def test_charset_error_is_reported_when_code_uses_full_width_digits():
    raw = "９" + VALID[1:]
    assert _error_code(raw) == "credit_code.charset"


def test_check_char_error_names_expected_character_when_last_character_is_wrong():
    with pytest.raises(InvalidCreditCode, match="'3'") as info:
        normalize_credit_code(VALID[:17] + "4")
    assert info.value.code == "credit_code.check_char"


def test_invalid_credit_code_is_a_value_error_when_caught_generically():
    with pytest.raises(ValueError, match="18 characters"):
        normalize_credit_code("123")


def test_every_single_character_substitution_is_rejected_when_applied_to_a_valid_code():
    candidates = ALPHABET + NOT_IN_ALPHABET
    tried = 0
    for position, original in enumerate(VALID):
        for replacement in candidates:
            if replacement == original:
                continue
            mutated = VALID[:position] + replacement + VALID[position + 1 :]
            with pytest.raises(InvalidCreditCode) as info:
                normalize_credit_code(mutated)
            shape_broken = replacement in NOT_IN_ALPHABET or (
                2 <= position < 8 and not replacement.isdigit()
            )
            expected = "credit_code.charset" if shape_broken else "credit_code.check_char"
            assert info.value.code == expected, mutated
            tried += 1
    assert tried == 18 * 35


def test_every_single_character_substitution_is_rejected_when_code_is_made_by_the_factory():
    code = make_credit_code("91110108MA01ABCD2")
    for position in range(18):
        for replacement in ALPHABET:
            if replacement == code[position] or (2 <= position < 8 and not replacement.isdigit()):
                continue
            mutated = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(InvalidCreditCode, match="check character"):
                normalize_credit_code(mutated)
