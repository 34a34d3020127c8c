"""Enqueue and read notifications (the outbox). Delivery is ``delivery.py``.

Other modules call :func:`enqueue` inside their own unit of work: the message is committed
with the change that caused it, or not at all. The dedupe key makes it idempotent: a job
that runs twice for the same day enqueues each reminder once. A job with many messages at
once (a reminder to every enterprise) calls :func:`enqueue_many`: one look-up of the batch's
keys already in the outbox and one bulk insert, instead of a look-up and an insert each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.kernel.errors import FieldError, NotFound, ValidationFailed
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.notifications.models import DeliveryStatus, Notification

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
#: Keys looked up (and rows inserted) per statement by :func:`enqueue_many`: PostgreSQL
#: takes at most 65,535 bound parameters in one statement.
BATCH_KEYS = 5_000


@dataclass(frozen=True)
class Message:
    """A message to put in the outbox: what :func:`enqueue` takes, as one value."""

    kind: str
    subject: str
    body: str
    dedupe_key: str
    enterprise_id: int | None = None
    to_regulators: bool = False


def _problems(message: Message, at: str = "#") -> list[FieldError]:
    """Every field of ``message`` that is wrong; pointers start at ``at``."""
    errors = []
    if message.kind not in KINDS:
        errors.append(FieldError(f"{at}/kind", f"must be one of {', '.join(sorted(KINDS))}"))
    if not message.subject.strip() or len(message.subject) > MAX_SUBJECT:
        errors.append(FieldError(f"{at}/subject", f"must be 1 to {MAX_SUBJECT} characters"))
    if not message.body.strip():
        errors.append(FieldError(f"{at}/body", "must not be empty"))
    if not message.dedupe_key.strip() or len(message.dedupe_key) > MAX_KEY:
        errors.append(FieldError(f"{at}/dedupe_key", f"must be 1 to {MAX_KEY} characters"))
    if message.enterprise_id is None and not message.to_regulators:
        errors.append(FieldError(f"{at}/enterprise_id", "name an enterprise or the regulators"))
    return errors


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)


def _emails(contacts: list[Any]) -> list[str]:
    """The e-mail addresses among an enterprise's contacts (a contact may have none)."""
    return [c["email"] for c in contacts if isinstance(c, dict) and c.get("email")]


def _addresses(session: Session, enterprise_id: int | None, to_regulators: bool) -> list[str]:
    """The e-mail addresses of the enterprise's contacts and/or the regulators' list."""
    found: list[str] = []
    if enterprise_id is not None:
        contacts = session.scalar(select(Enterprise.contacts).where(Enterprise.id == enterprise_id))
        if contacts is None:
            raise NotFound(f"enterprise {enterprise_id} does not exist")
        found += _emails(contacts)
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
    _raise_if(_problems(Message(kind, subject, body, dedupe_key, enterprise_id, to_regulators)))
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


def _contact_emails(session: Session, enterprise_ids: set[int]) -> dict[int, list[str]]:
    """Each enterprise's contact addresses, in one query per :data:`BATCH_KEYS` ids.
    Raises NotFound naming the first enterprise that does not exist."""
    found: dict[int, list[str]] = {}
    wanted = sorted(enterprise_ids)
    for start in range(0, len(wanted), BATCH_KEYS):
        chunk = wanted[start : start + BATCH_KEYS]
        query = select(Enterprise.id, Enterprise.contacts).where(Enterprise.id.in_(chunk))
        for owner, contacts in session.execute(query):
            found[owner] = _emails(contacts or [])
    missing = [owner for owner in wanted if owner not in found]
    if missing:
        raise NotFound(f"enterprise {missing[0]} does not exist")
    return found


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The keys of ``keys`` already in the outbox: one look-up per :data:`BATCH_KEYS`."""
    existing: set[str] = set()
    for start in range(0, len(keys), BATCH_KEYS):
        chunk = keys[start : start + BATCH_KEYS]
        query = select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
        existing.update(session.scalars(query))
    return existing


@transactional
def enqueue_many(session: Session, messages: Iterable[Message]) -> list[Message]:
    """Put a batch of messages in the outbox, each once: what :func:`enqueue` does for one,
    with one look-up of the batch's keys already there and one bulk insert.

    Skipped: a message whose dedupe key is in the outbox already, and a later message of the
    batch repeating an earlier one's key (the first wins). Returns the messages added, in
    the batch's order. Joins the caller's unit of work. Raises, adding nothing,
    ValidationFailed (every bad field of every message, pointers ``#/<index>/<field>``) and
    NotFound (an enterprise that does not exist).

    The unique constraint on ``dedupe_key`` is the last line of defence: if a concurrent
    writer adds one of the keys between the look-up and the insert, the bulk insert is
    rolled back to its savepoint and the batch goes through :func:`enqueue` one by one,
    where that key loses alone.
    """
    batch = list(messages)
    _raise_if([e for i, m in enumerate(batch) for e in _problems(m, f"#/{i}")])
    first = {m.dedupe_key: n for n, m in reversed(list(enumerate(batch)))}
    existing = _existing_keys(session, list(first))
    new = [m for n, m in enumerate(batch) if first[m.dedupe_key] == n]
    new = [m for m in new if m.dedupe_key not in existing]
    if not new:
        return []
    contacts = _contact_emails(session, {m.enterprise_id for m in new if m.enterprise_id})
    regulators = list(config_of(session).notify_regulator_emails)
    now = clock_of(session).now()
    rows = [
        {
            "kind": m.kind,
            "enterprise_id": m.enterprise_id,
            "to_regulators": m.to_regulators,
            "recipients": list(
                dict.fromkeys(
                    (contacts[m.enterprise_id] if m.enterprise_id is not None else [])
                    + (regulators if m.to_regulators else [])
                )
            ),
            "subject": m.subject,
            "body": m.body,
            "dedupe_key": m.dedupe_key,
            "created_at": now,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "channel": "",
        }
        for m in new
    ]
    try:
        with session.begin_nested():
            for start in range(0, len(rows), BATCH_KEYS):
                session.execute(insert(Notification), rows[start : start + BATCH_KEYS])
    except IntegrityError:
        return [m for m in new if enqueue(session, **asdict(m)) is not None]
    return new


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
