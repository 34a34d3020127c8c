"""Intensity indicators and the monthly CO2 series, with hand-worked figures."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from carbon_market.mrv.reports.indicators import intensity, monthly_co2, monthly_document, per
from carbon_market.mrv.reports.output import Output


@pytest.mark.parametrize(
    ("co2", "denominator", "expected"),
    [
        # 2698.788809 t ÷ 1200 = 2.24899067416…, six places half up → 2.248991
        ("2698.788809", "1200", "2.248991"),
        # 1 ÷ 2 000 000 = 0.0000005 exactly: the half rounds up → 0.000001
        ("1", "2000000", "0.000001"),
        # 2 ÷ 3 = 0.666666… → 0.666667
        ("2", "3", "0.666667"),
        # 0 t over any output is 0
        ("0", "7", "0.000000"),
    ],
)
def test_an_intensity_is_stated_to_six_places_half_up(
    co2: str, denominator: str, expected: str
) -> None:
    assert str(per(D(co2), D(denominator))) == expected


def test_no_denominator_gives_no_intensity_and_zero_is_refused() -> None:
    assert per(D("5"), None) is None
    with pytest.raises(ValueError, match="positive"):
        per(D("5"), D("0"))


def test_the_intensity_document_names_its_basis_and_unit() -> None:
    # 2698.5 t verified over 1 350 t clinker = 1.998888… → 1.998889 t/t;
    # over 4 500 × 10^4 CNY = 0.599666… → 0.599667 t per 10^4 CNY.
    output = Output(D("1350"), "t clinker", D("4500"))
    assert intensity(D("2698.5"), output, basis="verified") == {
        "basis": "verified",
        "co2_t_per_output_unit": "1.998889",
        "output_unit": "t clinker",
        "co2_t_per_10k_cny": "0.599667",
    }
    only_value = intensity(D("2698.5"), Output(value_10k_cny=D("4500")), basis="reported")
    assert only_value is not None
    assert only_value["co2_t_per_output_unit"] is None
    assert intensity(D("1"), Output(), basis="reported") is None


def test_the_monthly_series_adds_streams_per_month_and_keeps_the_annual_ones_apart() -> None:
    # January 214.64 + 10 = 224.64 t; February 321.96 t; the gas filed for the year
    # (2162.188809 t) is not in any month.
    streams = [{"co2_t": "2162.188809"}, {"co2_t": "214.64"}, {"co2_t": "321.96"}, {"co2_t": "10"}]
    by_month, annual = monthly_co2([None, 1, 2, 1], streams)
    assert by_month == {1: D("224.64"), 2: D("321.96")}
    assert annual == D("2162.188809")
    assert monthly_document([None, 1, 2, 1], streams) == {
        "months": [{"month": 1, "co2_t": "224.64"}, {"month": 2, "co2_t": "321.96"}],
        "annual_co2_t": "2162.188809",
    }
    with pytest.raises(ValueError, match="one month"):
        monthly_co2([1], streams)
