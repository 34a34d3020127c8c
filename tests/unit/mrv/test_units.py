"""Unit conversions: exact, within one dimension, and a wrong-dimension unit is refused."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from carbon_market.mrv.calculator.units import (
    Dimension,
    UnitError,
    convert,
    require_dimension,
    to_base,
)


@pytest.mark.parametrize(
    ("quantity", "unit", "base"),
    [
        # 2.5 kt × 1000 t/kt = 2500 t
        ("2.5", "kt", "2500"),
        ("2.5", "t", "2.5"),
        # 12 345 Nm3 × 0.0001 (10^4 Nm3 per Nm3) = 1.2345 × 10^4 Nm3
        ("12345", "Nm3", "1.2345"),
        ("7", "10^4 Nm3", "7"),
        # 1 500 kWh × 0.001 MWh/kWh = 1.5 MWh;  0.25 GWh × 1000 MWh/GWh = 250 MWh
        ("1500", "kWh", "1.5"),
        ("0.25", "GWh", "250"),
        ("42", "MWh", "42"),
        # 3.2 TJ × 1000 GJ/TJ = 3200 GJ
        ("3.2", "TJ", "3200"),
        ("8", "GJ", "8"),
    ],
)
def test_to_base_converts_exactly_to_the_base_unit(quantity, unit, base):
    assert to_base(D(quantity), unit) == D(base)


def test_conversion_is_exact_for_digits_a_float_would_lose():
    # 0.1 kWh = 0.0001 MWh exactly; a binary float would give 0.00010000000000000000555…
    assert to_base(D("0.1"), "kWh") == D("0.0001")
    assert convert(D("123456789.123456789"), "kt", "t") == D("123456789123.456789")


def test_convert_goes_between_non_base_units():
    # 2 GWh = 2 000 000 kWh;  5 TJ = 5000 GJ;  3 × 10^4 Nm3 = 30 000 Nm3
    assert convert(D("2"), "GWh", "kWh") == D("2000000")
    assert convert(D("5"), "TJ", "GJ") == D("5000")
    assert convert(D("3"), "10^4 Nm3", "Nm3") == D("30000")


def test_convert_refuses_units_of_different_dimensions():
    with pytest.raises(UnitError, match="cannot convert 'GJ'"):
        convert(D("1"), "GJ", "MWh")


def test_an_unknown_unit_is_refused_with_the_known_ones_listed():
    with pytest.raises(UnitError, match=r"unknown unit 'm3' \(known: t, kt, Nm3"):
        to_base(D("1"), "m3")


def test_a_unit_of_another_dimension_does_not_fit():
    with pytest.raises(UnitError, match="'Nm3' does not fit fuel raw_coal"):
        require_dimension("Nm3", Dimension.MASS, "fuel raw_coal")
    assert require_dimension("kt", Dimension.MASS, "fuel raw_coal").in_base == D("1000")
