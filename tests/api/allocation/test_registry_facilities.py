"""Allocation from the registry with per-facility figures and the power corrections' inputs
(issue 6): facility category and cooling on the facility record, the yearly inputs and the
verified split on the report's facility lines, and the same figures as the file path."""

from __future__ import annotations

import io
from decimal import Decimal as D
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from allocation.files import read_facilities
from allocation.rules.engine import RESULT_COLUMNS, compute
from allocation.rules.plan import parse_plan
from allocation.service import compute_on_registry
from carbon_market.emitters import service as emitters
from carbon_market.kernel.access.roles import Actor
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import ReportFacility
from tests.api.allocation.test_plans import STREAMS
from tests.api.helpers import assert_problem, moves_nothing

P = "/api/v1/allocation/plans"
R = "/api/v1/reports"
E = "/api/v1/enterprises"
SYSTEM = Actor.system(name="system:test")
#: Budget 10,000 × (1 − 0.05 − 0.03) = 9,200: no scaling in these examples.
PLAN: dict[str, Any] = {
    "year": 2025,
    "cap": 10000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "power": {
            "method": "benchmark",
            "benchmarks": {"coal_300mw_plus": "0.7950", "coal_300mw_below": "0.8200"},
            "heat_benchmark": "0.1260",
        },
    },
}
#: Unit A: air-cooled, pure condensing (r = 0) at F = 0.78; unit B: water-cooled, r = 0.2,
#: 500 GJ of heat (its F = 0.70 is not used: the load correction is for r = 0 only).
LINES = {
    "a": {"output": "1000", "heat_supply_ratio": "0", "load_rate": "0.78", "heat_supplied_gj": "0"},
    "b": {"output": "2000", "heat_supply_ratio": "0.2", "load_rate": "0.70",
          "heat_supplied_gj": "500"},
}  # fmt: skip


HISTORICAL = {"power": {"method": "historical_emissions", "control_factor": "0.97"}}


@pytest.fixture
def units(client: Any, session: Any, tenants: Any, bearer: Any) -> tuple[int, int]:
    """``own`` (power) with two coal units, their category and cooling set over HTTP."""
    second = emitters.add_facility(
        session, SYSTEM, tenants.own.id, name="2号燃煤机组", facility_type="coal_unit"
    )
    a, b = tenants.facility_id, second.id
    for facility, body in (
        (a, {"category": "coal_300mw_plus", "cooling": "air"}),
        (b, {"category": "coal_300mw_below", "cooling": "water"}),
    ):
        url = f"{E}/{tenants.own.id}/facilities/{facility}"
        patched = client.patch(url, json=body, headers=bearer["regulator"])
        assert patched.status_code == 200, patched.get_data(as_text=True)
        assert {k: patched.get_json()[k] for k in body} == body
    return a, b


def _file_and_verify(
    client: Any, session: Any, tenants: Any, bearer: Any, year: int,
    lines: list[dict[str, Any]], split: list[dict[str, Any]] | None, total: str = "268.3",
) -> int:  # fmt: skip
    """A report of ``own`` for ``year`` with facility ``lines``, verified over HTTP with
    ``split``, then approved."""
    body = {"enterprise": tenants.own.credit_code, "year": year, "streams": STREAMS,
            "facilities": lines}  # fmt: skip
    filed = client.post(R, json=body, headers=bearer["regulator"])
    assert filed.status_code == 201, filed.get_data(as_text=True)
    report_id: int = filed.get_json()["id"]
    reports.submit_report(session, SYSTEM, report_id)
    reports.assign_verifier(session, SYSTEM, report_id, verifier="verifier")
    verify = {"verified_co2_t": total, "opinion": "ok"}
    if split is not None:
        verify["facilities"] = split  # type: ignore[assignment]
    verified = client.post(f"{R}/{report_id}/verify", json=verify, headers=bearer["verifier"])
    assert verified.status_code == 200, verified.get_data(as_text=True)
    reports.approve_report(session, Actor.system(name="system:approver"), report_id)
    return report_id


