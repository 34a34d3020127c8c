"""``enqueue``: one message per dedupe key, addressed to the enterprise's contacts and/or
the regulators; bad input is refused and changes nothing. The API shows an enterprise its
own messages and the regulators all of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.errors import NotFound, ValidationFailed
from carbon_market.notifications import service as outbox
from carbon_market.notifications.models import DeliveryStatus, Notification
from carbon_market.notifications.service import Message, enqueue, enqueue_many
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


# --- enqueue_many -------------------------------------------------------------------------


def _batch_message(enterprise_id, key, subject="Report due in 7 days", **overrides):
    values = {
        "kind": "deadline_reminder",
        "subject": subject,
        "body": "Your 2025 report is due on 2026-04-30.",
        "dedupe_key": key,
        "enterprise_id": enterprise_id,
    }
    return Message(**{**values, **overrides})


def test_a_batch_skips_keys_already_sent_and_repeats_within_it(session, clock):
    firm = make_enterprise(session)
    _reminder(session, firm.id, key="k1")  # already in the outbox
    batch = [
        _batch_message(firm.id, "k1"),
        _batch_message(firm.id, "k2", subject="first k2"),
        _batch_message(firm.id, "k3"),
        _batch_message(firm.id, "k2", subject="second k2"),  # repeats k2: the first wins
        _batch_message(firm.id, "k3"),
    ]

    added = enqueue_many(session, batch)

    # 5 in the batch − 1 already sent (k1) − 2 repeats (k2, k3) = 2 added, 3 in all.
    assert [m.dedupe_key for m in added] == ["k2", "k3"]
    assert _count(session) == 3
    stored = session.scalars(select(Notification).where(Notification.dedupe_key == "k2")).one()
    assert stored.subject == "first k2"
    assert stored.recipients == ["wang@example.com"]
    assert stored.status is DeliveryStatus.PENDING
    assert stored.created_at == stored.next_attempt_at == clock.now()
    # The same batch again: everything is sent already.
    assert enqueue_many(session, batch) == []
    assert _count(session) == 3


def test_a_batch_looks_up_the_outbox_and_the_contacts_once(session):
    firms = [make_enterprise(session, name=f"企业{n}") for n in range(20)]
    batch = [_batch_message(f.id, f"k{f.id}") for f in firms]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        added = enqueue_many(session, batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(added) == 20
    selects = [s for s in statements if s.lstrip().startswith("select")]
    # One look-up of the 20 keys, one of the 20 enterprises' contacts; not 20 of each.
    assert sum("from notification" in s for s in selects) == 1
    assert sum("from enterprise" in s for s in selects) == 1
    assert sum(s.lstrip().startswith("insert into notification") for s in statements) == 1


def test_a_batch_addresses_the_regulators_as_enqueue_does(app, sessions_with):
    with sessions_with(notify_regulator_emails=("a@bureau.gov.cn",))() as s:
        firm = make_enterprise(s)
        enqueue_many(
            s,
            [
                _batch_message(firm.id, "both", to_regulators=True),
                _batch_message(None, "regulators", to_regulators=True),
            ],
        )
        got = dict(s.execute(select(Notification.dedupe_key, Notification.recipients)).all())
        assert got == {
            "both": ["wang@example.com", "a@bureau.gov.cn"],
            "regulators": ["a@bureau.gov.cn"],
        }


def test_a_batch_with_one_bad_message_is_refused_whole(session):
    firm = make_enterprise(session)
    batch = [
        _batch_message(firm.id, "good"),
        _batch_message(firm.id, "bad", kind="gossip", body=" "),
        _batch_message(None, "nobody"),
    ]
    with pytest.raises(ValidationFailed) as raised:
        enqueue_many(session, batch)
    assert {e.pointer for e in raised.value.errors} == {
        "#/1/kind", "#/1/body", "#/2/enterprise_id",
    }  # fmt: skip
    assert _count(session) == 0


def test_a_batch_naming_an_unknown_enterprise_is_not_found_and_adds_nothing(session):
    firm = make_enterprise(session)
    with pytest.raises(NotFound):
        enqueue_many(session, [_batch_message(firm.id, "a"), _batch_message(99999, "b")])
    assert _count(session) == 0


def test_a_key_taken_after_the_look_up_loses_to_the_unique_constraint(session, monkeypatch):
    firm = make_enterprise(session)
    _reminder(session, firm.id, key="taken")
    # As if a concurrent job had added "taken" between the look-up and the insert.
    monkeypatch.setattr(outbox, "_existing_keys", lambda session, keys: set())

    added = enqueue_many(
        session, [_batch_message(firm.id, "taken"), _batch_message(firm.id, "new")]
    )

    assert [m.dedupe_key for m in added] == ["new"]
    assert _count(session) == 2
