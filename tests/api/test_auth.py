"""Login, tokens and users over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.clock import FixedClock
from tests.api.helpers import assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import PASSWORD, make_enterprise, make_user

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
TOKENS = "/api/v1/auth/tokens"
USERS = "/api/v1/users"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, json={"name": name, "password": password})


# --- login --------------------------------------------------------------------------------


def test_login_with_the_right_password_gives_a_one_day_token_that_works_on_me(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    enterprise = make_enterprise(session)
    make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=enterprise)

    response = login(client, "alpha")

    assert response.status_code == 201
    issued = response.get_json()
    assert issued["token"].startswith(issued["prefix"])
    assert datetime.fromisoformat(issued["expires_at"]) == clock.now() + timedelta(days=1)
    me = client.get(ME, headers=bearer(issued["token"]))
    assert me.status_code == 200
    assert me.get_json() == {
        "name": "alpha",
        "role": "enterprise",
        "enterprise_id": enterprise.id,
        "can_initiate": True,
        "can_approve": True,
    }


def test_login_token_stops_working_after_one_day(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    token = login(client, "vera").get_json()["token"]

    clock.advance(timedelta(hours=23, minutes=59))
    still_valid = client.get(ME, headers=bearer(token))
    clock.advance(timedelta(minutes=1))
    expired = client.get(ME, headers=bearer(token))

    assert still_valid.status_code == 200
    assert_problem(expired, 401, "not-authenticated")


def test_wrong_password_unknown_user_and_deactivated_user_get_the_same_401(
    client: FlaskClient, session: Session
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    make_user(session, role=Role.VERIFIER, name="gone")
    auth_service.deactivate_user(session, Actor.system(), name="gone")

    answers = [
        login(client, "vera", "wrong-password-entirely"),
        login(client, "nobody-by-this-name"),
        login(client, "gone"),
    ]

    bodies = [assert_problem(r, 401, "not-authenticated") for r in answers]
    assert {b["detail"] for b in bodies} == {"wrong user name or password"}
    assert {b["title"] for b in bodies} == {"Authentication required"}


def test_failed_login_issues_no_token(app: Flask, client: FlaskClient, session: Session) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    with writes_nothing(app):
        response = login(client, "vera", "not-the-password")
    assert_problem(response, 401, "not-authenticated")


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        pytest.param({"name": "vera"}, {"#/password"}, id="missing-password"),
        pytest.param({"password": PASSWORD}, {"#/name"}, id="missing-name"),
        pytest.param(
            {"name": "vera", "password": PASSWORD, "ttl_days": 366},
            {"#/ttl_days"},
            id="client-cannot-choose-lifetime",
        ),
    ],
)
def test_malformed_login_is_a_422_problem(
    client: FlaskClient, body: dict[str, Any], pointers: set[str]
) -> None:
    assert_problem(client.post(LOGIN, json=body), 422, "validation-failed", pointers=pointers)


# --- tokens -------------------------------------------------------------------------------


def test_token_list_shows_only_the_callers_tokens_by_prefix_never_the_secret(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    first = login(client, "vera").get_json()
    second = login(client, "vera").get_json()
    auth.headers(regulator)  # somebody else's token

    response = client.get(TOKENS, headers=bearer(second["token"]))

    assert response.status_code == 200
    listed = response.get_json()
    assert [t["id"] for t in listed] == [first["id"], second["id"]]
    assert [t["prefix"] for t in listed] == [first["prefix"], second["prefix"]]
    assert all(t["revoked_at"] is None for t in listed)
    assert all(t["label"] == "login" for t in listed)
    text = response.get_data(as_text=True)
    assert first["token"] not in text
    assert second["token"] not in text


def test_revoked_token_stops_working_and_is_listed_as_revoked(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    doomed = login(client, "vera").get_json()
    keeper = login(client, "vera").get_json()

    revoked = client.delete(f"{TOKENS}/{doomed['id']}", headers=bearer(keeper["token"]))
    after = client.get(ME, headers=bearer(doomed["token"]))
    listing = client.get(TOKENS, headers=bearer(keeper["token"])).get_json()

    assert revoked.status_code == 200
    assert datetime.fromisoformat(revoked.get_json()["revoked_at"]) == clock.now()
    body = assert_problem(after, 401, "not-authenticated")
    assert "revoked" in body["detail"]
    assert client.get(ME, headers=bearer(keeper["token"])).status_code == 200
    assert {t["id"]: t["revoked_at"] is not None for t in listing} == {
        doomed["id"]: True,
        keeper["id"]: False,
    }


def test_a_token_may_revoke_itself(client: FlaskClient, session: Session) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    issued = login(client, "vera").get_json()

    response = client.delete(f"{TOKENS}/{issued['id']}", headers=bearer(issued["token"]))

    assert response.status_code == 200
    assert_problem(client.get(ME, headers=bearer(issued["token"])), 401, "not-authenticated")


def test_revoking_twice_is_harmless_and_keeps_the_first_revocation_time(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")
    doomed = login(client, "vera").get_json()
    keeper = bearer(login(client, "vera").get_json()["token"])

    first = client.delete(f"{TOKENS}/{doomed['id']}", headers=keeper)
    clock.advance(timedelta(minutes=5))
    second = client.delete(f"{TOKENS}/{doomed['id']}", headers=keeper)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json()["revoked_at"] == first.get_json()["revoked_at"]


def test_revoking_an_unknown_token_is_404(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.delete(f"{TOKENS}/987654", headers=auth.headers(regulator))
    assert_problem(response, 404, "not-found")


def test_deactivated_users_token_stops_working_at_once(
    client: FlaskClient, session: Session
) -> None:
    make_user(session, role=Role.FINANCE_OFFICER, name="fiona")
    token = login(client, "fiona").get_json()["token"]
    assert client.get(ME, headers=bearer(token)).status_code == 200

    auth_service.deactivate_user(session, Actor.system(), name="fiona")

    body = assert_problem(client.get(ME, headers=bearer(token)), 401, "not-authenticated")
    assert "deactivated" in body["detail"]


# --- users --------------------------------------------------------------------------------


def test_regulator_creates_an_enterprise_user_bound_by_credit_code_with_both_capabilities(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    body = {
        "name": "alpha.operator",
        "role": "enterprise",
        "password": "operator-password-1",
        "enterprise": enterprise.credit_code.lower(),
    }

    response = client.post(USERS, json=body, headers=auth.headers(regulator))

    assert response.status_code == 201
    created = response.get_json()
    assert created["enterprise_id"] == enterprise.id
    assert created["role"] == "enterprise"
    assert created["can_initiate"] is True
    assert created["can_approve"] is True
    assert created["is_active"] is True
    assert "password" not in created
    assert "password_hash" not in created
    token = login(client, "alpha.operator", "operator-password-1").get_json()["token"]
    assert client.get(ME, headers=bearer(token)).get_json()["enterprise_id"] == enterprise.id


def test_enterprise_user_may_be_created_with_a_single_capability(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    enterprise = make_enterprise(session)
    body = {
        "name": "alpha.clerk",
        "role": "enterprise",
        "password": "clerk-password-12",
        "enterprise": enterprise.credit_code,
        "can_approve": False,
    }
    created = client.post(USERS, json=body, headers=auth.headers(regulator)).get_json()
    assert (created["can_initiate"], created["can_approve"]) == (True, False)


def test_non_enterprise_user_gets_no_enterprise_and_no_capabilities(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    body = {"name": "new.auditor", "role": "auditor", "password": "auditor-password-1"}
    created = client.post(USERS, json=body, headers=auth.headers(regulator)).get_json()
    assert created["enterprise_id"] is None
    assert (created["can_initiate"], created["can_approve"]) == (False, False)


@pytest.mark.parametrize(
    ("body", "status", "slug", "pointers"),
    [
        pytest.param(
            {"name": "x.enterprise", "role": "enterprise", "password": "long-enough-pw"},
            422,
            "validation-failed",
            {"#/enterprise"},
            id="enterprise-user-without-enterprise",
        ),
        pytest.param(
            {
                "name": "x.enterprise",
                "role": "enterprise",
                "password": "long-enough-pw",
                "enterprise": "91110000999999999X",
            },
            422,
            "validation-failed",
            {"#/enterprise"},
            id="unknown-credit-code",
        ),
        pytest.param(
            {
                "name": "x.enterprise",
                "role": "enterprise",
                "password": "long-enough-pw",
                "enterprise": "{code}",
                "can_initiate": False,
                "can_approve": False,
            },
            422,
            "validation-failed",
            {"#/can_initiate"},
            id="enterprise-user-with-no-capability",
        ),
        pytest.param(
            {
                "name": "x.verifier",
                "role": "verifier",
                "password": "long-enough-pw",
                "enterprise": "{code}",
            },
            422,
            "validation-failed",
            {"#/enterprise"},
            id="verifier-bound-to-an-enterprise",
        ),
        pytest.param(
            {"name": "x.verifier", "role": "verifier", "password": "short"},
            422,
            "validation-failed",
            {"#/password"},
            id="password-too-short",
        ),
        pytest.param(
            {"name": "x verifier!", "role": "verifier", "password": "long-enough-pw"},
            422,
            "validation-failed",
            {"#/name"},
            id="name-with-spaces",
        ),
        pytest.param(
            {"name": "x.verifier", "role": "superuser", "password": "long-enough-pw"},
            422,
            "validation-failed",
            {"#/role"},
            id="unknown-role",
        ),
        pytest.param(
            {"name": "regulator", "role": "verifier", "password": "long-enough-pw"},
            409,
            "conflict",
            {"#/name"},
            id="name-taken",
        ),
    ],
)
def test_invalid_user_is_refused_and_nothing_is_written(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    body: dict[str, Any],
    status: int,
    slug: str,
    pointers: set[str],
) -> None:
    enterprise = make_enterprise(session)
    if body.get("enterprise") == "{code}":
        body = {**body, "enterprise": enterprise.credit_code}
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(USERS, json=body, headers=headers)
    assert_problem(response, status, slug, pointers=pointers)


def test_user_list_is_paginated_and_never_shows_password_hashes(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any, auditor: Any
) -> None:
    make_user(session, role=Role.VERIFIER, name="vera")

    response = client.get(USERS, query_string={"page_size": 2}, headers=auth.headers(auditor))

    assert response.status_code == 200
    body = response.get_json()
    assert body["page"] == {"page": 1, "page_size": 2, "total": 3, "pages": 2}
    assert [u["name"] for u in body["items"]] == ["regulator", "auditor"]
    assert "argon2" not in response.get_data(as_text=True)


def test_revoking_a_token_id_beyond_64_bits_is_a_404_problem(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.delete(f"/api/v1/auth/tokens/{10**30}", headers=auth.headers(regulator))
    assert_problem(response, 404, "not-found")