def _two_unit_report(client: Any, session: Any, tenants: Any, bearer: Any, units: Any) -> int:
    a, b = units
    lines = [{"facility": a, **LINES["a"]}, {"facility": b, **LINES["b"]}]
    split = [{"facility": a, "verified_co2_t": "100.3"}, {"facility": b, "verified_co2_t": "168"}]
    return _file_and_verify(client, session, tenants, bearer, 2025, lines, split)


def test_two_coal_units_each_get_their_own_benchmark_allocation_from_the_registry(
    client, session, tenants, bearer, units
):
    a, b = units
    report_id = _two_unit_report(client, session, tenants, bearer, units)
    shown = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    assert [(x["facility"], x["load_rate"], x["verified_co2_t"]) for x in shown["facilities"]] == [
        (a, "0.78", "100.3"),
        (b, "0.7", "168"),
    ]
    plan_id = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    with moves_nothing(client.application):
        run = client.post(f"{P}/{plan_id}/compute", headers=bearer["auditor"]).get_json()
    by_facility = {r["facility_id"]: r for r in run["results"]}
    # Unit A (coal_300mw_plus, air, r = 0, F = 0.78):
    #   cooling 1.05; heat supply 1 − 0.22 × 0 = 1; load 1.007 + 0.0016 × (80 − 78) = 1.0102;
    #   1000 × 0.7950 × 1.05 × 1 × 1.0102 = 834.75 × 1.0102 = 843.264450 t.
    # Unit B (coal_300mw_below, water, r = 0.2, 500 GJ):
    #   cooling 1; heat supply 1 − 0.22 × 0.2 = 0.956; load 1 (not pure condensing);
    #   2000 × 0.8200 × 1 × 0.956 × 1 + 500 × 0.1260 = 1567.84 + 63 = 1630.840000 t.
    # Sum 2474.10445 ≤ 9,200: no scaling; floors 843 + 1630 = 2473, target 2474: the unit
    # left goes to the larger fraction (.84, unit B) → 843 and 1631.
    first, second = by_facility[a], by_facility[b]
    assert (first["free_allocation"], first["allocation"]) == ("843.264450", 843)
    assert (second["free_allocation"], second["allocation"]) == ("1630.840000", 1631)
    assert (first["category"], second["category"]) == ("coal_300mw_plus", "coal_300mw_below")
    assert {k: first["breakdown"][k] for k in ("cooling_factor", "load_rate_factor")} == {
        "cooling_factor": "1.05",
        "load_rate_factor": "1.010200",
    }
    assert second["breakdown"]["heat_supply_factor"] == "0.956000"
    assert second["breakdown"]["load_rate_factor"] == "1"


def _facilities_file(credit_code: str, a: int, b: int) -> bytes:
    """The same data as the reports and facility records below, typed as a facilities file."""
    return (
        "facility_id,enterprise,sector,category,emissions_2024,emissions_2025,output_2024,"
        "output_2025,cooling,heat_supply_ratio,load_rate,heat_supplied_gj\n"
        f"{a},{credit_code},power,coal_300mw_plus,200,100.3,900,1000,air,0,0.78,0\n"
        f"{b},{credit_code},power,coal_300mw_below,68.3,168,1800,2000,water,0.2,0.70,500\n"
    ).encode()


def _rows(results: pd.DataFrame) -> list[dict[str, Any]]:
    """The result rows, with the integer columns' empty cells (pd.NA) as None."""
    return [
        {k: None if v is pd.NA else v for k, v in row.items()}
        for row in results[RESULT_COLUMNS].to_dict("records")
    ]


