"""The synergy (协同) view's arithmetic, checked against worked examples computed by hand."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pandas as pd
import pytest

from carbon_market.mrv.synergy.tables import (
    COLUMNS,
    INPUT_COLUMNS,
    group_keys,
    round_half_up,
    synergy_table,
)

Y = 2025
CHANGES = [c for c in COLUMNS if "change" in c or "reduced" in c]
ZERO_KG = {"nox_kg": D("0.000"), "pm_kg": D("0.000"), "vocs_kg": D("0.000")}


def _row(
    enterprise: int,
    year: int,
    co2: str,
    so2: str = "0",
    *,
    sector: str = "cement",
    district: str = "chaoyang",
    nox: str = "0",
) -> tuple[Any, ...]:
    return (enterprise, sector, district, year, D(co2), D(so2), D(nox), D("0"), D("0"))


def _frame(*rows: tuple[Any, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(INPUT_COLUMNS))
    figures = [c for c in INPUT_COLUMNS if c.endswith(("_t", "_kg"))]
    return frame.astype(dict.fromkeys(figures, object))


#: The issue's worked example: one cement enterprise.
#:   2024: CO2 1000 t, SO2 500 kg;  2025: CO2 900 t, SO2 420 kg.
#:   co2_change_t = 900 − 1000 = −100 t; so2_change_kg = 420 − 500 = −80 kg;
#:   co2_change_pct = −100 / 1000 × 100 = −10.00 %;
#:   so2_kg_per_t_co2_reduced = (−(−80)) / (−(−100)) = 80 / 100 = 0.800 kg/t.
CEMENT = (_row(1, 2024, "1000", "500"), _row(1, 2025, "900", "420"))


def test_worked_example_gives_the_change_the_percentage_and_the_indicator() -> None:
    table = synergy_table(_frame(*CEMENT), year=Y, group_by=["sector"])

    assert table.records == [
        {
            "sector": "cement",
            "enterprises": 1,
            "matched_enterprises": 1,
            "co2_t": D("900"),
            "so2_kg": D("420"),
            "nox_kg": D("0"),
            "pm_kg": D("0"),
            "vocs_kg": D("0"),
            "co2_change_t": D("-100"),
            "co2_change_pct": D("-10.00"),
            "so2_change_kg": D("-80"),
            "nox_change_kg": D("0"),
            "pm_change_kg": D("0"),
            "vocs_change_kg": D("0"),
            "so2_kg_per_t_co2_reduced": D("0.800"),
            "nox_kg_per_t_co2_reduced": D("0.000"),
            "pm_kg_per_t_co2_reduced": D("0.000"),
            "vocs_kg_per_t_co2_reduced": D("0.000"),
        }
    ]
    assert str(table.records[0]["so2_kg_per_t_co2_reduced"]) == "0.800"
    assert (table.year, table.previous_year, table.group_by) == (2025, 2024, ("sector",))


def test_figures_stay_decimal_through_the_sums_never_float() -> None:
    table = synergy_table(
        _frame(*CEMENT, _row(2, 2025, "0.000001", "0.001")), year=Y, group_by=["sector"]
    )

    row = table.records[0]
    # 900 + 0.000001 = 900.000001 t exactly; a float would give 900.000001000000028...
    assert row["co2_t"] == D("900.000001")
    assert row["so2_kg"] == D("420.001")
    for column in COLUMNS:
        value = row[column]
        assert isinstance(value, int if column.endswith("enterprises") else D), column
        assert isinstance(table.total[column], type(value)), column


def test_an_entrant_counts_in_the_year_and_the_total_but_not_in_the_change() -> None:
    # Enterprise 2 enters in 2025 with 400 t and 100 kg SO2: the sector's 2025 figures are
    # 900 + 400 = 1300 t and 420 + 100 = 520 kg, but the change is still enterprise 1's
    # alone (−100 t, −80 kg, 0.800 kg/t). Counting it would make CO2 *rise* by 300 t.
    table = synergy_table(_frame(*CEMENT, _row(2, 2025, "400", "100")), year=Y, group_by=["sector"])

    (row,) = table.records
    assert (row["enterprises"], row["matched_enterprises"]) == (2, 1)
    assert (row["co2_t"], row["so2_kg"]) == (D("1300"), D("520"))
    assert (row["co2_change_t"], row["so2_change_kg"]) == (D("-100"), D("-80"))
    assert row["so2_kg_per_t_co2_reduced"] == D("0.800")
    assert (table.total["enterprises"], table.total["co2_t"]) == (2, D("1300"))
    assert table.total["co2_change_t"] == D("-100")


def test_a_leaver_fakes_no_reduction() -> None:
    # Enterprise 3 reported 5000 t in 2024 and nothing in 2025: comparing all of 2024 with
    # all of 2025 would show a 5100 t "reduction". Like-for-like it is enterprise 1's −100 t.
    table = synergy_table(
        _frame(*CEMENT, _row(3, 2024, "5000", "3000")), year=Y, group_by=["sector"]
    )

    (row,) = table.records
    assert (row["enterprises"], row["matched_enterprises"]) == (1, 1)
    assert (row["co2_change_t"], row["so2_change_kg"]) == (D("-100"), D("-80"))
    assert row["co2_change_pct"] == D("-10.00")


def test_no_indicator_when_co2_rose_and_the_percentage_is_positive() -> None:
    # 1000 t → 1100 t (+100 t, +10.00 %), SO2 500 → 450 kg: the pollutant fell but CO2 did not,
    # so there is no "reduced per tonne reduced".
    table = synergy_table(
        _frame(_row(1, 2024, "1000", "500"), _row(1, 2025, "1100", "450")),
        year=Y,
        group_by=["sector"],
    )

    (row,) = table.records
    assert (row["co2_change_t"], row["co2_change_pct"]) == (D("100"), D("10.00"))
    assert row["so2_change_kg"] == D("-50")
    assert row["so2_kg_per_t_co2_reduced"] is None


def test_no_indicator_when_co2_is_unchanged() -> None:
    table = synergy_table(
        _frame(_row(1, 2024, "1000", "500"), _row(1, 2025, "1000.000", "400")),
        year=Y,
        group_by=["sector"],
    )

    (row,) = table.records
    assert row["co2_change_t"] == 0
    assert row["co2_change_pct"] == D("0.00")
    assert row["so2_kg_per_t_co2_reduced"] is None


def test_percentage_is_null_when_the_previous_co2_is_zero() -> None:
    # 0 t → 50 t: a change of +50 t, but no base to state it as a percentage of.
    table = synergy_table(
        _frame(_row(1, 2024, "0"), _row(1, 2025, "50")), year=Y, group_by=["sector"]
    )

    (row,) = table.records
    assert (row["co2_change_t"], row["co2_change_pct"]) == (D("50"), None)


def test_indicator_is_negative_when_the_pollutant_rose_while_co2_fell() -> None:
    # CO2 1000 → 800 t (−200 t); NOx 300 → 350 kg (+50 kg): (−50) / 200 = −0.250 kg/t.
    table = synergy_table(
        _frame(_row(1, 2024, "1000", nox="300"), _row(1, 2025, "800", nox="350")),
        year=Y,
        group_by=["sector"],
    )

    assert table.records[0]["nox_kg_per_t_co2_reduced"] == D("-0.250")


def test_indicator_is_rounded_once_half_up_to_three_places() -> None:
    # CO2 −2 t, SO2 −0.001 kg: 0.001 / 2 = 0.0005 kg/t, a tie: half up gives 0.001
    # (banker's rounding would give 0.000). CO2 −3 t, SO2 −2 kg: 0.6666… → 0.667.
    tie = synergy_table(
        _frame(_row(1, 2024, "10", "1.000"), _row(1, 2025, "8", "0.999")),
        year=Y,
        group_by=["sector"],
    )
    third = synergy_table(
        _frame(_row(1, 2024, "10", "5"), _row(1, 2025, "7", "3")), year=Y, group_by=["sector"]
    )

    assert tie.records[0]["so2_kg_per_t_co2_reduced"] == D("0.001")
    assert third.records[0]["so2_kg_per_t_co2_reduced"] == D("0.667")


def test_percentage_is_rounded_once_half_up_to_two_places() -> None:
    # 200 t → 199.99 t: −0.01 / 200 × 100 = −0.005 %, a tie: half up (away from zero) −0.01.
    # 3 t → 2 t: −1 / 3 × 100 = −33.333… → −33.33.
    tie = synergy_table(
        _frame(_row(1, 2024, "200"), _row(1, 2025, "199.99")), year=Y, group_by=["sector"]
    )
    third = synergy_table(
        _frame(_row(1, 2024, "3"), _row(1, 2025, "2")), year=Y, group_by=["sector"]
    )

    assert tie.records[0]["co2_change_pct"] == D("-0.01")
    assert third.records[0]["co2_change_pct"] == D("-33.33")


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "expected"),
    [
        ("1", "8", 2, "0.13"),  # 0.125: a tie, up
        ("-1", "8", 2, "-0.13"),  # ties away from zero
        ("1", "3", 3, "0.333"),
        ("2", "3", 3, "0.667"),
        ("-0", "5", 3, "0.000"),
        ("123456789012345678901234567890", "1", 3, "123456789012345678901234567890.000"),
    ],
)
def test_round_half_up_rounds_an_exact_quotient_once(
    numerator: str, denominator: str, places: int, expected: str
) -> None:
    result = round_half_up(D(numerator), D(denominator), places)
    assert str(result) == expected


#: Three enterprises, two sectors, two districts (2024 → 2025):
#:   1 cement/chaoyang: 1000 → 900 t, SO2 500 → 420 kg;
#:   2 cement/haidian:  400 → 350 t,  SO2 100 → 95 kg;
#:   3 power/haidian:   2000 → 2100 t, SO2 50 → 60 kg.
THREE = (
    *CEMENT,
    _row(2, 2024, "400", "100", district="haidian"),
    _row(2, 2025, "350", "95", district="haidian"),
    _row(3, 2024, "2000", "50", sector="power", district="haidian"),
    _row(3, 2025, "2100", "60", sector="power", district="haidian"),
)


def _summary(table: Any, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in columns) for r in table.records]


def test_rows_per_sector_sorted_with_each_sectors_own_indicator() -> None:
    # cement: 900 + 350 = 1250 t, change (−100) + (−50) = −150 t, SO2 (−80) + (−5) = −85 kg,
    #   85 / 150 = 0.5666… → 0.567 kg/t; −150 / 1400 × 100 = −10.714… → −10.71 %.
    # power: +100 t (+5.00 %), no indicator.
    table = synergy_table(_frame(*THREE), year=Y, group_by=["sector"])

    assert _summary(
        table, "sector", "co2_t", "co2_change_t", "co2_change_pct", "so2_kg_per_t_co2_reduced"
    ) == [
        ("cement", D("1250"), D("-150"), D("-10.71"), D("0.567")),
        ("power", D("2100"), D("100"), D("5.00"), None),
    ]


def test_rows_per_district() -> None:
    # chaoyang: enterprise 1 alone; haidian: 350 + 2100 = 2450 t, change −50 + 100 = +50 t.
    table = synergy_table(_frame(*THREE), year=Y, group_by=["district"])

    assert _summary(table, "district", "enterprises", "co2_t", "co2_change_t") == [
        ("chaoyang", 1, D("900"), D("-100")),
        ("haidian", 2, D("2450"), D("50")),
    ]
    assert list(table.rows.columns[:2]) == ["district", "enterprises"]


def test_rows_per_sector_and_district_are_the_pairs_present_sorted_by_sector_first() -> None:
    # "district, sector" is the same grouping; power/chaoyang has nobody and is no row.
    table = synergy_table(_frame(*THREE), year=Y, group_by=["district", "sector"])

    assert table.group_by == ("sector", "district")
    assert _summary(table, "sector", "district", "co2_change_t") == [
        ("cement", "chaoyang", D("-100")),
        ("cement", "haidian", D("-50")),
        ("power", "haidian", D("100")),
    ]


def test_total_adds_up_the_rows_and_states_its_own_ratios() -> None:
    # Total: 900 + 350 + 2100 = 3350 t; change −100 − 50 + 100 = −50 t on a base of
    # 1000 + 400 + 2000 = 3400 t → −1.470… → −1.47 %; SO2 change −80 − 5 + 10 = −75 kg,
    # 75 / 50 = 1.500 kg/t (not an average of the rows' 0.567 and null).
    table = synergy_table(_frame(*THREE), year=Y, group_by=["sector"])

    for column in ("enterprises", "matched_enterprises", "co2_t", "so2_kg", "co2_change_t"):
        assert table.total[column] == sum(r[column] for r in table.records), column
    assert table.total["co2_t"] == D("3350")
    assert table.total["co2_change_pct"] == D("-1.47")
    assert table.total["so2_kg_per_t_co2_reduced"] == D("1.500")
    assert set(table.total) == set(COLUMNS)


def test_an_enterprise_that_changed_sector_is_compared_within_its_current_sector() -> None:
    # Enterprise 1 was "other_industry" in the 2024 row and is "cement" in 2025: both years
    # count for cement, so cement shows −100 t and other_industry no row at all.
    table = synergy_table(
        _frame(_row(1, 2024, "1000", "500", sector="other_industry"), CEMENT[1]),
        year=Y,
        group_by=["sector"],
    )

    assert _summary(table, "sector", "matched_enterprises", "co2_change_t") == [
        ("cement", 1, D("-100"))
    ]


def test_a_group_without_a_match_has_null_changes_not_zeros() -> None:
    table = synergy_table(_frame(_row(2, 2025, "400", "100")), year=Y, group_by=["sector"])

    (row,) = table.records
    assert row["matched_enterprises"] == 0
    assert {c: row[c] for c in CHANGES} == dict.fromkeys(CHANGES)


def test_a_year_without_reports_is_an_empty_table_with_a_zero_total() -> None:
    table = synergy_table(_frame(*CEMENT), year=2030, group_by=["sector", "district"])

    assert table.records == []
    assert list(table.rows.columns) == ["sector", "district", *COLUMNS]
    assert table.total == {
        "enterprises": 0,
        "matched_enterprises": 0,
        "co2_t": 0,
        "so2_kg": 0,
        **dict.fromkeys(ZERO_KG, 0),
        **dict.fromkeys(CHANGES),
    }


def test_other_years_and_extra_columns_are_ignored() -> None:
    frame = _frame(*CEMENT, _row(1, 2020, "9999")).assign(note="x")

    table = synergy_table(frame, year=Y, group_by=["sector"])

    assert table.total["co2_change_t"] == D("-100")
    assert "note" not in table.rows.columns


def test_a_float_figure_is_refused() -> None:
    frame = _frame(*CEMENT)
    frame.loc[0, "co2_t"] = 1000.0

    with pytest.raises(TypeError, match="co2_t must hold finite Decimals"):
        synergy_table(frame, year=Y, group_by=["sector"])


def test_two_rows_for_one_enterprise_and_year_are_refused() -> None:
    with pytest.raises(ValueError, match="one row per enterprise and year"):
        synergy_table(_frame(*CEMENT, CEMENT[1]), year=Y, group_by=["sector"])


def test_a_missing_column_is_refused() -> None:
    with pytest.raises(ValueError, match="vocs_kg"):
        synergy_table(_frame(*CEMENT).drop(columns="vocs_kg"), year=Y, group_by=["sector"])


@pytest.mark.parametrize("group_by", [[], ["facility"], ["sector", "sector"]])
def test_a_bad_grouping_is_refused(group_by: list[str]) -> None:
    with pytest.raises(ValueError, match="group by one or both of sector, district"):
        group_keys(group_by)
