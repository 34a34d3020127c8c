"""``carbon-market mrv calc``: the offline calculator's JSON in and out (issue 5, item 6)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from carbon_market.entrypoints.cli import main

EXAMPLE = """{"year": 2025, "factor_set": "cn-default",
 "streams": [
   {"kind": "fuel", "fuel": "natural_gas", "quantity": "1000", "unit": "10^4 Nm3"},
   {"kind": "fuel", "fuel": "raw_coal", "quantity": "5000", "unit": "t",
    "factors": {"ncv": "20.908", "carbon_content": "0.02618", "oxidation_rate": "0.94"},
    "pollutants": {"so2": "8.5", "nox": "4.2"}},
   {"kind": "electricity", "quantity": "10000", "unit": "MWh"},
   {"kind": "heat", "quantity": "50000", "unit": "GJ", "factors": {"heat": "0.11"}},
   {"kind": "process", "activity": "limestone", "quantity": "200", "unit": "t"}]}
"""


def calc(*args, input=None):
    return CliRunner().invoke(main, ["mrv", "calc", *args], input=input)


def assert_one_error_line(result, start):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(start), lines[0]


def test_the_issues_example_prints_the_breakdown(tmp_path):
    path = tmp_path / "streams.json"
    path.write_text(EXAMPLE, encoding="utf-8")
    result = calc(str(path))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["co2_t", "obligation_t", "pollutants_kg", "streams"]
    # 21 621.888090 + 9 433.034483 + 5 366 + 5 500 + 88 = 42 008.922573 t (see test_calc.py)
    assert out["co2_t"] == "42008.922573"
    assert out["obligation_t"] == 42009
    assert isinstance(out["obligation_t"], int)
    # SO2 400 + 42 500; NOx 16 020 + 21 000; PM 1 220 + 165 000; VOCs 880 + 125 (kg)
    assert out["pollutants_kg"] == {
        "so2": "42900.000",
        "nox": "37020.000",
        "pm": "166220.000",
        "vocs": "1005.000",
    }
    assert [(s["kind"], s["co2_t"]) for s in out["streams"]] == [
        ("fuel", "21621.888090"),
        ("fuel", "9433.034483"),
        ("electricity", "5366.000000"),
        ("heat", "5500.000000"),
        ("process", "88.000000"),
    ]
    for stream in out["streams"]:
        assert list(stream) == ["kind", "co2_t", "pollutants_kg", "factors_used"]
        assert list(stream["pollutants_kg"]) == ["so2", "nox", "pm", "vocs"]
    coal = out["streams"][1]["factors_used"]
    assert (coal["ncv"], coal["carbon_content"], coal["oxidation_rate"]) == (
        "20.908",
        "0.02618",
        "0.94",
    )
    assert coal["pollutants"]["so2"] == "8.5"
    assert out["streams"][2]["factors_used"]["grid"] == "0.5366"


def test_a_dash_reads_stdin_and_the_factor_set_may_be_left_out():
    document = json.loads(EXAMPLE)
    del document["factor_set"]
    result = calc("-", input=json.dumps(document))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["co2_t"] == "42008.922573"


def test_json_numbers_are_read_as_exact_decimals():
    # 0.1 kt of diesel as a JSON number: 100 t → 309.590964 t (test_calc.py). Read as a binary
    # float, 0.1 would be 0.1000000000000000055… (and the calculator refuses floats).
    stream = '{"kind": "fuel", "fuel": "diesel", "quantity": 0.1, "unit": "kt"}'
    text = '{"year": 2025, "streams": [' + stream + "]}"
    result = calc("-", input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["co2_t"] == "309.590964"


def test_a_unit_that_does_not_fit_the_fuel_exits_1_with_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(EXAMPLE.replace('"unit": "t",', '"unit": "Nm3",', 1), encoding="utf-8")
    assert_one_error_line(
        calc(str(path)),
        "error: Validation failed: streams[1].unit: 'Nm3' does not fit fuel raw_coal",
    )


def test_several_errors_still_make_one_line():
    text = EXAMPLE.replace('"quantity": "1000"', '"quantity": "-1"').replace(
        '"quantity": "10000"', '"quantity": "lots"'
    )
    result = calc("-", input=text)
    assert_one_error_line(result, "error: Validation failed: streams[0].quantity: -1 is negative")
    assert "streams[2].quantity: 'lots' is not a number" in result.stderr


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("not json", "error: Validation failed: <stdin> is not valid JSON"),
        ('{"year": 2025, "streams": [NaN]}', "error: Validation failed: <stdin> is not valid JSON"),
        (
            EXAMPLE.replace("2025", "2019"),
            "error: Validation failed: year: factor set cn-default applies to 2022-2026, not 2019",
        ),
        (
            EXAMPLE.replace("2025", "2019").replace('"factor_set": "cn-default",', ""),
            "error: Validation failed: year: no factor set applies to 2019",
        ),
    ],
)
def test_a_bad_file_exits_1_with_one_line(text, start):
    assert_one_error_line(calc("-", input=text), start)