def test_the_registry_and_a_facilities_file_of_the_same_data_give_identical_figures(
    client, session, tenants, bearer, units
):
    a, b = units
    # 2024 as well, so that a base year travels both ways too.
    lines_2024 = [{"facility": a, "output": "900"}, {"facility": b, "output": "1800"}]
    split_2024 = [
        {"facility": a, "verified_co2_t": "200"},
        {"facility": b, "verified_co2_t": "68.3"},
    ]
    _file_and_verify(client, session, tenants, bearer, 2024, lines_2024, split_2024)
    _two_unit_report(client, session, tenants, bearer, units)
    for sectors in (PLAN["sectors"], HISTORICAL):
        plan = parse_plan({**PLAN, "sectors": sectors})
        from_registry = compute_on_registry(session, plan).results
        ours = from_registry[from_registry["facility_id"].isin([a, b]).to_numpy()]
        file = io.BytesIO(_facilities_file(tenants.own.credit_code, a, b))
        from_file = compute(plan, read_facilities(file)).results
        assert _rows(ours) == _rows(from_file)
    # The benchmark figures of the worked example above; historical: 200 × 0.97 = 194 and
    # 68.3 × 0.97 = 66.251 (2024 is the only base year with data).
    assert ours["allocation"].tolist() == [194, 66]


def test_each_facility_gets_its_own_verified_emissions_in_the_base_years(
    client, session, tenants, bearer, units
):
    a, b = units
    plan = {**PLAN, "sectors": HISTORICAL}
    for year, (first, second) in {2022: ("100", "168.3"), 2023: ("120", "148.3")}.items():
        split = [
            {"facility": a, "verified_co2_t": first},
            {"facility": b, "verified_co2_t": second},
        ]
        lines = [{"facility": a}, {"facility": b}]
        _file_and_verify(client, session, tenants, bearer, year, lines, split)
    plan_id = client.post(P, json=plan, headers=bearer["regulator"]).get_json()["id"]
    run = client.post(f"{P}/{plan_id}/compute", headers=bearer["regulator"]).get_json()
    by_facility = {r["facility_id"]: r for r in run["results"]}
    # A: (100 + 120) / 2 = 110 × 0.97 = 106.7; B: (168.3 + 148.3) / 2 = 158.3 × 0.97 =
    # 153.551. Not the enterprise's 268.3 copied to both, nor given to one.
    assert by_facility[a]["free_allocation"] == "106.700000"
    assert by_facility[b]["free_allocation"] == "153.551000"
    assert (by_facility[a]["allocation"], by_facility[b]["allocation"]) == (107, 153)


def test_a_multi_facility_report_without_facility_lines_gives_a_note_and_no_allocation(
    client, session, tenants, bearer, units
):
    a, b = units
    _file_and_verify(client, session, tenants, bearer, 2025, [], None)
    plan_id = client.post(P, json=PLAN, headers=bearer["regulator"]).get_json()["id"]
    run = client.post(f"{P}/{plan_id}/compute", headers=bearer["regulator"]).get_json()
    for facility in (a, b):
        row = next(r for r in run["results"] if r["facility_id"] == facility)
        assert row["allocation"] is None
        assert row["note"] == (
            "the enterprise has 2 facilities and its approved report for 2025 has no "
            "per-facility figures (facility lines): file them as a corrected version"
        )


# --- bad input: problem+json and nothing changes --------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"category": "coal_600mw"}, "#/category"),
        ({"cooling": "oil"}, "#/cooling"),
    ],
    ids=["unknown-category", "unknown-cooling"],
)
def test_a_bad_facility_category_or_cooling_is_refused_and_nothing_changes(
    client, tenants, bearer, body, pointer
):
    url = f"{E}/{tenants.own.id}/facilities/{tenants.facility_id}"
    with moves_nothing(client.application):
        response = client.patch(url, json=body, headers=bearer["regulator"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})
    assert client.get(url, headers=bearer["regulator"]).get_json()["category"] is None


