"""Enqueue and read notifications (the outbox). Delivery is ``delivery.py``.

Other modules call :func:`enqueue` inside their own unit of work: the message is committed
with the change that caused it, or not at all. The dedupe key makes it idempotent: a job
that runs twice for the same day enqueues each reminder once.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.auth.policy import authorize, tenant_scope
from carbon_market.auth.roles import Actor
from carbon_market.db import clock_of, config_of, transactional
from carbon_market.emitters.models import Enterprise
from carbon_market.errors import FieldError, NotFound, ValidationFailed
from carbon_market.notifications.models import DeliveryStatus, Notification
from carbon_market.pagination import Page, PageRequest, paginate

#: The kinds of message the platform sends. A new kind is added here (and to
#: docs/notifications.md); the column is plain text so adding one needs no migration.
KINDS = frozenset(
    {
        "deadline_reminder",
        "shortfall",
        "penalty",
        "approval_needed",
        "overdue",
        "ledger_verify_failed",
        "units_expired",
        "forecast_warning",
        "report_returned",
        "correction",
    }
)
MAX_SUBJECT, MAX_KEY = 200, 200


def _check(
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    enterprise_id: int | None,
    to_regulators: bool,
) -> None:
    errors = []
    if kind not in KINDS:
        errors.append(FieldError("#/kind", f"must be one of {', '.join(sorted(KINDS))}"))
    if not subject.strip() or len(subject) > MAX_SUBJECT:
        errors.append(FieldError("#/subject", f"must be 1 to {MAX_SUBJECT} characters"))
    if not body.strip():
        errors.append(FieldError("#/body", "must not be empty"))
    if not dedupe_key.strip() or len(dedupe_key) > MAX_KEY:
        errors.append(FieldError("#/dedupe_key", f"must be 1 to {MAX_KEY} characters"))
    if enterprise_id is None and not to_regulators:
        errors.append(FieldError("#/enterprise_id", "name an enterprise or the regulators"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)


def _addresses(session: Session, enterprise_id: int | None, to_regulators: bool) -> list[str]:
    """The e-mail addresses of the enterprise's contacts and/or the regulators' list."""
    found: list[str] = []
    if enterprise_id is not None:
        contacts = session.scalar(select(Enterprise.contacts).where(Enterprise.id == enterprise_id))
        if contacts is None:
            raise NotFound(f"enterprise {enterprise_id} does not exist")
        found += [c["email"] for c in contacts if isinstance(c, dict) and c.get("email")]
    if to_regulators:
        found += list(config_of(session).notify_regulator_emails)
    return list(dict.fromkeys(found))


@transactional
def enqueue(
    session: Session,
    *,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    enterprise_id: int | None = None,
    to_regulators: bool = False,
) -> Notification | None:
    """Put a message in the outbox for the enterprise's contacts and/or the regulators.

    Returns the new message, or None when a message with ``dedupe_key`` exists already
    (then nothing changes). Joins the caller's unit of work. Raises ValidationFailed (kind
    not in :data:`KINDS`, empty subject or body, no recipient) and NotFound (enterprise).
    """
    _check(kind, subject, body, dedupe_key, enterprise_id, to_regulators)
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return None
    now = clock_of(session).now()
    message = Notification(
        kind=kind,
        enterprise_id=enterprise_id,
        to_regulators=to_regulators,
        recipients=_addresses(session, enterprise_id, to_regulators),
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        created_at=now,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        channel="",
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()  # a concurrent enqueue of the same key loses here, not at commit
    except IntegrityError:
        return None
    return message


def list_notifications(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    kind: str | None = None,
    status: DeliveryStatus | None = None,
    since: date | None = None,
    enterprise_id: int | None = None,
) -> Page[Notification]:
    """Messages, newest first. An enterprise user sees its enterprise's messages only;
    regulators and auditors see all (those to the regulators included)."""
    authorize(actor, "notifications.read")
    query = select(Notification)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(Notification.enterprise_id == scope)
    if enterprise_id is not None:
        query = query.where(Notification.enterprise_id == enterprise_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if status is not None:
        query = query.where(Notification.status == status)
    if since is not None:
        start = datetime.combine(since, time(), tzinfo=config_of(session).deadline_tz)
        query = query.where(Notification.created_at >= start)
    order = (Notification.created_at.desc(), Notification.id.desc())
    return paginate(session, query.order_by(*order), page)


def get_notification(session: Session, actor: Actor, notification_id: int) -> Notification:
    """One message; another enterprise's is NotFound, as a missing one is."""
    authorize(actor, "notifications.read")
    message = session.get(Notification, notification_id)
    scope = tenant_scope(actor)
    if message is None or (scope is not None and message.enterprise_id != scope):
        raise NotFound(f"notification {notification_id} does not exist")
    return message


def describe(message: Notification) -> dict[str, Any]:
    """What the webhook posts (and what a CLI would print)."""
    return {
        "id": message.id,
        "kind": message.kind,
        "enterprise_id": message.enterprise_id,
        "to_regulators": message.to_regulators,
        "recipients": list(message.recipients),
        "subject": message.subject,
        "body": message.body,
        "dedupe_key": message.dedupe_key,
        "created_at": message.created_at.isoformat(),
    }
