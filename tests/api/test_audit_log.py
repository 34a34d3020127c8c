"""The audit log over HTTP: who did what, when, with which request, for regulators and auditors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.clock import FixedClock
from tests.api.helpers import assert_problem
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise, make_user

AUDIT = "/api/v1/audit-events"
ENTERPRISES = "/api/v1/enterprises"


def register(client: FlaskClient, headers: dict[str, str], name: str = "北京己热电有限公司") -> Any:
    body = {"credit_code": credit_code(), "name": name, "sector": "power", "district": "miyun"}
    response = client.post(ENTERPRISES, json=body, headers=headers)
    assert response.status_code == 201
    return response


def test_registration_is_audited_with_actor_action_after_state_and_request_id(
    client: FlaskClient, auth: AuthActions, regulator: Any, auditor: Any, clock: FixedClock
) -> None:
    registered = register(client, {**auth.headers(regulator), "X-Request-ID": "reg-0001"})
    enterprise = registered.get_json()

    response = client.get(
        AUDIT, query_string={"entity_type": "enterprise"}, headers=auth.headers(auditor)
    )

    assert response.status_code == 200
    events = response.get_json()["items"]
    assert len(events) == 1
    event = events[0]
    assert event["actor_name"] == "regulator"
    assert event["actor_role"] == "regulator"
    assert event["action"] == "enterprise:register"
    assert event["entity_type"] == "enterprise"
    assert event["entity_id"] == str(enterprise["id"])
    assert event["before"] is None
    assert event["after"]["credit_code"] == enterprise["credit_code"]
    assert event["after"]["name"] == "北京己热电有限公司"
    assert event["after"]["status"] == "registered"
    assert event["after"]["status_effective_from"] == "2026-06-01"
    assert event["request_id"] == registered.headers["X-Request-ID"] == "reg-0001"
    assert event["occurred_at"] == clock.now().isoformat()


def test_generated_request_id_of_the_response_is_the_one_audited(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    registered = register(client, headers)  # no X-Request-ID sent: the server makes one

    events = client.get(
        AUDIT, query_string={"action": "enterprise:register"}, headers=headers
    ).get_json()["items"]

    assert [e["request_id"] for e in events] == [registered.headers["X-Request-ID"]]


def test_a_correction_records_the_state_before_and_after(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    headers = auth.headers(regulator)
    enterprise = register(client, headers).get_json()
    client.patch(f"{ENTERPRISES}/{enterprise['id']}", json={"district": "yanqing"}, headers=headers)

    events = client.get(
        AUDIT, query_string={"action": "enterprise:update"}, headers=headers
    ).get_json()["items"]

    assert len(events) == 1
    assert events[0]["before"] == {"district": "miyun"}
    assert events[0]["after"] == {"district": "yanqing"}


def test_refused_request_leaves_no_audit_event(
    client: FlaskClient, auth: AuthActions, regulator: Any, auditor: Any
) -> None:
    client.post(
        ENTERPRISES,
        json={"credit_code": credit_code(), "name": "x", "sector": "power", "district": "miyun"},
        headers=auth.headers(auditor),
    )
    events = client.get(
        AUDIT, query_string={"entity_type": "enterprise"}, headers=auth.headers(regulator)
    ).get_json()
    assert events["items"] == []


def test_audit_filter_by_actor_returns_only_that_actors_events(
    client: FlaskClient, session: Session, auth: AuthActions, regulator: Any
) -> None:
    second_regulator = make_user(session, role=Role.REGULATOR, name="second.regulator")
    register(client, auth.headers(regulator), name="甲")
    register(client, auth.headers(second_regulator), name="乙")
    register(client, auth.headers(second_regulator), name="丙")
    headers = auth.headers(regulator)

    def names_for(actor: str) -> list[str]:
        events = client.get(
            AUDIT,
            query_string={"actor": actor, "action": "enterprise:register"},
            headers=headers,
        ).get_json()["items"]
        assert {e["actor_name"] for e in events} <= {actor}
        return [e["after"]["name"] for e in events]

    assert names_for("regulator") == ["甲"]
    assert names_for("second.regulator") == ["丙", "乙"]  # newest first
    assert names_for("nobody") == []


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param({"since": "2026-06-01T03:00:00+00:00"}, ["午", "晚"], id="since-inclusive"),
        pytest.param({"until": "2026-06-01T03:00:00+00:00"}, ["早"], id="until-exclusive"),
        pytest.param(
            {"since": "2026-06-01T02:30:00+00:00", "until": "2026-06-01T04:00:00+00:00"},
            ["午"],
            id="between",
        ),
        pytest.param(
            {"since": "2026-06-01T12:00:00+08:00"}, ["晚"], id="offsets-other-than-utc-work"
        ),
        pytest.param({"until": "2026-06-01T02:00:00+00:00"}, [], id="nothing-before-the-first"),
    ],
)
def test_audit_filter_by_time_window(
    client: FlaskClient,
    auth: AuthActions,
    regulator: Any,
    clock: FixedClock,
    window: dict[str, str],
    expected: list[str],
) -> None:
    headers = auth.headers(regulator)
    register(client, headers, name="早")  # 02:00 UTC
    clock.advance(timedelta(hours=1))
    register(client, headers, name="午")  # 03:00 UTC
    clock.advance(timedelta(hours=1, minutes=30))
    register(client, headers, name="晚")  # 04:30 UTC = 12:30 in Beijing

    events = client.get(
        AUDIT, query_string={"action": "enterprise:register", **window}, headers=headers
    ).get_json()["items"]

    assert [e["after"]["name"] for e in events] == list(reversed(expected))


def test_audit_time_filter_refuses_a_datetime_without_offset(
    client: FlaskClient, auth: AuthActions, regulator: Any
) -> None:
    response = client.get(
        AUDIT, query_string={"since": "2026-06-01T10:00:00"}, headers=auth.headers(regulator)
    )
    assert_problem(response, 422, "validation-failed", pointers={"#/query/since"})


def test_audit_events_are_paginated_newest_first(
    client: FlaskClient, auth: AuthActions, regulator: Any, clock: FixedClock
) -> None:
    headers = auth.headers(regulator)
    for name in ("一", "二", "三"):
        register(client, headers, name=name)
        clock.advance(timedelta(minutes=1))

    page = client.get(
        AUDIT,
        query_string={"entity_type": "enterprise", "page_size": 2, "page": 1},
        headers=headers,
    ).get_json()

    assert page["page"] == {"page": 1, "page_size": 2, "total": 3, "pages": 2}
    assert [e["after"]["name"] for e in page["items"]] == ["三", "二"]


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.VERIFIER, Role.FINANCE_OFFICER])
def test_roles_other_than_regulator_and_auditor_get_403_from_the_audit_log(
    client: FlaskClient, session: Session, auth: AuthActions, role: Role
) -> None:
    enterprise = make_enterprise(session) if role is Role.ENTERPRISE else None
    user = make_user(session, role=role, enterprise=enterprise)

    response = client.get(AUDIT, headers=auth.headers(user))

    body = assert_problem(response, 403, "permission-denied")
    assert "audit.read" in body["detail"]
