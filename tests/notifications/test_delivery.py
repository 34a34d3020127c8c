"""Delivering the outbox to a loopback SMTP server and a loopback webhook, retrying with
exponential back-off, and never raising out of the job.

Worked example of the back-off (base 5 minutes, 3 attempts): fails at 10:00 → next try at
10:05; fails at 10:05 → waits 5 × 2 = 10 minutes → 10:15; fails at 10:15 → third failure,
marked ``failed`` with no next attempt.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from carbon_market.entrypoints.jobs import find_job
from carbon_market.notifications.delivery import deliver_due, retry_delay
from carbon_market.notifications.models import DeliveryStatus, Notification
from carbon_market.notifications.service import enqueue
from carbon_market.scheduler.jobs import run_job
from carbon_market.scheduler.models import JobRun, RunOutcome
from tests.factories import make_enterprise

#: A port nothing listens on (the discard port; connecting is refused on 127.0.0.1).
DEAD_PORT = 9


def _enqueue(session, key="k1", **overrides):
    firm = overrides.pop("firm", None) or make_enterprise(session)
    values = {
        "kind": "penalty",
        "subject": "罚款通知 Penalty notice",
        "body": "Shortfall 865,300 t × 98.00 CNY/t × 5 = 423,997,000.00 CNY.",
        "dedupe_key": key,
        "enterprise_id": firm.id,
    }
    return enqueue(session, **{**values, **overrides})


def _message(session, key="k1") -> Notification:
    session.expire_all()
    return session.scalar(select(Notification).where(Notification.dedupe_key == key))


def test_a_pending_message_is_mailed_to_its_recipients(sessions_with, smtp_server):
    smtp = {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": smtp_server.port,
        "notify_smtp_from": "registry@bureau.example",
    }
    with sessions_with(**smtp)() as session:
        _enqueue(session)
        assert deliver_due(session) == {"sent": 1, "retrying": 0, "failed": 0, "stored": 0}
        message = _message(session)
        assert message.status is DeliveryStatus.SENT
        assert message.channel == "smtp"
        assert message.sent_at is not None
        message_id = message.id
        # Sent once: a second run finds nothing due.
        assert deliver_due(session)["sent"] == 0
    [(sender, recipients, data)] = smtp_server.messages
    assert sender == "registry@bureau.example"
    assert recipients == ["wang@example.com"]
    assert f"Message-ID: <notification-{message_id}@carbon-market>" in data


def test_a_webhook_gets_the_message_as_json(sessions_with, webhook_server):
    with sessions_with(notify_webhook_url=webhook_server.url)() as session:
        _enqueue(session)
        assert deliver_due(session)["sent"] == 1
        assert _message(session).channel == "webhook"
    [body] = webhook_server.bodies
    payload = json.loads(body)
    assert payload["kind"] == "penalty"
    assert payload["dedupe_key"] == "k1"
    assert payload["recipients"] == ["wang@example.com"]
    assert webhook_server.content_types == ["application/json"]


def test_with_no_channel_configured_messages_are_stored_for_the_api(session):
    _enqueue(session)
    assert deliver_due(session) == {"sent": 0, "retrying": 0, "failed": 0, "stored": 1}
    message = _message(session)
    assert message.status is DeliveryStatus.STORED
    assert message.attempts == 0
    assert message.next_attempt_at is None


def test_a_message_without_an_address_is_stored_when_only_smtp_is_set(sessions_with, smtp_server):
    with sessions_with(notify_smtp_host="127.0.0.1", notify_smtp_port=smtp_server.port)() as s:
        _enqueue(s, firm=make_enterprise(s, contacts=[]))
        assert deliver_due(s)["stored"] == 1
    assert smtp_server.messages == []


def test_back_off_doubles_and_the_message_fails_after_the_last_attempt(sessions_with, clock):
    settings = {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": DEAD_PORT,
        "notify_max_attempts": 3,
        "notify_retry_base_minutes": 5,
        "notify_timeout_seconds": 2,
    }
    start = clock.now()
    with sessions_with(**settings)() as session:
        _enqueue(session)
        assert deliver_due(session)["retrying"] == 1  # first failure at +0
        message = _message(session)
        assert message.attempts == 1
        assert message.next_attempt_at == start + timedelta(minutes=5)
        assert message.last_error.startswith("smtp: ConnectionRefusedError")
        clock.advance(timedelta(minutes=4))
        assert deliver_due(session)["retrying"] == 0  # not due yet at +4
        clock.advance(timedelta(minutes=1))
        assert deliver_due(session)["retrying"] == 1  # second failure at +5
        assert _message(session).next_attempt_at == start + timedelta(minutes=15)
        clock.advance(timedelta(minutes=10))
        assert deliver_due(session)["failed"] == 1  # third failure at +15
        message = _message(session)
        assert message.status is DeliveryStatus.FAILED
        assert message.attempts == 3
        assert message.next_attempt_at is None


def test_retry_delay_is_base_times_two_to_the_failures_minus_one():
    assert [retry_delay(n, 5) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=m) for m in (5, 10, 20, 40)
    ]


def test_a_retry_skips_the_channel_that_already_took_the_message(
    sessions_with, smtp_server, webhook_server, clock
):
    webhook_server.status = 500
    settings = {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": smtp_server.port,
        "notify_webhook_url": webhook_server.url,
    }
    with sessions_with(**settings)() as session:
        _enqueue(session)
        assert deliver_due(session)["retrying"] == 1
        message = _message(session)
        assert message.channel == "smtp"
        assert message.last_error.startswith("webhook: HTTPError")
        webhook_server.status = 200
        clock.advance(timedelta(minutes=5))
        assert deliver_due(session)["sent"] == 1
        assert _message(session).channel == "smtp,webhook"
    assert len(smtp_server.messages) == 1  # mailed once, not again on the retry
    assert len(webhook_server.bodies) == 2


def test_the_delivery_job_records_counts_and_never_fails_for_a_dead_server(sessions_with, session):
    sessions = sessions_with(
        notify_webhook_url=f"http://127.0.0.1:{DEAD_PORT}/hook", notify_timeout_seconds=2
    )
    with sessions() as s:
        _enqueue(s)
    record = run_job(find_job("notifications_deliver"), sessions)
    assert record.outcome is RunOutcome.OK
    assert record.counts == {"sent": 0, "retrying": 1, "failed": 0, "stored": 0}
    session.expire_all()
    assert session.scalar(select(JobRun.summary)) == "0 sent, 1 retrying, 0 failed, 0 stored"


def test_retry_delay_stops_doubling_at_one_day():
    # 5 × 2^8 = 1,280 minutes is under a day; 5 × 2^9 = 2,560 is over: capped from there.
    assert retry_delay(9, 5) == timedelta(minutes=1280)
    assert retry_delay(10, 5) == timedelta(days=1)
    assert retry_delay(40, 5) == timedelta(days=1)  # 5 × 2^39 minutes overflowed timedelta


def test_a_message_failing_for_the_fortieth_time_waits_a_day_and_the_rest_still_go_out(
    sessions_with, webhook_server, clock
):
    # With NOTIFY_MAX_ATTEMPTS set high, the doubling wait once overflowed the datetime: the
    # job raised on that message, it stayed due, and every message behind it starved.
    settings = {"notify_webhook_url": webhook_server.url, "notify_max_attempts": 100}
    with sessions_with(**settings)() as session:
        _enqueue(session, key="old")
        _enqueue(session, key="new")
        _message(session, "old").attempts = 39
        session.commit()
        webhook_server.status = 500
        first = deliver_due(session)
        webhook_server.status = 200
        clock.advance(timedelta(minutes=5))
        second = deliver_due(session)
        old, new = _message(session, "old"), _message(session, "new")
        assert first["retrying"] == 2
        assert second["sent"] == 1
        assert (old.status, old.attempts) == (DeliveryStatus.PENDING, 40)
        assert old.next_attempt_at == clock.now() - timedelta(minutes=5) + timedelta(days=1)
        assert new.status is DeliveryStatus.SENT


def test_two_deliveries_at_once_send_each_message_once(sessions_with, clock):
    # The scheduler's run and a `jobs run notifications_deliver` by hand overlapping: the
    # second starts while the first is sending. Both read the same due message; only the
    # one that claimed it may send it.
    sessions = sessions_with()
    sent: list[int] = []

    class OverlappingChannel:
        name = "webhook"

        def applies(self, message):
            return True

        def send(self, message):
            sent.append(message["id"])
            if len(sent) == 1:  # the other run starts while this one is sending
                with sessions() as other:
                    deliver_due(other, [self])

    with sessions() as session:
        _enqueue(session)
        counts = deliver_due(session, [OverlappingChannel()])
        message = _message(session)
        assert sent == [message.id]
        assert counts["sent"] == 1
        assert (message.status, message.channel) == (DeliveryStatus.SENT, "webhook")
