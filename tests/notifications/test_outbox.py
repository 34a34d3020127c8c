"""``enqueue``: one message per dedupe key, addressed to the enterprise's contacts and/or
the regulators; bad input is refused and changes nothing. The API shows an enterprise its
own messages and the regulators all of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carbon_market.auth.roles import Role
from carbon_market.errors import NotFound, ValidationFailed
from carbon_market.notifications.models import DeliveryStatus, Notification
from carbon_market.notifications.service import enqueue
from tests.api.helpers import assert_problem
from tests.factories import make_enterprise, make_user


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Notification))


def _reminder(session, enterprise_id, key="reminder:2026:30", **overrides):
    values = {
        "kind": "deadline_reminder",
        "subject": "Surrender due in 30 days",
        "body": "Your 2025 obligation is due on 2026-12-31.",
        "dedupe_key": key,
        "enterprise_id": enterprise_id,
    }
    return enqueue(session, **{**values, **overrides})


def test_a_message_is_addressed_to_the_enterprises_contact_emails(session, clock):
    firm = make_enterprise(
        session,
        contacts=[
            {"name": "王工", "email": "wang@example.com"},
            {"name": "李工", "phone": "010-1"},  # no address: skipped
            {"name": "赵工", "email": "zhao@example.com"},
        ],
    )
    message = _reminder(session, firm.id)
    assert message is not None
    assert message.recipients == ["wang@example.com", "zhao@example.com"]
    assert message.status is DeliveryStatus.PENDING
    assert message.attempts == 0
    assert message.created_at == message.next_attempt_at == clock.now()


def test_the_same_dedupe_key_twice_adds_nothing(session):
    firm = make_enterprise(session)
    assert _reminder(session, firm.id) is not None
    assert _reminder(session, firm.id, subject="changed") is None
    assert _count(session) == 1


def test_regulators_are_addressed_from_the_configured_list(app, sessions_with):
    with sessions_with(notify_regulator_emails=("a@bureau.gov.cn", "b@bureau.gov.cn"))() as s:
        firm = make_enterprise(s)
        message = enqueue(
            s,
            kind="shortfall",
            subject="Shortfall",
            body="...",
            dedupe_key="k",
            enterprise_id=firm.id,
            to_regulators=True,
        )
        assert message.recipients == ["wang@example.com", "a@bureau.gov.cn", "b@bureau.gov.cn"]


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"kind": "gossip"}, {"#/kind"}),
        ({"subject": " ", "body": ""}, {"#/subject", "#/body"}),
        ({"dedupe_key": "x" * 201}, {"#/dedupe_key"}),
        ({"enterprise_id": None}, {"#/enterprise_id"}),
    ],
)
def test_bad_input_is_refused_with_every_field_at_once(session, overrides, pointers):
    firm = make_enterprise(session)
    with pytest.raises(ValidationFailed) as raised:
        _reminder(session, overrides.pop("enterprise_id", firm.id), **overrides)
    assert {e.pointer for e in raised.value.errors} == pointers
    assert _count(session) == 0


def test_an_unknown_enterprise_is_not_found(session):
    with pytest.raises(NotFound):
        _reminder(session, 99999)
    assert _count(session) == 0


@pytest.fixture
def two_firms(session, clock):
    own = make_enterprise(session, name="甲")
    other = make_enterprise(session, name="乙")
    _reminder(session, own.id, key="own-1")
    clock.advance(timedelta(hours=1))
    _reminder(session, own.id, key="own-2", kind="penalty", subject="Penalty")
    _reminder(session, other.id, key="other-1")
    enqueue(
        session, kind="ledger_verify_failed", subject="x", body="y", dedupe_key="reg",
        to_regulators=True,
    )  # fmt: skip
    return own, other


def test_an_enterprise_user_sees_only_its_own_messages_newest_first(
    client, auth, session, two_firms
):
    own, _ = two_firms
    user = make_user(session, role=Role.ENTERPRISE, name="own-user", enterprise=own)
    body = client.get("/api/v1/notifications", headers=auth.headers(user)).get_json()
    assert [m["dedupe_key"] for m in body["items"]] == ["own-2", "own-1"]
    assert body["items"][0]["enterprise"] == own.credit_code
    assert body["page"]["total"] == 2


def test_regulators_see_every_message_and_filter_them(client, auth, regulator, two_firms):
    headers = auth.headers(regulator)

    def keys(query=""):
        body = client.get(f"/api/v1/notifications?{query}", headers=headers).get_json()
        return [m["dedupe_key"] for m in body["items"]]

    assert sorted(keys()) == ["other-1", "own-1", "own-2", "reg"]
    assert keys("kind=penalty") == ["own-2"]
    assert keys("status=sent") == []
    assert sorted(keys("status=pending")) == ["other-1", "own-1", "own-2", "reg"]
    # Created 2026-06-01 10:00 and 11:00 in Beijing: all on or after 1 June, none after.
    assert keys("since=2026-06-02") == []
    assert len(keys("since=2026-06-01")) == 4


def test_another_enterprises_message_is_not_found_like_a_missing_one(
    client, auth, session, two_firms
):
    own, _ = two_firms
    user = make_user(session, role=Role.ENTERPRISE, name="own-user", enterprise=own)
    theirs = session.scalar(select(Notification.id).where(Notification.dedupe_key == "other-1"))
    mine = session.scalar(select(Notification.id).where(Notification.dedupe_key == "own-1"))
    headers = auth.headers(user)
    assert client.get(f"/api/v1/notifications/{mine}", headers=headers).status_code == 200
    assert_problem(client.get(f"/api/v1/notifications/{theirs}", headers=headers), 404, "not-found")
    assert_problem(client.get("/api/v1/notifications/99999", headers=headers), 404, "not-found")


def test_a_bad_status_filter_is_a_problem(client, auth, regulator):
    response = client.get("/api/v1/notifications?status=lost", headers=auth.headers(regulator))
    assert_problem(response, 422, "validation-failed", pointers={"#/query/status"})
