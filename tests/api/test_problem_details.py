"""Every error leaves the API as RFC 9457 problem+json, and a refused request writes nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.clock import FixedClock
from tests.api.helpers import PROBLEM_JSON, assert_problem, writes_nothing
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise

ENTERPRISES = "/api/v1/enterprises"


def enterprise_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "credit_code": credit_code(),
        "name": "北京丙热力有限公司",
        "name_en": "Gamma Heat",
        "sector": "heat",
        "district": "haidian",
        "contacts": [{"name": "李工", "phone": "010-87654321", "email": "li@example.com"}],
    }
    body.update(overrides)
    return body


def with_wrong_check_character(code: str) -> str:
    wrong = "0" if code[-1] != "0" else "1"
    return code[:-1] + wrong


# --- 400 ----------------------------------------------------------------------------------


def test_malformed_json_body_is_a_400_problem_and_registers_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            ENTERPRISES,
            data='{"name": "unterminated',
            content_type="application/json",
            headers=headers,
        )
    assert_problem(response, 400, "bad-request")


# --- 401 ----------------------------------------------------------------------------------


def _no_header(**_: Any) -> dict[str, str]:
    return {}


def _basic_scheme(**_: Any) -> dict[str, str]:
    return {"Authorization": "Basic cmVndWxhdG9yOnNlY3JldA=="}


def _unknown_token(**_: Any) -> dict[str, str]:
    return {"Authorization": "Bearer cm_this-token-was-never-issued"}


def _expired_token(auth: AuthActions, user: Any, clock: FixedClock, **_: Any) -> dict[str, str]:
    headers = auth.headers(user)  # valid for one day
    clock.advance(timedelta(days=1, seconds=1))
    return headers


def _revoked_token(session: Session, user: Any, **_: Any) -> dict[str, str]:
    record, token = auth_service.issue_token(session, Actor.system(), user_name=user.name)
    auth_service.revoke_token(session, Actor.system(), record.id)
    return {"Authorization": f"Bearer {token}"}


def _deactivated_user(session: Session, auth: AuthActions, user: Any, **_: Any) -> dict[str, str]:
    headers = auth.headers(user)
    auth_service.deactivate_user(session, Actor.system(), name=user.name)
    return headers


@pytest.mark.parametrize(
    ("make_headers", "detail_fragment"),
    [
        pytest.param(_no_header, "Authorization: Bearer", id="no-authorization-header"),
        pytest.param(_basic_scheme, "Authorization: Bearer", id="basic-scheme-not-bearer"),
        pytest.param(_unknown_token, "not valid", id="unknown-token"),
        pytest.param(_expired_token, "expired", id="expired-token"),
        pytest.param(_revoked_token, "revoked", id="revoked-token"),
        pytest.param(_deactivated_user, "deactivated", id="deactivated-user"),
    ],
)
@pytest.mark.parametrize(
    ("method", "make_body"),
    [
        pytest.param("GET", lambda: None, id="list"),
        pytest.param("POST", enterprise_body, id="register"),
    ],
)
def test_request_without_a_usable_token_is_a_401_problem_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    clock: FixedClock,
    make_headers: Callable[..., dict[str, str]],
    detail_fragment: str,
    method: str,
    make_body: Callable[[], dict[str, Any] | None],
) -> None:
    headers = make_headers(session=session, auth=auth, user=regulator, clock=clock)
    with writes_nothing(app):
        response = client.open(ENTERPRISES, method=method, json=make_body(), headers=headers)
    body = assert_problem(response, 401, "not-authenticated")
    assert detail_fragment in body["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- 403 ----------------------------------------------------------------------------------


def test_auditor_registering_an_enterprise_is_a_403_problem_and_writes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, auditor: Any
) -> None:
    headers = auth.headers(auditor)
    with writes_nothing(app):
        response = client.post(ENTERPRISES, json=enterprise_body(), headers=headers)
    body = assert_problem(response, 403, "permission-denied")
    assert "enterprise.register" in body["detail"]


# --- 404 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/no-such-resource", id="unknown-api-route"),
        pytest.param("/no-such-page", id="unknown-route-outside-api"),
        pytest.param(f"{ENTERPRISES}/987654", id="unknown-enterprise-id"),
        pytest.param(f"{ENTERPRISES}/987654/facilities", id="facilities-of-unknown-enterprise"),
        pytest.param("/api/problems/no-such-problem", id="unknown-problem-type"),
        # Beyond a 64-bit id: no such row, rather than a database overflow and a 500.
        pytest.param(f"{ENTERPRISES}/{2**63}", id="enterprise-id-beyond-64-bits"),
        pytest.param(f"{ENTERPRISES}/{10**30}/facilities", id="owner-id-beyond-64-bits"),
        pytest.param(f"/api/v1/notifications/{10**30}", id="notification-id-beyond-64-bits"),
    ],
)
def test_unknown_route_or_id_is_a_404_problem(
    client: FlaskClient, auth: AuthActions, regulator: Any, path: str
) -> None:
    response = client.get(path, headers=auth.headers(regulator))
    assert_problem(response, 404, "not-found")


# --- 405 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        pytest.param("DELETE", ENTERPRISES, {"GET", "POST"}, id="delete-enterprise-collection"),
        pytest.param("PUT", f"{ENTERPRISES}/1", {"GET", "PATCH"}, id="put-one-enterprise"),
        pytest.param("POST", "/api/v1/catalogues/districts", {"GET"}, id="post-district-catalogue"),
    ],
)
def test_unsupported_method_is_a_405_problem_with_an_allow_header(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    regulator: Any,
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.open(path, method=method, json={}, headers=headers)
    assert_problem(response, 405, "method-not-allowed")
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method not in allow


# --- 409 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spell", [pytest.param(str, id="same-spelling"), pytest.param(str.lower, id="lower-case")]
)
def test_registering_a_credit_code_twice_is_a_409_problem_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    regulator: Any,
    spell: Callable[[str], str],
) -> None:
    existing = make_enterprise(session)
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            ENTERPRISES,
            json=enterprise_body(credit_code=spell(existing.credit_code)),
            headers=headers,
        )
    body = assert_problem(response, 409, "conflict", pointers={"#/credit_code"})
    assert body["errors"][0]["code"] == "credit_code.duplicate"


# --- 413 ----------------------------------------------------------------------------------


def test_json_body_over_one_mebibyte_is_a_413_problem_and_registers_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    padded = enterprise_body(name="甲" * (1024 * 1024 // 3 + 1))  # 3 bytes each in UTF-8
    with writes_nothing(app):
        response = client.post(ENTERPRISES, json=padded, headers=headers)
    assert_problem(response, 413, "payload-too-large")


# --- 422 ----------------------------------------------------------------------------------


def _post(**overrides: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"method": "POST", "json": enterprise_body(**overrides)}


def _post_without(field: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        body = enterprise_body()
        del body[field]
        return {"method": "POST", "json": body}

    return build


def _list(**query: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"method": "GET", "query_string": query}


@pytest.mark.parametrize(
    ("make_request", "pointers"),
    [
        pytest.param(_post(colour="green"), {"#/colour"}, id="unknown-body-field"),
        pytest.param(_post(name=5), {"#/name"}, id="name-of-wrong-type"),
        pytest.param(_post(contacts="李工"), {"#/contacts"}, id="contacts-not-a-list"),
        pytest.param(_post_without("district"), {"#/district"}, id="missing-district"),
        pytest.param(
            _post(contacts=[{"name": "李工", "email": "not-an-email"}]),
            {"#/contacts/0/email"},
            id="bad-email-inside-a-contact",
        ),
        pytest.param(
            lambda: {
                "method": "POST",
                "json": enterprise_body(credit_code=with_wrong_check_character(credit_code())),
            },
            {"#/credit_code"},
            id="credit-code-with-wrong-check-character",
        ),
        pytest.param(
            _post(sector="steel_mill", district="shanghai"),
            {"#/sector", "#/district"},
            id="sector-and-district-not-in-catalogue",
        ),
        pytest.param(_list(page_size=501), {"#/query/page_size"}, id="page-size-over-500"),
        pytest.param(_list(page=0), {"#/query/page"}, id="page-zero"),
        # An offset no database can take was a 500.
        pytest.param(_list(page=10**20), {"#/query/page"}, id="page-beyond-any-offset"),
        pytest.param(_post(name="   "), {"#/name"}, id="blank-name"),
        pytest.param(_list(colour="green"), {"#/query/colour"}, id="unknown-query-parameter"),
        pytest.param(_list(status="dormant"), {"#/query/status"}, id="unknown-status-filter"),
    ],
)
def test_invalid_request_is_a_422_problem_pointing_at_each_field_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    regulator: Any,
    make_request: Callable[[], dict[str, Any]],
    pointers: set[str],
) -> None:
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.open(ENTERPRISES, headers=headers, **make_request())
    body = assert_problem(response, 422, "validation-failed", pointers=pointers)
    assert all(error["detail"] for error in body["errors"])


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/enterprises/{id}?format=csv", id="one-enterprise"),
        pytest.param("/api/v1/enterprises/{id}/status?format=csv", id="status-history"),
        pytest.param("/api/v1/auth/me?format=csv", id="me"),
        pytest.param("/api/v1/catalogues/sectors?format=csv", id="sector-catalogue"),
    ],
)
def test_a_query_parameter_on_an_operation_that_takes_none_is_a_422_problem(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any, path: str
) -> None:
    # Operations with query arguments refuse unknown ones through their schema; these have
    # no schema, and answered 200 as if the parameter had been understood.
    enterprise = make_enterprise(session)
    url = path.format(id=enterprise.id)
    response = client.get(url, headers=auth.headers(regulator))
    assert_problem(response, 422, "validation-failed", pointers={"#/query/format"})


def test_catalogue_errors_carry_a_machine_readable_code(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.post(
        ENTERPRISES,
        json=enterprise_body(sector="steel_mill", district="shanghai"),
        headers=auth.headers(regulator),
    )
    body = assert_problem(response, 422, "validation-failed")
    assert {e["code"] for e in body["errors"]} == {"catalogue.unknown"}


def test_check_character_error_names_the_expected_character(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    good = credit_code()
    response = client.post(
        ENTERPRISES,
        json=enterprise_body(credit_code=with_wrong_check_character(good)),
        headers=auth.headers(regulator),
    )
    body = assert_problem(response, 422, "validation-failed", pointers={"#/credit_code"})
    assert f"'{good[-1]}'" in body["errors"][0]["detail"]


# --- 500 ----------------------------------------------------------------------------------


def test_unexpected_exception_is_a_500_problem_without_traceback_or_message(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/v1/test-only/explode")
    def explode() -> str:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    with caplog.at_level(logging.ERROR, logger="carbon_market.kernel.http"):
        response = client.get("/api/v1/test-only/explode", headers={"X-Request-ID": "boom-1"})

    body = assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    for leaked in ("hunter2", "RuntimeError", "Traceback", "raise", 'File "'):
        assert leaked not in text
    assert body["request_id"] == "boom-1"
    logged = [r for r in caplog.records if "boom-1" in r.getMessage()]
    assert logged, "the failure must be logged with its request id"
    assert logged[0].exc_info is not None


# --- request ids and problem types ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param(ENTERPRISES, 200, id="success"),
        pytest.param(f"{ENTERPRISES}/987654", 404, id="problem"),
    ],
)
def test_valid_x_request_id_is_echoed_in_header_and_problem_body(
    client: FlaskClient, auth: AuthActions, regulator: Any, path: str, status: int
) -> None:
    headers = {**auth.headers(regulator), "X-Request-ID": "client-42.retry_1"}
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "client-42.retry_1"
    if status >= 400:
        assert response.get_json()["request_id"] == "client-42.retry_1"


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param(None, id="absent"),
        pytest.param("has spaces and ; semicolons", id="unsafe-characters"),
        pytest.param("x" * 65, id="longer-than-64"),
    ],
)
def test_missing_or_unsafe_x_request_id_is_replaced_by_a_fresh_one(
    client: FlaskClient, incoming: str | None
) -> None:
    headers = {"X-Request-ID": incoming} if incoming is not None else {}
    response = client.get(ENTERPRISES, headers=headers)
    assert_problem(response, 401, "not-authenticated")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_two_requests_without_x_request_id_get_different_ids(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        pytest.param(f"{ENTERPRISES}/987654", "not-found", id="not-found"),
        pytest.param(f"{ENTERPRISES}?page_size=0", "validation-failed", id="validation-failed"),
    ],
)
def test_problem_type_dereferences_to_its_catalogue_entry_with_the_same_title(
    client: FlaskClient, auth: AuthActions, regulator: Any, path: str, slug: str
) -> None:
    problem = client.get(path, headers=auth.headers(regulator)).get_json()
    entry = client.get(problem["type"])
    assert entry.status_code == 200
    assert entry.get_json()["type"] == f"/api/problems/{slug}"
    assert entry.get_json()["title"] == problem["title"]
    assert entry.get_json()["description"]


def test_successful_responses_are_plain_json_not_problem_json(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.get(ENTERPRISES, headers=auth.headers(regulator))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.mimetype != PROBLEM_JSON
