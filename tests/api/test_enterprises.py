"""Enterprises over HTTP: registration, listing, reading, corrections, contacts and status."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.emitters import service as emitters
from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger.accounts.numbers import is_valid_account_number
from tests.api.helpers import assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise, make_user

ENTERPRISES = "/api/v1/enterprises"
SYSTEM = Actor.system(name="system:test")


def registration(**overrides: Any) -> dict[str, Any]:
    body = {
        "credit_code": credit_code(),
        "name": "北京丁热电有限公司",
        "name_en": "Delta Power",
        "sector": "power",
        "district": "bda",
        "contacts": [{"name": "赵工", "title": "能源经理", "phone": "010-66668888"}],
    }
    body.update(overrides)
    return body


# --- registration -------------------------------------------------------------------------


def test_regulator_registers_an_enterprise_with_a_valid_compliance_account_number(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    body = registration()
    response = client.post(ENTERPRISES, json=body, headers=auth.headers(regulator))

    assert response.status_code == 201
    created = response.get_json()
    assert isinstance(created["id"], int)
    assert created["status"] == "registered"
    assert created["credit_code"] == body["credit_code"]
    assert created["sector"] == "power"
    assert created["district"] == "bda"
    assert created["contacts"][0]["name"] == "赵工"
    assert created["account_number"].startswith("BJ10")
    assert is_valid_account_number(created["account_number"])


def test_registered_enterprise_reads_back_identically_by_id(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    created = client.post(ENTERPRISES, json=registration(), headers=headers).get_json()
    fetched = client.get(f"{ENTERPRISES}/{created['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == created


def test_lower_case_credit_code_is_stored_in_its_canonical_upper_case_form(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    code = credit_code()
    response = client.post(
        ENTERPRISES,
        json=registration(credit_code=f"  {code.lower()} "),
        headers=auth.headers(regulator),
    )
    assert response.status_code == 201
    assert response.get_json()["credit_code"] == code


def test_status_takes_effect_on_todays_date_in_beijing_not_in_utc(
    client: FlaskClient, auth: AuthActions, regulator: Any, clock: FixedClock
) -> None:
    # 2026-06-01 02:00 UTC minus 9 h = 2026-05-31 17:00 UTC = 2026-06-01 01:00 in Beijing.
    clock.advance(timedelta(hours=-9))
    response = client.post(ENTERPRISES, json=registration(), headers=auth.headers(regulator))
    assert response.status_code == 201
    assert response.get_json()["status_effective_from"] == "2026-06-01"


def test_two_registrations_get_different_account_numbers(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    first = client.post(ENTERPRISES, json=registration(), headers=headers).get_json()
    second = client.post(ENTERPRISES, json=registration(), headers=headers).get_json()
    assert first["account_number"] != second["account_number"]
    assert first["id"] != second["id"]


# --- listing ------------------------------------------------------------------------------


def test_list_pages_through_every_enterprise_once_in_id_order(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    ids = [make_enterprise(session).id for _ in range(5)]
    headers = auth.headers(regulator)

    pages = [
        client.get(ENTERPRISES, query_string={"page": n, "page_size": 2}, headers=headers)
        for n in (1, 2, 3, 4)
    ]

    assert [p.status_code for p in pages] == [200] * 4
    envelopes = [p.get_json() for p in pages]
    for n, envelope in enumerate(envelopes, start=1):
        assert envelope["page"] == {"page": n, "page_size": 2, "total": 5, "pages": 3}
    seen = [item["id"] for envelope in envelopes for item in envelope["items"]]
    assert seen == ids
    assert envelopes[3]["items"] == []


def test_list_defaults_to_page_one_of_fifty(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    make_enterprise(session)
    body = client.get(ENTERPRISES, headers=auth.headers(regulator)).get_json()
    assert body["page"] == {"page": 1, "page_size": 50, "total": 1, "pages": 1}
    assert len(body["items"]) == 1


@pytest.fixture
def three_enterprises(session: Session) -> dict[str, Any]:
    """Alpha (power, Chaoyang), Beta (cement, Fangshan) and Gamma (heat, BDA, active)."""
    alpha = make_enterprise(
        session, name="北京甲热电有限公司", name_en="Alpha Thermal", district="chaoyang"
    )
    beta = make_enterprise(
        session,
        name="北京乙水泥有限公司",
        name_en="Beta Cement",
        sector="cement",
        district="fangshan",
    )
    gamma = make_enterprise(
        session, name="北京丙热力有限公司", name_en="Gamma Heat", sector="heat", district="bda"
    )
    emitters.change_status(
        session, SYSTEM, gamma.id, status=EnterpriseStatus.ACTIVE, effective_from=date(2026, 6, 2)
    )
    return {
        "alpha": alpha.id,
        "beta": beta.id,
        "gamma": gamma.id,
        "beta_code": beta.credit_code,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"sector": "cement"}, ["beta"], id="sector"),
        pytest.param({"district": "bda"}, ["gamma"], id="district"),
        pytest.param({"status": "active"}, ["gamma"], id="status-active"),
        pytest.param({"status": "registered"}, ["alpha", "beta"], id="status-registered"),
        pytest.param({"q": "水泥"}, ["beta"], id="q-chinese-name"),
        pytest.param({"q": "thermal"}, ["alpha"], id="q-english-name-any-case"),
        pytest.param({"q": "有限公司"}, ["alpha", "beta", "gamma"], id="q-shared-suffix"),
        pytest.param({"sector": "power", "district": "bda"}, [], id="filters-combine-with-and"),
        pytest.param({"sector": "transport"}, [], id="sector-with-no-enterprises"),
    ],
)
def test_list_filters_select_exactly_the_matching_enterprises(
    client: FlaskClient,
    auth: AuthActions,
    regulator: Any,
    three_enterprises: dict[str, Any],
    query: dict[str, str],
    expected: list[str],
) -> None:
    response = client.get(ENTERPRISES, query_string=query, headers=auth.headers(regulator))
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [three_enterprises[n] for n in expected]
    assert body["page"]["total"] == len(expected)


def test_q_matches_a_substring_of_the_credit_code(
    client: FlaskClient, auth: AuthActions, regulator: Any, three_enterprises: dict[str, Any]
) -> None:
    fragment = str(three_enterprises["beta_code"])[-6:].lower()
    response = client.get(
        ENTERPRISES, query_string={"q": fragment}, headers=auth.headers(regulator)
    )
    assert [item["id"] for item in response.get_json()["items"]] == [three_enterprises["beta"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("%", ["omega"], id="percent"),
        pytest.param("_", ["omega"], id="underscore"),
        pytest.param("a_1", ["omega"], id="underscore-between-characters"),
        pytest.param("热_", [], id="underscore-is-not-any-character"),
        pytest.param("a%t", [], id="percent-is-not-any-run"),
    ],
)
def test_q_treats_sql_wildcards_as_literal_characters(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    three_enterprises: dict[str, Any],
    q: str,
    expected: list[str],
) -> None:
    # Only Omega's English name holds a literal '_' and '%'; the others would match as patterns.
    omega = make_enterprise(session, name="北京戊热力有限公司", name_en="Omega_100% Heat")
    names = {**three_enterprises, "omega": omega.id}
    response = client.get(ENTERPRISES, query_string={"q": q}, headers=auth.headers(regulator))
    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["items"]] == [names[n] for n in expected]


def test_enterprise_user_lists_only_their_own_enterprise_whatever_the_filters(
    client: FlaskClient, session: Session, auth: AuthActions, three_enterprises: dict[str, Any]
) -> None:
    own = session.get(emitters.Enterprise, three_enterprises["alpha"])
    headers = auth.headers(make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=own))

    everything = client.get(ENTERPRISES, headers=headers).get_json()
    cement = client.get(ENTERPRISES, query_string={"sector": "cement"}, headers=headers).get_json()

    assert [item["id"] for item in everything["items"]] == [three_enterprises["alpha"]]
    assert everything["page"]["total"] == 1
    assert cement["items"] == []
    assert cement["page"]["total"] == 0


# --- corrections (PATCH) --------------------------------------------------------------------


def test_regulator_corrects_names_sector_and_district(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    headers = auth.headers(regulator)
    changes = {"name_en": "Renamed Ltd.", "sector": "heat", "district": "tongzhou"}

    response = client.patch(f"{ENTERPRISES}/{enterprise.id}", json=changes, headers=headers)

    assert response.status_code == 200
    fetched = client.get(f"{ENTERPRISES}/{enterprise.id}", headers=headers).get_json()
    for field, value in changes.items():
        assert fetched[field] == value
    assert fetched["name"] == enterprise.name  # untouched fields stay


def test_patch_may_clear_the_english_name_with_null(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    response = client.patch(
        f"{ENTERPRISES}/{enterprise.id}", json={"name_en": None}, headers=auth.headers(regulator)
    )
    assert response.status_code == 200
    assert response.get_json()["name_en"] is None


@pytest.mark.parametrize(
    ("changes", "pointers"),
    [
        pytest.param({"credit_code": credit_code()}, {"#/credit_code"}, id="credit-code-is-fixed"),
        pytest.param({"status": "active"}, {"#/status"}, id="status-goes-through-its-endpoint"),
        pytest.param({"district": "pudong"}, {"#/district"}, id="district-not-in-catalogue"),
        pytest.param({"name": ""}, {"#/name"}, id="empty-name"),
    ],
)
def test_patch_refuses_invalid_corrections_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    changes: dict[str, Any],
    pointers: set[str],
) -> None:
    enterprise = make_enterprise(session)
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.patch(f"{ENTERPRISES}/{enterprise.id}", json=changes, headers=headers)
    assert_problem(response, 422, "validation-failed", pointers=pointers)


def test_patch_of_unknown_enterprise_is_404(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.patch(
        f"{ENTERPRISES}/987654", json={"name": "x"}, headers=auth.headers(regulator)
    )
    assert_problem(response, 404, "not-found")


# --- contacts -----------------------------------------------------------------------------

NEW_CONTACTS = {
    "contacts": [
        {"name": "钱工", "title": "碳管理专员", "phone": "+86 10 1234 5678"},
        {"name": "孙工", "email": "sun@example.com"},
    ]
}


def test_enterprise_user_replaces_their_own_contacts(
    client: FlaskClient, session: Session, auth: AuthActions
) -> None:
    enterprise = make_enterprise(session)
    user = make_user(session, role=Role.ENTERPRISE, enterprise=enterprise)

    response = client.put(
        f"{ENTERPRISES}/{enterprise.id}/contacts", json=NEW_CONTACTS, headers=auth.headers(user)
    )

    assert response.status_code == 200
    names = [c["name"] for c in response.get_json()["contacts"]]
    assert names == ["钱工", "孙工"]


def test_enterprise_user_cannot_replace_another_enterprises_contacts_and_sees_404(
    app: Flask, client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    mine = make_enterprise(session)
    theirs = make_enterprise(session)
    headers = auth.headers(make_user(session, role=Role.ENTERPRISE, enterprise=mine))

    with writes_nothing(app):
        response = client.put(
            f"{ENTERPRISES}/{theirs.id}/contacts", json=NEW_CONTACTS, headers=headers
        )

    assert_problem(response, 404, "not-found")
    unchanged = client.get(f"{ENTERPRISES}/{theirs.id}", headers=auth.headers(regulator))
    assert [c["name"] for c in unchanged.get_json()["contacts"]] == ["王工"]


def test_contacts_are_limited_to_ten(
    app: Flask, client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    eleven = {"contacts": [{"name": f"联系人{i}"} for i in range(11)]}
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.put(
            f"{ENTERPRISES}/{enterprise.id}/contacts", json=eleven, headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/contacts"})


# --- status -------------------------------------------------------------------------------

#: How to bring a freshly registered enterprise into each status.
PATH_TO: dict[EnterpriseStatus, list[EnterpriseStatus]] = {
    EnterpriseStatus.REGISTERED: [],
    EnterpriseStatus.ACTIVE: [EnterpriseStatus.ACTIVE],
    EnterpriseStatus.SUSPENDED: [EnterpriseStatus.ACTIVE, EnterpriseStatus.SUSPENDED],
    EnterpriseStatus.EXITED: [EnterpriseStatus.EXITED],
}
ALLOWED = {
    ("registered", "active"),
    ("registered", "exited"),
    ("active", "suspended"),
    ("active", "exited"),
    ("suspended", "active"),
    ("suspended", "exited"),
}


@pytest.mark.parametrize("to_status", [s.value for s in EnterpriseStatus])
@pytest.mark.parametrize("from_status", [s.value for s in EnterpriseStatus])
def test_status_change_follows_the_lifecycle_table(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    from_status: str,
    to_status: str,
) -> None:
    enterprise = make_enterprise(session)
    for step in PATH_TO[EnterpriseStatus(from_status)]:
        emitters.change_status(
            session, SYSTEM, enterprise.id, status=step, effective_from=date(2026, 6, 1)
        )
    headers = auth.headers(regulator)
    url = f"{ENTERPRISES}/{enterprise.id}/status"
    request = {"status": to_status, "effective_from": "2026-06-15", "reason": "test"}

    if (from_status, to_status) in ALLOWED:
        response = client.post(url, json=request, headers=headers)
        assert response.status_code == 200
        assert response.get_json()["status"] == to_status
        assert response.get_json()["status_effective_from"] == "2026-06-15"
    else:
        with writes_nothing(app):
            response = client.post(url, json=request, headers=headers)
        assert_problem(response, 422, "invalid-status-transition", pointers={"#/status"})


def test_activation_is_recorded_in_the_status_history_oldest_first(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    headers = auth.headers(regulator)
    url = f"{ENTERPRISES}/{enterprise.id}/status"

    changed = client.post(
        url,
        json={"status": "active", "effective_from": "2026-07-01", "reason": "纳入管控"},
        headers=headers,
    )
    history = client.get(url, headers=headers)

    assert changed.status_code == 200
    assert history.status_code == 200
    entries = history.get_json()
    assert [(e["from_status"], e["to_status"]) for e in entries] == [
        (None, "registered"),
        ("registered", "active"),
    ]
    assert entries[1]["effective_from"] == "2026-07-01"
    assert entries[1]["reason"] == "纳入管控"
    assert entries[1]["changed_by"] == "regulator"


def test_exited_enterprise_cannot_become_active_again(
    app: Flask, client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    emitters.change_status(
        session,
        SYSTEM,
        enterprise.id,
        status=EnterpriseStatus.EXITED,
        effective_from=date(2026, 6, 1),
    )
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            f"{ENTERPRISES}/{enterprise.id}/status",
            json={"status": "active", "effective_from": "2026-07-01"},
            headers=headers,
        )
    body = assert_problem(response, 422, "invalid-status-transition", pointers={"#/status"})
    assert body["title"] == "Status change not allowed"


@pytest.mark.parametrize(
    ("effective_from", "expected_status"),
    [
        pytest.param("2026-05-31", 422, id="day-before-current-status-is-refused"),
        pytest.param("2026-06-01", 200, id="same-day-as-current-status-is-allowed"),
    ],
)
def test_status_change_cannot_take_effect_before_the_current_status(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    effective_from: str,
    expected_status: int,
) -> None:
    enterprise = make_enterprise(session)  # registered with effect from 2026-06-01
    headers = auth.headers(regulator)
    url = f"{ENTERPRISES}/{enterprise.id}/status"
    request = {"status": "active", "effective_from": effective_from}

    if expected_status == 200:
        assert client.post(url, json=request, headers=headers).status_code == 200
        return
    with writes_nothing(app):
        response = client.post(url, json=request, headers=headers)
    assert_problem(response, 422, "validation-failed", pointers={"#/effective_from"})
    assert len(client.get(url, headers=headers).get_json()) == 1


def test_status_change_needs_a_known_status_and_a_date(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    response = client.post(
        f"{ENTERPRISES}/{enterprise.id}/status",
        json={"status": "dormant"},
        headers=auth.headers(regulator),
    )
    assert_problem(response, 422, "validation-failed", pointers={"#/status", "#/effective_from"})


def test_status_history_of_unknown_enterprise_is_404(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.get(f"{ENTERPRISES}/987654/status", headers=auth.headers(regulator))
    assert_problem(response, 404, "not-found")
