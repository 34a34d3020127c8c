"""The packaged factor sets: complete, cited, frozen, and found by name or year."""

from __future__ import annotations

import csv
import dataclasses
import io
from decimal import Decimal as D
from importlib import resources

import pytest

from carbon_market.mrv.calculator.factor_sets import (
    COLUMNS,
    FactorDataError,
    UnknownFactorSet,
    default_library,
    parse_factor_sets,
)
from carbon_market.mrv.calculator.units import Dimension

FUELS = ("natural_gas", "raw_coal", "diesel", "gasoline", "fuel_oil", "lpg")


def packaged_text():
    return resources.files("carbon_market.mrv").joinpath("data", "cn-default.csv").read_text()


def rows():
    return list(csv.DictReader(io.StringIO(packaged_text())))


def to_csv(records):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def test_the_default_set_is_shipped_with_name_jurisdiction_and_years():
    cn = default_library().by_name("cn-default")
    assert (cn.name, cn.jurisdiction, cn.first_year, cn.last_year) == (
        "cn-default",
        "CN",
        2022,
        2026,
    )


def test_the_default_set_holds_the_gbt_32150_defaults_for_the_main_fuels():
    cn = default_library().by_name("cn-default")
    assert set(FUELS) <= set(cn.fuels)
    gas = cn.fuels["natural_gas"]
    assert (gas.unit, gas.ncv, gas.carbon_content, gas.oxidation_rate) == (
        "10^4 Nm3",
        D("389.31"),
        D("0.01530"),
        D("0.99"),
    )
    coal = cn.fuels["raw_coal"]
    assert (coal.unit, coal.ncv, coal.carbon_content, coal.oxidation_rate) == (
        "t",
        D("20.908"),
        D("0.02637"),
        D("0.94"),
    )
    assert cn.fuels["diesel"].ncv == D("42.652")
    assert (cn.grid, cn.heat, cn.processes["limestone"].factor) == (
        D("0.5366"),
        D("0.11"),
        D("0.440"),
    )


@pytest.mark.parametrize("fuel", FUELS)
def test_each_fuel_has_a_dimension_fitting_its_state(fuel):
    cn = default_library().by_name("cn-default")
    expected = Dimension.GAS_VOLUME if fuel == "natural_gas" else Dimension.MASS
    assert cn.fuels[fuel].dimension is expected


def test_every_value_cites_a_public_document():
    documents = ("GB/T 32150", "指南", "生态环境部", "AP-42", "mass balance")
    for row in rows():
        assert any(doc in row["source"] for doc in documents), row


def test_values_not_confirmed_are_marked_to_be_confirmed():
    # Only the grid factor was confirmed against published material in this increment.
    for row in rows():
        if row["category"] != "electricity":
            assert "to be confirmed" in row["source"], row


def test_the_set_is_frozen():
    cn = default_library().by_name("cn-default")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cn.grid = D("1")  # type: ignore[misc]
    with pytest.raises(TypeError):
        cn.fuels["peat"] = cn.fuels["raw_coal"]  # type: ignore[index]


def test_the_default_set_for_a_year_is_the_one_whose_years_include_it():
    library = default_library()
    assert library.for_year(2022).name == "cn-default"
    assert library.for_year(2026).name == "cn-default"
    with pytest.raises(UnknownFactorSet, match="no factor set applies to 2021"):
        library.for_year(2021)
    with pytest.raises(UnknownFactorSet, match="no factor set applies to 2027"):
        library.for_year(2027)


def test_an_unknown_set_name_is_refused():
    with pytest.raises(UnknownFactorSet, match="unknown factor set 'cn-2030'"):
        default_library().by_name("cn-2030")


def test_a_file_with_several_sets_gives_them_in_order():
    later = [dict(r, set="cn-2027", first_year="2027", last_year="2030") for r in rows()]
    sets = parse_factor_sets(to_csv(rows() + later))
    assert [s.name for s in sets] == ["cn-default", "cn-2027"]


def _without(predicate):
    return to_csv([r for r in rows() if not predicate(r)])


def _changed(predicate, **changes):
    return to_csv([dict(r, **changes) if predicate(r) else r for r in rows()])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _without(lambda r: (r["code"], r["parameter"]) == ("lpg", "vocs")),
            "fuel lpg lacks vocs",
        ),
        (
            _changed(lambda r: (r["code"], r["parameter"]) == ("diesel", "ncv"), unit="GJ/kt"),
            "unit 'GJ/kt' is not GJ/<a base unit>",
        ),
        (
            _changed(lambda r: (r["code"], r["parameter"]) == ("diesel", "so2"), unit="kg/GJ"),
            "should be 'kg/t'",
        ),
        (_changed(lambda r: r["code"] == "grid", source=" "), "cites no source"),
        (_changed(lambda r: r["code"] == "grid", value="-0.5"), "not a finite, non-negative"),
        (_changed(lambda r: r["code"] == "grid", value="abc"), "is not a number"),
        (
            _changed(lambda r: r["parameter"] == "oxidation_rate", value="1.2"),
            "oxidation_rate 1.2 is above 1",
        ),
        (_changed(lambda r: r["code"] == "grid", last_year="2030"), "changes jurisdiction"),
        (_without(lambda r: r["category"] == "heat"), "no heat factor"),
        (to_csv([*rows(), rows()[0]]), "given twice"),
        ("a,b\n1,2\n", "columns must be"),
    ],
)
def test_a_malformed_factor_file_is_refused(text, message):
    with pytest.raises(FactorDataError, match=message):
        parse_factor_sets(text)