@pytest.mark.parametrize(
    ("line", "pointer"),
    [
        ({"heat_supply_ratio": "1.2"}, "#/facilities/0/heat_supply_ratio"),
        ({"load_rate": "1.01"}, "#/facilities/0/load_rate"),
        ({"output": "-5"}, "#/facilities/0/output"),
        ({"heat_supplied_gj": "-1"}, "#/facilities/0/heat_supplied_gj"),
        ({"output": "1.0000001"}, "#/facilities/0/output"),
    ],
    ids=["ratio-above-1", "load-above-1", "negative-output", "negative-heat", "seven-places"],
)
def test_a_bad_facility_line_is_refused_and_nothing_is_filed(
    client, tenants, bearer, units, line, pointer
):
    body = {"enterprise": tenants.own.credit_code, "year": 2025, "streams": STREAMS,
            "facilities": [{"facility": units[0], **line}]}  # fmt: skip
    with moves_nothing(client.application):
        response = client.post(R, json=body, headers=bearer["regulator"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})


def test_a_line_for_another_enterprises_facility_or_twice_is_refused(
    client, tenants, bearer, units
):
    a, _ = units
    lines = [{"facility": tenants.other_facility_id}, {"facility": a}, {"facility": a}]
    body = {"enterprise": tenants.own.credit_code, "year": 2025, "streams": STREAMS,
            "facilities": lines}  # fmt: skip
    with moves_nothing(client.application):
        response = client.post(R, json=body, headers=bearer["regulator"])
    assert_problem(
        response, 422, "validation-failed",
        pointers={"#/facilities/0/facility", "#/facilities/2/facility"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("split", "pointers"),
    [
        (None, {"#/facilities"}),
        ([{"facility": "a", "verified_co2_t": "268.3"}], {"#/facilities"}),
        (
            [
                {"facility": "a", "verified_co2_t": "100"},
                {"facility": "b", "verified_co2_t": "168"},
            ],
            {"#/facilities"},
        ),
    ],
    ids=["missing", "one-line-missing", "does-not-add-up"],
)
def test_verifying_a_report_with_lines_needs_an_exact_split_and_changes_nothing_otherwise(
    client, session, tenants, bearer, units, split, pointers
):
    ids = dict(zip("ab", units, strict=True))
    lines = [{"facility": ids["a"]}, {"facility": ids["b"]}]
    body = {"enterprise": tenants.own.credit_code, "year": 2025, "streams": STREAMS,
            "facilities": lines}  # fmt: skip
    report_id = client.post(R, json=body, headers=bearer["regulator"]).get_json()["id"]
    reports.submit_report(session, SYSTEM, report_id)
    reports.assign_verifier(session, SYSTEM, report_id, verifier="verifier")
    verify: dict[str, Any] = {"verified_co2_t": "268.3", "opinion": "ok"}
    if split is not None:
        verify["facilities"] = [{**e, "facility": ids[e["facility"]]} for e in split]
    with moves_nothing(client.application):
        response = client.post(f"{R}/{report_id}/verify", json=verify, headers=bearer["verifier"])
    assert_problem(response, 422, "validation-failed", pointers=pointers)
    shown = client.get(f"{R}/{report_id}", headers=bearer["regulator"]).get_json()
    assert shown["status"] == ReportStatus.SUBMITTED
    assert [x["verified_co2_t"] for x in shown["facilities"]] == [None, None]


@pytest.mark.parametrize(
    "values",
    [{"heat_supply_ratio": D("1.5")}, {"load_rate": D("-0.1")}, {"output_quantity": D("-1")}],
    ids=["ratio", "load", "output"],
)
def test_the_database_refuses_line_values_out_of_range(session, tenants, units, values):
    report = reports.create_report(
        session, SYSTEM, enterprise=tenants.own.credit_code, year=2025, streams=STREAMS
    )
    with pytest.raises(IntegrityError):
        session.execute(
            insert(ReportFacility).values(report_id=report.id, facility_id=units[0], **values)
        )
    session.rollback()


def test_the_database_refuses_an_unknown_cooling_mode(session, tenants):
    with pytest.raises(IntegrityError):
        # Raw SQL: the ORM's Enum type would refuse 'oil' before the database sees it.
        session.execute(
            text("UPDATE facility SET cooling = 'oil' WHERE id = :id"), {"id": tenants.facility_id}
        )
    session.rollback()
