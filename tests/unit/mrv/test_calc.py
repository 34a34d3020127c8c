"""The emission formulas, checked against worked examples computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from carbon_market.kernel.errors import ValidationFailed
from carbon_market.mrv.calculator.emissions import (
    CalculationInputError,
    calculate_document,
    obligation,
    result_as_json,
    validate,
)


def doc(*streams, year=2025, **extra):
    return {"year": year, "streams": list(streams), **extra}


def fuel(code, quantity, unit, **extra):
    return {"kind": "fuel", "fuel": code, "quantity": quantity, "unit": unit, **extra}


def one(*streams, **kwargs):
    result = calculate_document(doc(*streams), **kwargs)
    return result.streams[0] if len(result.streams) == 1 else result


# --- fuel combustion ---------------------------------------------------------------------


def test_natural_gas_with_the_default_factors():
    # 1000 × 10^4 Nm3 × 389.31 GJ/10^4 Nm3 = 389 310 GJ
    # 389 310 GJ × 0.01530 tC/GJ            = 5 956.443 tC
    # 5 956.443 tC × 0.99                   = 5 896.87857 tC
    # 5 896.87857 × 44 = 259 462.65708;  ÷ 12 = 21 621.88809 tCO2 (exact)
    stream = one(fuel("natural_gas", "1000", "10^4 Nm3"))
    assert stream.co2_t == D("21621.888090")
    # Pollutants: 1000 × 0.4 = 400 kg SO2; × 16.02 = 16 020 NOx; × 1.22 = 1 220 PM;
    # × 0.88 = 880 VOCs.
    assert stream.pollutants_kg.as_dict() == {
        "so2": D("400"),
        "nox": D("16020"),
        "pm": D("1220"),
        "vocs": D("880"),
    }


def test_natural_gas_in_nm3_is_converted_to_ten_thousand_nm3():
    # 10 000 000 Nm3 × 0.0001 = 1000 × 10^4 Nm3: the same 21 621.888090 t as above.
    assert one(fuel("natural_gas", "10000000", "Nm3")).co2_t == D("21621.888090")


def test_raw_coal_with_the_issues_overrides():
    # 5000 t × 20.908 GJ/t        = 104 540 GJ
    # 104 540 GJ × 0.02618 tC/GJ  = 2 736.8572 tC
    # 2 736.8572 tC × 0.94        = 2 572.645768 tC
    # 2 572.645768 × 44 = 113 196.413792;  ÷ 12 = 9 433.034482666…
    # stated to 6 places, half up (7th place 6): 9 433.034483 t
    stream = one(
        fuel(
            "raw_coal",
            "5000",
            "t",
            factors={"ncv": "20.908", "carbon_content": "0.02618", "oxidation_rate": "0.94"},
            pollutants={"so2": "8.5", "nox": "4.2"},
        )
    )
    assert stream.co2_t == D("9433.034483")
    # SO2 5000 × 8.5 = 42 500 kg; NOx 5000 × 4.2 = 21 000 kg (overrides);
    # PM 5000 × 33 = 165 000 kg and VOCs 5000 × 0.025 = 125 kg (set defaults).
    assert stream.pollutants_kg.as_dict() == {
        "so2": D("42500"),
        "nox": D("21000"),
        "pm": D("165000"),
        "vocs": D("125"),
    }
    assert stream.factors_used["carbon_content"] == D("0.02618")
    assert stream.factors_used["overridden"] == [
        "carbon_content",
        "ncv",
        "nox",
        "oxidation_rate",
        "so2",
    ]


def test_raw_coal_with_the_default_factors():
    # 5000 t × 20.908 = 104 540 GJ;  × 0.02637 tC/GJ = 2 756.7198 tC
    # × 0.94 = 2 591.316612 tC;  × 44 = 114 017.930928;  ÷ 12 = 9 501.494244 t (exact)
    assert one(fuel("raw_coal", "5000", "t")).co2_t == D("9501.494244")


def test_diesel_with_the_default_factors():
    # 100 t × 42.652 GJ/t = 4 265.2 GJ;  × 0.0202 tC/GJ = 86.15704 tC
    # × 0.98 = 84.4338992 tC;  × 44 = 3 715.0915648;  ÷ 12 = 309.590963733…
    # stated to 6 places, half up: 309.590964 t
    stream = one(fuel("diesel", "100", "t"))
    assert stream.co2_t == D("309.590964")
    # SO2 100 × 0.02 = 2; NOx 100 × 2.85 = 285; PM 100 × 0.29 = 29; VOCs 100 × 0.03 = 3 kg
    assert stream.pollutants_kg.as_dict() == {
        "so2": D("2"),
        "nox": D("285"),
        "pm": D("29"),
        "vocs": D("3"),
    }


def test_diesel_in_kilotonnes_is_converted_to_tonnes():
    # 0.1 kt × 1000 = 100 t: the same 309.590964 t as above.
    assert one(fuel("diesel", "0.1", "kt")).co2_t == D("309.590964")


# --- purchased electricity and heat, process ----------------------------------------------


def electricity(quantity, unit="MWh", **extra):
    return {"kind": "electricity", "quantity": quantity, "unit": unit, **extra}


def test_purchased_electricity_with_no_green_power_claim():
    # 10 000 MWh × 0.5366 tCO2/MWh = 5 366 t
    stream = one(electricity("10000"))
    assert stream.co2_t == D("5366")
    assert stream.factors_used["green_power_mwh"] == D("0")


def test_purchased_electricity_less_the_green_power_claimed():
    # (10 000 − 2 500) MWh × 0.5366 = 7 500 × 0.5366 = 4 024.5 t
    stream = one(electricity("10000"), green_power_mwh=D("2500"))
    assert stream.co2_t == D("4024.5")
    assert stream.factors_used["green_power_mwh"] == D("2500")


def test_a_green_power_claim_never_takes_electricity_below_zero():
    # 12 000 MWh claimed against 10 000 MWh bought: 0 MWh × 0.5366 = 0 t, not −1 073.2 t
    assert one(electricity("10000"), green_power_mwh=D("12000")).co2_t == D("0")


def test_a_green_power_claim_is_taken_from_electricity_streams_in_order():
    # Claim 4 000 MWh: stream 1 (3 000 MWh) → 0 MWh, 1 000 MWh left;
    # stream 2: (5 000 − 1 000) × 0.5366 = 2 146.4 t
    result = one(electricity("3000"), electricity("5000"), green_power_mwh=D("4000"))
    assert [s.co2_t for s in result.streams] == [D("0"), D("2146.4")]


@pytest.mark.parametrize(
    ("quantity", "unit", "co2"),
    [
        # 2 500 000 kWh = 2 500 MWh;  × 0.5366 = 1 341.5 t
        ("2500000", "kWh", "1341.5"),
        # 1.5 GWh = 1 500 MWh;  × 0.5366 = 804.9 t
        ("1.5", "GWh", "804.9"),
    ],
)
def test_electricity_in_kwh_or_gwh_is_converted_to_mwh(quantity, unit, co2):
    assert one(electricity(quantity, unit)).co2_t == D(co2)


def test_a_grid_factor_override_replaces_the_sets_factor():
    # 1 000 MWh × 0.6776 (North China regional factor) = 677.6 t
    assert one(electricity("1000", factors={"grid": "0.6776"})).co2_t == D("677.6")


def test_purchased_heat():
    # 50 000 GJ × 0.11 tCO2/GJ = 5 500 t;  2 TJ = 2 000 GJ × 0.11 = 220 t
    heat = {"kind": "heat", "quantity": "50000", "unit": "GJ"}
    assert one(heat).co2_t == D("5500")
    assert one(dict(heat, quantity="2", unit="TJ")).co2_t == D("220")


def test_limestone_calcination():
    # 200 t CaCO3 × 0.440 tCO2/t = 88 t;  0.2 kt = 200 t gives the same
    limestone = {"kind": "process", "activity": "limestone", "quantity": "200", "unit": "t"}
    assert one(limestone).co2_t == D("88")
    assert one(dict(limestone, quantity="0.2", unit="kt")).co2_t == D("88")


# --- totals and rounding ------------------------------------------------------------------


def process(quantity, factor):
    return {
        "kind": "process",
        "activity": "limestone",
        "quantity": quantity,
        "unit": "t",
        "factors": {"factor": factor},
    }


def test_the_obligation_rounds_half_up():
    # 1 t × 2.5 = 2.5 t → 3 t (half up; banker's rounding would give 2)
    result = calculate_document(doc(process("1", "2.5")))
    assert (result.co2_t, result.obligation_t) == (D("2.5"), 3)
    # 1 t × 2.499999 = 2.499999 t → 2 t
    assert calculate_document(doc(process("1", "2.499999"))).obligation_t == 2


def test_the_obligation_is_rounded_once_on_the_total_not_per_stream():
    # 0.3 t + 0.3 t = 0.6 t → 1 t; rounding each stream first would give 0 + 0 = 0 t
    result = calculate_document(doc(process("1", "0.3"), process("1", "0.3")))
    assert [s.co2_t for s in result.streams] == [D("0.3"), D("0.3")]
    assert (result.co2_t, result.obligation_t) == (D("0.6"), 1)


def test_a_stream_is_stated_to_the_gram_half_up():
    # 1 t × 0.0000005 tCO2/t = 0.0000005 t → 0.000001 t at 6 places, half up
    assert calculate_document(doc(process("1", "0.0000005"))).co2_t == D("0.000001")


def test_obligation_rule():
    assert [obligation(D(x)) for x in ("0.5", "1.49", "41999.5", "42008.922573")] == [
        1,
        1,
        42000,
        42009,
    ]


ISSUE_EXAMPLE = {
    "year": 2025,
    "factor_set": "cn-default",
    "streams": [
        {"kind": "fuel", "fuel": "natural_gas", "quantity": "1000", "unit": "10^4 Nm3"},
        {
            "kind": "fuel",
            "fuel": "raw_coal",
            "quantity": "5000",
            "unit": "t",
            "factors": {"ncv": "20.908", "carbon_content": "0.02618", "oxidation_rate": "0.94"},
            "pollutants": {"so2": "8.5", "nox": "4.2"},
        },
        {"kind": "electricity", "quantity": "10000", "unit": "MWh"},
        {"kind": "heat", "quantity": "50000", "unit": "GJ", "factors": {"heat": "0.11"}},
        {"kind": "process", "activity": "limestone", "quantity": "200", "unit": "t"},
    ],
}


def test_the_issues_example_adds_up_stream_by_stream():
    # 21 621.888090 + 9 433.034483 + 5 366 + 5 500 + 88 = 42 008.922573 t → obligation 42 009
    # SO2 400 + 42 500 = 42 900; NOx 16 020 + 21 000 = 37 020; PM 1 220 + 165 000 = 166 220;
    # VOCs 880 + 125 = 1 005 kg (electricity, heat and limestone carry no pollutant factors)
    result = calculate_document(ISSUE_EXAMPLE)
    assert result.co2_t == D("42008.922573")
    assert result.obligation_t == 42009
    assert result.pollutants_kg.as_dict() == {
        "so2": D("42900"),
        "nox": D("37020"),
        "pm": D("166220"),
        "vocs": D("1005"),
    }
    out = result_as_json(result)
    assert [s["co2_t"] for s in out["streams"]] == [
        "21621.888090",
        "9433.034483",
        "5366.000000",
        "5500.000000",
        "88.000000",
    ]


def test_without_a_factor_set_the_default_set_for_the_year_is_used():
    without = {k: v for k, v in ISSUE_EXAMPLE.items() if k != "factor_set"}
    assert calculate_document(without).co2_t == D("42008.922573")


# --- bad input ----------------------------------------------------------------------------


def errors_of(document):
    return [str(e) for e in validate(document)]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (fuel("diesel", "-5", "t"), "streams[0].quantity: -5 is negative"),
        (fuel("diesel", "five", "t"), "streams[0].quantity: 'five' is not a number"),
        (fuel("diesel", "NaN", "t"), "streams[0].quantity: 'NaN' is not a finite number"),
        (fuel("diesel", 5.0, "t"), "streams[0].quantity: 5.0 must be a decimal string"),
        (fuel("diesel", "1E20", "t"), "streams[0].quantity: 1E20 is out of range"),
        # One significant digit, but 400 000 places: its products underflowed the context
        # (decimal.Inexact, a 500) instead of being refused here.
        (fuel("diesel", "1E-400000", "t"), "streams[0].quantity: 1E-400000 is out of range"),
        ({"kind": "fuel", "fuel": "diesel", "unit": "t"}, "streams[0].quantity: required"),
        (fuel("peat", "5", "t"), "streams[0].fuel: unknown fuel 'peat' in factor set cn-default"),
        (fuel("diesel", "5", "m3"), "streams[0].unit: unknown unit 'm3'"),
        (fuel("raw_coal", "5", "Nm3"), "streams[0].unit: 'Nm3' does not fit fuel raw_coal"),
        (fuel("natural_gas", "5", "t"), "streams[0].unit: 't' does not fit fuel natural_gas"),
        (electricity("5", "GJ"), "streams[0].unit: 'GJ' does not fit an electricity stream"),
        (
            {"kind": "heat", "quantity": "5", "unit": "MWh"},
            "streams[0].unit: 'MWh' does not fit a heat stream",
        ),
        (
            {"kind": "process", "activity": "dolomite", "quantity": "5", "unit": "t"},
            "streams[0].activity: unknown activity 'dolomite'",
        ),
        ({"kind": "steam", "quantity": "5", "unit": "t"}, "streams[0].kind: 'steam' is not one"),
        (
            fuel("diesel", "5", "t", factors={"grid": "0.5"}),
            "streams[0].factors.grid: unknown; expected ncv, carbon_content, oxidation_rate",
        ),
        (
            fuel("diesel", "5", "t", factors={"oxidation_rate": "1.5"}),
            "streams[0].factors.oxidation_rate: 1.5 is above 1",
        ),
        (
            fuel("diesel", "5", "t", pollutants={"co": "1"}),
            "streams[0].pollutants.co: unknown; expected so2, nox, pm, vocs",
        ),
        (fuel("diesel", "5", "t", factor={"ncv": "1"}), "streams[0].factor: not a field"),
    ],
)
def test_a_bad_stream_is_reported_with_its_index_and_field(stream, expected):
    errors = errors_of(doc(stream))
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors


def test_a_year_with_no_factor_set_is_reported_at_the_year():
    assert errors_of(doc(fuel("diesel", "5", "t"), year=2019)) == [
        "year: no factor set applies to 2019"
    ]


def test_a_named_set_that_does_not_apply_to_the_year_is_reported_at_the_year():
    errors = errors_of(doc(fuel("diesel", "5", "t"), year=2030, factor_set="cn-default"))
    assert errors == ["year: factor set cn-default applies to 2022-2026, not 2030"]


def test_an_unknown_factor_set_is_reported():
    errors = errors_of(doc(fuel("diesel", "5", "t"), factor_set="cn-1999"))
    assert errors[0].startswith("factor_set: unknown factor set 'cn-1999'")


def test_every_error_is_collected_not_just_the_first():
    document = doc(
        fuel("diesel", "-1", "t"),
        fuel("raw_coal", "5", "t"),
        fuel("raw_coal", "5", "Nm3"),
        electricity("x", "GJ"),
    )
    assert [e.path for e in validate(document)] == [
        "streams[0].quantity",
        "streams[2].unit",
        "streams[3].quantity",
        "streams[3].unit",
    ]


def test_bad_input_raises_a_validation_failure_with_json_pointers():
    with pytest.raises(CalculationInputError) as caught:
        calculate_document(doc(fuel("raw_coal", "5", "Nm3")))
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.detail.startswith("streams[0].unit: 'Nm3' does not fit fuel raw_coal")
    assert [e.pointer for e in caught.value.errors] == ["#/streams/0/unit"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "$: the input must be a JSON object"),
        ({"year": 2025, "streams": []}, "streams: required: a non-empty list"),
        ({"year": "2025", "streams": [fuel("diesel", "1", "t")]}, "year: '2025' is not a year"),
        ({"year": 2025, "streams": [fuel("diesel", "1", "t")], "yaer": 1}, "yaer: unknown"),
    ],
)
def test_a_bad_document_is_reported(document, expected):
    assert errors_of(document)[0].startswith(expected)


def test_report_only_fields_of_a_stream_are_accepted_and_ignored():
    stream = fuel("diesel", "100", "t", facility="F-1", month=3, evidence="invoice 17")
    assert one(stream).co2_t == D("309.590964")


def test_the_widest_accepted_values_are_multiplied_exactly():
    # Every value may carry 30 significant digits (MAX_DIGITS), so a fuel's product of four
    # values times 44 has up to 4 × 30 + 2 = 122 digits: it must stay exact (it used to
    # raise decimal.Inexact, a 500 from the API and a traceback from `mrv calc`).
    from fractions import Fraction

    digits = "0." + "7" * 29  # 30 significant digits
    quantity, ncv = "999999999999.999999999999999999", "1" + digits[1:]
    stream = fuel(
        "raw_coal", quantity, "t",
        factors={"ncv": ncv, "carbon_content": digits, "oxidation_rate": digits},
        pollutants={"so2": digits},
    )  # fmt: skip
    exact = Fraction(quantity) * Fraction(ncv) * Fraction(digits) ** 2 * 44 / 12
    # Stated to 6 places, half up (the value is never negative).
    stated = D(int(exact * 10**6 + Fraction(1, 2))).scaleb(-6)
    assert one(stream).co2_t == stated
    assert one(stream).pollutants_kg.so2 == D(
        int(Fraction(quantity) * Fraction(digits) * 1000 + Fraction(1, 2))
    ).scaleb(-3)
