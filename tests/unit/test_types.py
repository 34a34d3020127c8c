"""Column types: aware UTC datetimes, exact scaled decimals, money, 四舍五入 rounding.

The type methods ignore the dialect, so they are called directly with ``None``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from carbon_market.kernel.types import Money, ScaledDecimal, UTCDateTime, round_half_up

NO_DIALECT: Any = None
BEIJING = timezone(timedelta(hours=8))


# --- UTCDateTime ---------------------------------------------------------------------------


def test_naive_datetime_is_refused_when_bound():
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 6, 1, 10, 0), NO_DIALECT)  # noqa: DTZ001


def test_aware_datetime_is_stored_as_naive_utc_when_given_in_beijing_time():
    stored = UTCDateTime().process_bind_param(datetime(2026, 6, 1, 10, 0, tzinfo=BEIJING), None)
    assert stored == datetime(2026, 6, 1, 2, 0)  # noqa: DTZ001
    assert stored is not None
    assert stored.tzinfo is None


def test_stored_utc_crosses_midnight_when_beijing_time_is_early_morning():
    stored = UTCDateTime().process_bind_param(datetime(2026, 6, 2, 1, 30, tzinfo=BEIJING), None)
    assert stored == datetime(2026, 6, 1, 17, 30)  # noqa: DTZ001


def test_loaded_datetime_is_aware_utc_when_read_back_from_naive_storage():
    loaded = UTCDateTime().process_result_value(datetime(2026, 6, 1, 2, 0), None)  # noqa: DTZ001
    assert loaded == datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    assert loaded is not None
    assert loaded.tzinfo is UTC


def test_datetime_round_trips_to_the_same_instant_when_bound_then_loaded():
    original = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=BEIJING)
    column = UTCDateTime()
    loaded = column.process_result_value(column.process_bind_param(original, None), None)
    assert loaded == original
    assert loaded is not None
    assert loaded.utcoffset() == timedelta(0)


def test_none_passes_through_when_datetime_is_null():
    column = UTCDateTime()
    assert column.process_bind_param(None, NO_DIALECT) is None
    assert column.process_result_value(None, NO_DIALECT) is None


# --- ScaledDecimal ---------------------------------------------------------------------------


def test_float_is_refused_when_bound_to_a_scaled_decimal():
    with pytest.raises(TypeError, match="never store floats"):
        ScaledDecimal(3).process_bind_param(1.5, NO_DIALECT)  # type: ignore[arg-type]


def test_string_is_refused_when_bound_to_a_scaled_decimal():
    with pytest.raises(TypeError, match="not a Decimal"):
        ScaledDecimal(3).process_bind_param("1.5", NO_DIALECT)  # type: ignore[arg-type]


def test_value_is_refused_not_rounded_when_it_has_more_places_than_the_scale():
    with pytest.raises(ValueError, match="more than 3 decimal places"):
        ScaledDecimal(3).process_bind_param(Decimal("1.2345"), NO_DIALECT)


def test_nan_is_refused_when_bound_to_a_scaled_decimal():
    with pytest.raises(ValueError, match="not a finite quantity"):
        ScaledDecimal(3).process_bind_param(Decimal("NaN"), NO_DIALECT)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (Decimal("1.234"), 1234),
        (Decimal("1.5"), 1500),
        (Decimal("1.500000"), 1500),  # trailing zeros are not extra places
        (Decimal("-0.001"), -1),
        (Decimal("0"), 0),
        (7, 7000),
        (Decimal("1E+3"), 1_000_000),
    ],
)
def test_value_is_stored_as_integer_thousandths_when_scale_is_3(value: Decimal | int, stored: int):
    assert ScaledDecimal(3).process_bind_param(value, NO_DIALECT) == stored


def test_loaded_value_carries_exactly_scale_places_when_read_back():
    loaded = ScaledDecimal(3).process_result_value(5000, NO_DIALECT)
    assert loaded == Decimal("5")
    assert str(loaded) == "5.000"


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.001"),
        Decimal("-0.001"),
        Decimal("123456789012345.678"),
        Decimal("9223372036854775.807"),  # the BIGINT maximum, scaled
        Decimal("42.100"),
    ],
)
def test_value_round_trips_exactly_when_stored_and_loaded(value: Decimal):
    column = ScaledDecimal(3)
    loaded = column.process_result_value(column.process_bind_param(value, None), None)
    assert loaded == value
    assert loaded is not None
    assert loaded.as_tuple().exponent == -3


def test_sum_of_stored_integers_is_exact_when_floats_would_drift():
    column = ScaledDecimal(3)
    total = sum(column.process_bind_param(Decimal("0.1"), None) or 0 for _ in range(10))
    assert column.process_result_value(total, None) == Decimal("1")
    assert sum([0.1] * 10) != 1.0  # what REAL storage would have given


def test_none_passes_through_when_scaled_decimal_is_null():
    column = ScaledDecimal(3)
    assert column.process_bind_param(None, NO_DIALECT) is None
    assert column.process_result_value(None, NO_DIALECT) is None


def test_repr_names_the_scale_when_rendered_for_alembic():
    assert repr(ScaledDecimal(6)) == "ScaledDecimal(6)"


# --- Money ---------------------------------------------------------------------------------


def test_money_is_stored_as_integer_fen_when_bound():
    assert Money().scale == 2
    assert Money().process_bind_param(Decimal("12.34"), NO_DIALECT) == 1234


def test_money_is_refused_when_it_has_fractions_of_a_fen():
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        Money().process_bind_param(Decimal("0.001"), NO_DIALECT)


def test_money_loads_with_two_places_when_read_back_from_fen():
    loaded = Money().process_result_value(1200, NO_DIALECT)
    assert str(loaded) == "12.00"


def test_money_refuses_floats_when_bound():
    with pytest.raises(TypeError):
        Money().process_bind_param(0.1, NO_DIALECT)  # type: ignore[arg-type]


def test_money_repr_takes_no_arguments_when_rendered_for_alembic():
    assert repr(Money()) == "Money()"


# --- round_half_up -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.5", 0, "3"),
        ("-2.5", 0, "-3"),
        ("0.5", 0, "1"),
        ("1.5", 0, "2"),
        ("2.4999", 0, "2"),
        ("1.005", 2, "1.01"),
        ("-1.005", 2, "-1.01"),
        ("2.345", 2, "2.35"),
        ("1234.5", 0, "1235"),
        ("0.0005", 3, "0.001"),
        ("3", 2, "3.00"),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero_when_quantizing(
    value: str, places: int, expected: str
):
    result = round_half_up(Decimal(value), places)
    assert str(result) == expected


def test_round_half_up_differs_from_bankers_rounding_when_value_is_an_even_half():
    assert round(Decimal("2.5")) == 2  # Python's default: half to even
    assert round_half_up(Decimal("2.5")) == Decimal("3")


def test_round_half_up_defaults_to_whole_units_when_places_is_omitted():
    assert str(round_half_up(Decimal("7.49"))) == "7"


def test_booleans_are_refused_as_quantities_although_bool_is_an_int():
    with pytest.raises(TypeError, match="not a Decimal"):
        ScaledDecimal(3).process_bind_param(True, NO_DIALECT)


def test_infinity_is_refused_with_a_value_error():
    with pytest.raises(ValueError, match="not a finite quantity"):
        ScaledDecimal(3).process_bind_param(Decimal("Infinity"), NO_DIALECT)
