"""The synergy (协同) view over HTTP: approved reports built through the real workflow, the
JSON and CSV answers checked against a worked example, role rules and refused queries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.auth.service import actor_for
from carbon_market.mrv.reports import workflow as reports
from tests.api.helpers import Tenants, assert_problem, writes_nothing
from tests.factories import make_enterprise

S = "/api/v1/synergy"
SYSTEM = Actor.system(name="system:test")
NULLS = dict.fromkeys(
    [
        "co2_change_t",
        "co2_change_pct",
        *(f"{p}_change_kg" for p in ("so2", "nox", "pm", "vocs")),
        *(f"{p}_kg_per_t_co2_reduced" for p in ("so2", "nox", "pm", "vocs")),
    ]
)


def _stream(tonnes: str, co2_per_t: str, so2_per_t: str, nox_per_t: str = "0") -> dict[str, Any]:
    """A limestone stream whose figures are easy to check: CO2 = tonnes × co2_per_t,
    SO2 = tonnes × so2_per_t kg, NOx = tonnes × nox_per_t kg."""
    return {
        "kind": "process",
        "activity": "limestone",
        "quantity": tonnes,
        "unit": "t",
        "factors": {"factor": co2_per_t},
        "pollutants": {"so2": so2_per_t, "nox": nox_per_t},
    }


def _approved(
    session: Session,
    tenants: Tenants,
    filer: Actor,
    code: str,
    year: int,
    stream: dict[str, Any],
    *,
    verified: str | None = None,
) -> int:
    """A report through the whole workflow: filed and submitted by ``filer``, assigned by
    the regulator, verified (at the reported figure unless ``verified``), approved."""
    regulator = actor_for(tenants.users["regulator"])
    report = reports.create_report(session, filer, enterprise=code, year=year, streams=[stream])
    reports.submit_report(session, filer, report.id)
    reports.assign_verifier(session, regulator, report.id, verifier="verifier")
    figure = D(verified) if verified is not None else report.co2_t
    reports.verify_report(
        session,
        actor_for(tenants.users["verifier"]),
        report.id,
        verified_co2_t=figure,
        opinion="符合",
    )
    reports.approve_report(session, regulator, report.id)
    return report.id


@pytest.fixture
def approved(session: Session, tenants: Tenants) -> None:
    """Worked example (2024 → 2025), figures by hand:

    * ``other`` (cement, chaoyang): 2024 1000 t × 1 = 1000 t CO2, SO2 1000 × 0.5 = 500 kg,
      NOx 1000 × 0.3 = 300 kg; 2025 1000 t × 0.9 = 900 t, SO2 420 kg, NOx 250 kg.
    * ``own`` (power, chaoyang): enters in 2025 with 2000 t, SO2 2000 × 0.05 = 100 kg.
    * ``third`` (cement, haidian): 2024 version 1 approved at 300 t (SO2 30 kg), corrected by
      version 2, approved at 400 t (SO2 40 kg); a version 3 is filed (9999 t) but stays a
      draft. 2025: reported 440 t (SO2 44 kg), verified at 450 t: the view takes 450 t.
    """
    own = actor_for(tenants.users["enterprise_own"])
    other = actor_for(tenants.users["enterprise_other"])
    third = make_enterprise(session, name="北京丙水泥有限公司", sector="cement", district="haidian")
    code, other_code, third_code = (
        tenants.own.credit_code,
        tenants.other.credit_code,
        third.credit_code,
    )
    _approved(session, tenants, other, other_code, 2024, _stream("1000", "1", "0.5", "0.3"))
    _approved(session, tenants, other, other_code, 2025, _stream("1000", "0.9", "0.42", "0.25"))
    _approved(session, tenants, own, code, 2025, _stream("2000", "1", "0.05"))
    _approved(session, tenants, SYSTEM, third_code, 2024, _stream("300", "1", "0.1"))
    _approved(session, tenants, SYSTEM, third_code, 2024, _stream("400", "1", "0.1"))
    reports.create_report(
        session, SYSTEM, enterprise=third_code, year=2024, streams=[_stream("9999", "1", "0")]
    )
    _approved(
        session, tenants, SYSTEM, third_code, 2025, _stream("440", "1", "0.1"), verified="450"
    )


def _get(client: FlaskClient, headers: dict[str, str], **query: str) -> dict[str, Any]:
    response = client.get(S, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()  # type: ignore[no-any-return]


#: cement, 2025: other 900 + third 450 = 1350 t; SO2 420 + 44 = 464 kg; NOx 250 + 0 kg.
#: Like-for-like on other (1000 t) + third's version 2 (400 t) = 1400 t:
#:   CO2 −50 t, −50 / 1400 × 100 = −3.5714… → −3.57 %;
#:   SO2 464 − (500 + 40) = −76 kg → 76 / 50 = 1.520 kg/t; NOx 250 − 300 = −50 kg → 1.000.
CEMENT = {
    "sector": "cement",
    "sector_label_zh": "水泥",
    "sector_label_en": "Cement",
    "enterprises": 2,
    "matched_enterprises": 2,
    "co2_t": "1350.000000",
    "so2_kg": "464.000",
    "nox_kg": "250.000",
    "pm_kg": "0.000",
    "vocs_kg": "0.000",
    "co2_change_t": "-50.000000",
    "co2_change_pct": "-3.57",
    "so2_change_kg": "-76.000",
    "nox_change_kg": "-50.000",
    "pm_change_kg": "0.000",
    "vocs_change_kg": "0.000",
    "so2_kg_per_t_co2_reduced": "1.520",
    "nox_kg_per_t_co2_reduced": "1.000",
    "pm_kg_per_t_co2_reduced": "0.000",
    "vocs_kg_per_t_co2_reduced": "0.000",
}
#: power, 2025: own alone, an entrant: counted, but nothing to compare with.
POWER = {
    "sector": "power",
    "sector_label_zh": "电力",
    "sector_label_en": "Power generation",
    "enterprises": 1,
    "matched_enterprises": 0,
    "co2_t": "2000.000000",
    "so2_kg": "100.000",
    "nox_kg": "0.000",
    "pm_kg": "0.000",
    "vocs_kg": "0.000",
    **NULLS,
}


@pytest.mark.usefixtures("approved")
def test_by_sector_the_worked_example_with_the_total(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    body = _get(client, bearer["regulator"], year="2025")

    assert (body["year"], body["previous_year"], body["group_by"]) == (2025, 2024, ["sector"])
    assert body["rows"] == [CEMENT, POWER]
    # The total: 1350 + 2000 = 3350 t, SO2 464 + 100 = 564 kg; the change is cement's alone.
    assert body["total"] == {
        key: value for key, value in CEMENT.items() if not key.startswith("sector")
    } | {"enterprises": 3, "co2_t": "3350.000000", "so2_kg": "564.000"}


@pytest.mark.usefixtures("approved")
def test_by_district_the_latest_approved_version_is_the_base(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    # chaoyang: other (−100 t, SO2 −80 kg → 0.800, NOx −50 kg → 0.500) plus the entrant own.
    # haidian: third, 450 − 400 (version 2, not version 1's 300 nor the draft's 9999) = +50 t,
    #   +12.50 %; SO2 44 − 40 = +4 kg; CO2 rose, so no indicator.
    body = _get(client, bearer["auditor"], year="2025", group_by="district")

    summary = [
        {k: row[k] for k in ("district", "district_label_zh", "enterprises", "co2_t")}
        | {k: row[k] for k in ("co2_change_t", "co2_change_pct", "so2_change_kg")}
        | {k: row[k] for k in ("so2_kg_per_t_co2_reduced", "nox_kg_per_t_co2_reduced")}
        for row in body["rows"]
    ]
    assert summary == [
        {
            "district": "chaoyang",
            "district_label_zh": "朝阳区",
            "enterprises": 2,
            "co2_t": "2900.000000",
            "co2_change_t": "-100.000000",
            "co2_change_pct": "-10.00",
            "so2_change_kg": "-80.000",
            "so2_kg_per_t_co2_reduced": "0.800",
            "nox_kg_per_t_co2_reduced": "0.500",
        },
        {
            "district": "haidian",
            "district_label_zh": "海淀区",
            "enterprises": 1,
            "co2_t": "450.000000",
            "co2_change_t": "50.000000",
            "co2_change_pct": "12.50",
            "so2_change_kg": "4.000",
            "so2_kg_per_t_co2_reduced": None,
            "nox_kg_per_t_co2_reduced": None,
        },
    ]
    assert "sector" not in body["rows"][0]


@pytest.mark.usefixtures("approved")
def test_by_sector_and_district_one_row_per_pair_present(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    body = _get(client, bearer["regulator"], year="2025", group_by="sector,district")

    assert [(r["sector"], r["district"], r["co2_change_t"]) for r in body["rows"]] == [
        ("cement", "chaoyang", "-100.000000"),
        ("cement", "haidian", "50.000000"),
        ("power", "chaoyang", None),
    ]
    assert body["group_by"] == ["sector", "district"]


@pytest.mark.usefixtures("approved")
def test_filters_restrict_the_rows_and_the_total(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    body = _get(client, bearer["regulator"], year="2025", group_by="district", sector="cement")

    assert [(r["district"], r["enterprises"]) for r in body["rows"]] == [
        ("chaoyang", 1),
        ("haidian", 1),
    ]
    assert (body["total"]["enterprises"], body["total"]["co2_t"]) == (2, "1350.000000")
    only = _get(client, bearer["regulator"], year="2025", sector="cement", district="haidian")
    assert [(r["sector"], r["co2_t"]) for r in only["rows"]] == [("cement", "450.000000")]


@pytest.mark.usefixtures("approved")
def test_csv_has_a_header_row_and_one_row_per_group(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    response = client.get(
        S,
        query_string={"year": "2025", "group_by": "sector,district", "format": "csv"},
        headers=bearer["regulator"],
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="synergy-2025-by-sector-district.csv"'
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel then reads the Chinese labels as UTF-8
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header == [
        "sector",
        "sector_label_zh",
        "sector_label_en",
        "district",
        "district_label_zh",
        "district_label_en",
        *(key for key in CEMENT if not key.startswith("sector")),
    ]
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["sector"], r["district"]) for r in by_name] == [
        ("cement", "chaoyang"),
        ("cement", "haidian"),
        ("power", "chaoyang"),
    ]
    assert by_name[0]["so2_kg_per_t_co2_reduced"] == "0.800"
    assert by_name[0]["district_label_zh"] == "朝阳区"
    # An entrant's group: its changes are empty cells, not zeros.
    assert {by_name[2][key] for key in NULLS} == {""}
    assert by_name[2]["co2_t"] == "2000.000000"


def test_a_year_without_approved_reports_is_an_empty_table(
    client: FlaskClient, bearer: dict[str, dict[str, str]]
) -> None:
    body = _get(client, bearer["regulator"], year="2026")

    assert body["rows"] == []
    assert body["total"]["enterprises"] == 0
    assert body["total"]["co2_t"] == "0"
    assert body["total"]["co2_change_t"] is None
    csv_text = client.get(
        S, query_string={"year": "2026", "format": "csv"}, headers=bearer["regulator"]
    ).get_data(as_text=True)
    assert csv_text.removeprefix("\ufeff").splitlines()[0].startswith("sector,sector_label_zh,")
    assert len(csv_text.splitlines()) == 1


@pytest.mark.parametrize(
    ("role", "status", "slug"),
    [
        ("enterprise_own", 403, "permission-denied"),
        ("enterprise_other", 403, "permission-denied"),
        ("verifier", 403, "permission-denied"),
        ("finance_officer", 403, "permission-denied"),
        ("anonymous", 401, "not-authenticated"),
    ],
)
def test_only_regulators_and_auditors_see_the_view(
    app: Flask,
    client: FlaskClient,
    bearer: dict[str, dict[str, str]],
    role: str,
    status: int,
    slug: str,
) -> None:
    headers = bearer.get(role, {})
    with writes_nothing(app):
        for fmt in ("json", "csv"):
            response = client.get(S, query_string={"year": "2025", "format": fmt}, headers=headers)
            assert_problem(response, status, slug)


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"year": "2025", "group_by": "facility"}, "#/query/group_by"),
        ({"year": "2025", "group_by": "sector,sector"}, "#/query/group_by"),
        ({"year": "2025", "format": "xlsx"}, "#/query/format"),
        ({"group_by": "sector"}, "#/query/year"),
        ({"year": "1999"}, "#/query/year"),
        ({"year": "2025", "sector": "Not A Code"}, "#/query/sector"),
        ({"year": "2025", "sectr": "cement"}, "#/query/sectr"),
    ],
)
def test_a_bad_query_is_a_problem(
    client: FlaskClient,
    bearer: dict[str, dict[str, str]],
    query: dict[str, str],
    pointer: str,
) -> None:
    response = client.get(S, query_string=query, headers=bearer["regulator"])

    assert_problem(response, 422, "validation-failed", pointers={pointer})
