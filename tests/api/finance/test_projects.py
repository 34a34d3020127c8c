"""Projects over HTTP: registration, reading with filters and tenancy, corrections, the
lifecycle and its history, and bad input that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Role
from tests.api.finance.conftest import PROJECTS, project_body
from tests.api.helpers import assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise, make_user


def test_a_registered_project_answers_with_exact_amounts_and_co_benefits(
    project: dict[str, Any], sponsor: Any
) -> None:
    assert project["status"] == "proposed"
    assert project["sponsor_credit_code"] == sponsor.credit_code
    assert project["total_investment"] == "36500000.00"
    assert project["expected_annual_reduction_t"] == "7300.000"
    assert project["co_benefits"] == {
        "so2": "1200.500",
        "nox": "950.000",
        "pm": "80.250",
        "vocs": None,
    }


def test_registration_starts_the_history_and_is_audited(
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    regulator: Any,
    auth: AuthActions,
) -> None:
    history = client.get(f"{PROJECTS}/{project['id']}/history", headers=headers).get_json()
    events = client.get(
        "/api/v1/audit-events",
        query_string={"entity_type": "finance_project"},
        headers=auth.headers(regulator),
    ).get_json()["items"]

    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history] == [
        (None, "proposed", "officer")
    ]
    assert [e["action"] for e in events] == ["finance_project:create"]


def test_the_lifecycle_moves_one_step_at_a_time_and_keeps_who_and_when(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    url = f"{PROJECTS}/{project['id']}"
    for status in ("admitted", "financed", "under_construction", "operating", "closed"):
        response = client.post(
            f"{url}/status", json={"status": status, "note": f"to {status}"}, headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    history = client.get(f"{url}/history", headers=headers).get_json()
    assert [h["to_status"] for h in history] == [
        "proposed",
        "admitted",
        "financed",
        "under_construction",
        "operating",
        "closed",
    ]
    # The test clock stands at 2026-06-01 10:00 in Beijing: that is the default date.
    assert {h["effective_date"] for h in history} == {"2026-06-01"}
    assert history[2]["note"] == "to financed"
    assert history[2]["changed_by"] == "officer"


@pytest.mark.parametrize(
    ("steps", "target"),
    [
        ([], "financed"),  # skipping admission
        ([], "proposed"),  # standing still
        (["admitted"], "proposed"),  # going back
        (["withdrawn"], "admitted"),  # withdrawn is final
        (["admitted", "financed", "under_construction", "operating", "closed"], "withdrawn"),
    ],
)
def test_a_move_the_lifecycle_does_not_allow_is_422_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    steps: list[str],
    target: str,
) -> None:
    url = f"{PROJECTS}/{project['id']}/status"
    for step in steps:
        assert client.post(url, json={"status": step}, headers=headers).status_code == 200

    with writes_nothing(app):
        response = client.post(url, json={"status": target}, headers=headers)

    assert_problem(response, 422, "invalid-status-transition", pointers={"#/status"})


def test_withdrawal_is_allowed_from_any_status_before_closed(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    url = f"{PROJECTS}/{project['id']}/status"
    client.post(url, json={"status": "admitted"}, headers=headers)
    client.post(url, json={"status": "financed"}, headers=headers)

    response = client.post(url, json={"status": "withdrawn", "note": "选址变更"}, headers=headers)

    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"


def test_a_status_change_dated_before_the_previous_one_is_refused(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    url = f"{PROJECTS}/{project['id']}/status"
    response = client.post(
        url, json={"status": "admitted", "effective_date": "2026-05-31"}, headers=headers
    )
    assert_problem(response, 422, "validation-failed", pointers={"#/effective_date"})


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"locality": "atlantis"}, {"#/locality"}),
        ({"subsector": "shipbuilding"}, {"#/subsector"}),
        ({"category": "both_ways"}, {"#/category"}),
        ({"total_investment": "-1.00"}, {"#/total_investment"}),
        ({"total_investment": "1.005"}, {"#/total_investment"}),
        ({"expected_annual_reduction_t": "-3"}, {"#/expected_annual_reduction_t"}),
        ({"co_benefits": {"so2": "-1"}}, {"#/co_benefits/so2"}),
        ({"sponsor_credit_code": "91110000000000001A"}, {"#/sponsor_credit_code"}),
        ({"status": "dreaming"}, {"#/status"}),
        ({"locality": "atlantis", "subsector": "shipbuilding"}, {"#/locality", "#/subsector"}),
    ],
)
def test_bad_project_fields_are_422_with_pointers_and_write_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    sponsor: Any,
    overrides: dict[str, Any],
    pointers: set[str],
) -> None:
    with writes_nothing(app):
        response = client.post(
            PROJECTS, json=project_body(sponsor.credit_code, **overrides), headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers=pointers)


def test_the_same_name_for_the_same_sponsor_is_a_conflict(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    sponsor: Any,
) -> None:
    with writes_nothing(app):
        response = client.post(PROJECTS, json=project_body(sponsor.credit_code), headers=headers)
    assert_problem(response, 409, "conflict", pointers={"#/name"})


def test_list_filters_by_locality_category_subsector_and_status(
    client: FlaskClient, headers: dict[str, str], sponsor: Any
) -> None:
    code = sponsor.credit_code
    bodies = [
        project_body(code, name="甲"),
        project_body(code, name="乙", locality="tongzhou", subsector="green_building"),
        project_body(
            code,
            name="丙",
            locality="tongzhou",
            category="adaptation",
            subsector="climate_resilience",
        ),
    ]
    for body in bodies:
        assert client.post(PROJECTS, json=body, headers=headers).status_code == 201

    def names(**query: str) -> list[str]:
        response = client.get(PROJECTS, query_string=query, headers=headers)
        assert response.status_code == 200
        return [p["name"] for p in response.get_json()["items"]]

    assert names() == ["甲", "乙", "丙"]
    assert names(locality="tongzhou") == ["乙", "丙"]
    assert names(category="adaptation") == ["丙"]
    assert names(subsector="green_building") == ["乙"]
    assert names(status="proposed", locality="miyun") == ["甲"]
    assert names(status="operating") == []


def test_an_unknown_filter_value_is_422_with_a_query_pointer(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get(PROJECTS, query_string={"status": "dreaming"}, headers=headers)
    assert_problem(response, 422, "validation-failed", pointers={"#/query/status"})


def test_an_enterprise_sees_only_the_projects_it_sponsors(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    headers: dict[str, str],
    project: dict[str, Any],
    sponsor_headers: dict[str, str],
) -> None:
    stranger = make_enterprise(session, name="北京通州建材有限公司")
    theirs = client.post(
        PROJECTS, json=project_body(stranger.credit_code, name="通州项目"), headers=headers
    ).get_json()
    stranger_headers = auth.headers(
        make_user(session, role=Role.ENTERPRISE, name="stranger", enterprise=stranger)
    )

    mine = client.get(PROJECTS, headers=sponsor_headers).get_json()
    assert [p["id"] for p in mine["items"]] == [project["id"]]
    assert client.get(f"{PROJECTS}/{project['id']}", headers=sponsor_headers).status_code == 200
    assert_problem(
        client.get(f"{PROJECTS}/{theirs['id']}", headers=sponsor_headers), 404, "not-found"
    )
    assert_problem(
        client.get(f"{PROJECTS}/{project['id']}/history", headers=stranger_headers),
        404,
        "not-found",
    )


def test_patch_corrects_named_fields_and_replaces_co_benefits(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    response = client.patch(
        f"{PROJECTS}/{project['id']}",
        json={"total_investment": "40000000", "co_benefits": {"vocs": "12"}},
        headers=headers,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total_investment"] == "40000000.00"
    assert body["co_benefits"] == {"so2": None, "nox": None, "pm": None, "vocs": "12.000"}
    assert body["name"] == project["name"]


@pytest.mark.parametrize(
    ("changes", "status", "slug", "pointers"),
    [
        (
            {"sponsor_credit_code": credit_code(5)},
            422,
            "validation-failed",
            {"#/sponsor_credit_code"},
        ),
        ({"status": "closed"}, 422, "validation-failed", {"#/status"}),
        ({"locality": "atlantis"}, 422, "validation-failed", {"#/locality"}),
        ({}, 422, "validation-failed", {"#"}),
    ],
)
def test_patch_refuses_what_cannot_change_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    changes: dict[str, Any],
    status: int,
    slug: str,
    pointers: set[str],
) -> None:
    with writes_nothing(app):
        response = client.patch(f"{PROJECTS}/{project['id']}", json=changes, headers=headers)
    assert_problem(response, status, slug, pointers=pointers)


def test_a_withdrawn_project_cannot_be_edited(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    url = f"{PROJECTS}/{project['id']}"
    client.post(f"{url}/status", json={"status": "withdrawn"}, headers=headers)

    response = client.patch(url, json={"name": "新名字"}, headers=headers)

    assert_problem(response, 422, "rule-violation")


def test_the_subsector_catalogue_is_public_and_officers_extend_it(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    public = client.get("/api/v1/finance/subsectors").get_json()
    assert {"renewable_energy", "carbon_sink", "low_carbon_industry"} <= {s["code"] for s in public}
    added = client.post(
        "/api/v1/finance/subsectors",
        json={"code": "hydrogen", "label_zh": "氢能", "label_en": "Hydrogen"},
        headers=headers,
    )
    again = client.post(
        "/api/v1/finance/subsectors",
        json={"code": "hydrogen", "label_zh": "氢能", "label_en": "Hydrogen"},
        headers=headers,
    )

    assert added.status_code == 201
    assert added.get_json()["is_active"] is True
    assert_problem(again, 409, "conflict", pointers={"#/code"})
