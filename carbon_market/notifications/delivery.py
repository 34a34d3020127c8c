"""Deliver the outbox: SMTP and/or a webhook, retried with exponential back-off.

The ``notifications_deliver`` job calls :func:`deliver_due`. It reads what is due, then
claims each message in a short unit of work (so two overlapping runs never both send it),
sends it with no database transaction open (a slow mail server holds no lock), then records
the outcome in a unit of work of its own. A channel that fails never raises
out of here: the message waits ``base × 2^(n-1)`` minutes (at most a day) after its n-th
failure and is marked ``failed`` after the configured number of attempts. A retry skips the
channels that already took the message, so a webhook failure does not send the e-mail twice.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from carbon_market.kernel.config import Config
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.notifications.models import DeliveryStatus, Notification
from carbon_market.notifications.service import describe

log = logging.getLogger(__name__)
#: Messages one job run handles at most; the rest wait for the next run (minutes later).
BATCH = 200


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def applies(self, message: dict[str, Any]) -> bool: ...

    def send(self, message: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class SmtpChannel:
    host: str
    port: int
    sender: str
    timeout: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    name: str = "smtp"

    def applies(self, message: dict[str, Any]) -> bool:
        """Only a message with an address goes by mail."""
        return bool(message["recipients"])

    def send(self, message: dict[str, Any]) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(message["recipients"])
        mail["Subject"] = message["subject"]
        mail["Message-ID"] = f"<notification-{message['id']}@carbon-market>"
        mail.set_content(message["body"])
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user and self.password:
                smtp.login(self.user, self.password)
            smtp.send_message(mail)


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    timeout: int
    name: str = "webhook"

    def applies(self, message: dict[str, Any]) -> bool:
        return True

    def send(self, message: dict[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310  (the URL is checked to be http(s) in config)
            self.url,
            data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # urlopen raises HTTPError for 4xx/5xx answers: those count as failures too.
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            response.read()


def channels_of(config: Config) -> list[Channel]:
    """The channels the configuration sets up (none: messages are only stored)."""
    found: list[Channel] = []
    if config.notify_smtp_host:
        found.append(
            SmtpChannel(
                host=config.notify_smtp_host,
                port=config.notify_smtp_port,
                sender=config.notify_smtp_from,
                timeout=config.notify_timeout_seconds,
                user=config.notify_smtp_user,
                password=config.notify_smtp_password,
                starttls=config.notify_smtp_starttls,
            )
        )
    if config.notify_webhook_url:
        found.append(
            WebhookChannel(config.notify_webhook_url, timeout=config.notify_timeout_seconds)
        )
    return found


#: The longest wait between two attempts. Doubling without end overflowed the datetime
#: after some 30 failures (NOTIFY_MAX_ATTEMPTS set high): the job then raised on that
#: message, which stayed due and kept every message behind it from going out.
MAX_RETRY_DELAY = timedelta(days=1)


def retry_delay(attempts: int, base_minutes: int) -> timedelta:
    """The wait after the ``attempts``-th failure: base, 2 × base, 4 × base, ..., at most
    :data:`MAX_RETRY_DELAY`."""
    cap = MAX_RETRY_DELAY // timedelta(minutes=1)
    # Compared as whole minutes, before any timedelta is built from a huge number.
    minutes = base_minutes * 2 ** min(attempts - 1, cap.bit_length())
    return timedelta(minutes=min(minutes, cap))


@transactional
def _record(
    session: Session, message_id: int, *, done: Sequence[str], error: str | None, stored: bool
) -> DeliveryStatus:
    message = session.get_one(Notification, message_id)
    now = clock_of(session).now()
    message.channel = ",".join(done)
    if stored:
        message.status = DeliveryStatus.STORED
        message.next_attempt_at = None
    elif error is None:
        message.status, message.sent_at, message.next_attempt_at = DeliveryStatus.SENT, now, None
    else:
        config = config_of(session)
        message.attempts += 1
        message.last_error = error[-2000:]
        if message.attempts >= config.notify_max_attempts:
            message.status, message.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delay = retry_delay(message.attempts, config.notify_retry_base_minutes)
            message.next_attempt_at = now + delay
    return message.status


def _send(channels: Sequence[Channel], message: dict[str, Any], done: list[str]) -> str | None:
    """Send on every applicable channel not yet done; the errors, or None."""
    errors = []
    for channel in channels:
        if channel.name in done or not channel.applies(message):
            continue
        try:
            channel.send(message)
            done.append(channel.name)
        except Exception as exc:  # any failure of any channel is retried, never raised
            log.warning("notification %s: %s failed: %s", message["id"], channel.name, exc)
            errors.append(f"{channel.name}: {type(exc).__name__}: {exc}")
    return "; ".join(errors) or None


def _due(session: Session, now: datetime) -> list[dict[str, Any]]:
    """The due messages (the channels that took each are read when it is claimed)."""
    rows = session.scalars(
        select(Notification).where(_is_due(now)).order_by(Notification.id).limit(BATCH)
    ).all()
    due = [describe(m) for m in rows]
    # End the read before any network I/O: no transaction stays open while mail is sent.
    session.rollback()
    return due


#: Beyond the channels' timeouts, how long a claimed message stays claimed: if the process
#: dies while sending, the message is due again after that, so it is delayed, never lost.
CLAIM_MARGIN = timedelta(minutes=1)


def _is_due(now: datetime) -> Any:
    return (Notification.status == DeliveryStatus.PENDING) & or_(
        Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now
    )


@transactional
def _claim(session: Session, message_id: int, hold: timedelta) -> list[str] | None:
    """Take the message for this run if it is still due: its next attempt moves past the
    sending, so a delivery run overlapping this one (the scheduler's and one by hand) finds
    it not due and leaves it. The channels that took it so far, or None if another run has
    it (or has dealt with it)."""
    now = clock_of(session).now()
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == message_id, _is_due(now))
        .values(next_attempt_at=now + hold)
        .returning(Notification.channel)
    ).scalar_one_or_none()
    return None if claimed is None else [c for c in claimed.split(",") if c]


def deliver_due(session: Session, channels: Sequence[Channel] | None = None) -> dict[str, int]:
    """Send the pending messages that are due; count what became of them."""
    config = config_of(session)
    if channels is None:
        channels = channels_of(config)
    hold = timedelta(seconds=config.notify_timeout_seconds * len(channels)) + CLAIM_MARGIN
    counts = {"sent": 0, "retrying": 0, "failed": 0, "stored": 0}
    for message in _due(session, clock_of(session).now()):
        done = _claim(session, message["id"], hold)
        if done is None:
            continue
        applicable = [c for c in channels if c.applies(message)]
        stored = not applicable and not done
        error = None if stored else _send(applicable, message, done)
        status = _record(session, message["id"], done=done, error=error, stored=stored)
        key = "retrying" if status is DeliveryStatus.PENDING else status.value
        counts[key] += 1
    return counts
