"""Idempotent requests: the same key and body from the same client does the work once.

A client sends ``Idempotency-Key`` with a request that moves units. The first request with a
key claims it (committed at once, so a concurrent retry sees the claim); the work and the
record of its response then commit together in one unit of work, so a crash can never leave
units moved without the response recorded, or the reverse. Retrying:

* the same key with the same body returns the recorded response and moves nothing again;
* the same key with a different body is IdempotencyMismatch (422);
* the same key while the first request is still running is Conflict (409);
* a claim whose work failed is released, so the client may retry with the same key; a claim
  left by a process that died is taken over after ``STALE_CLAIM`` (its work never
  committed, because the response would have been recorded with it). The claim's time is
  its fence: an attempt that was only slow, not dead, finds its claim taken over when it
  comes to record its response, and its work rolls back (409) instead of running twice.

Keys are scoped per client (the actor's name): two clients may use the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, IdempotencyMismatch, ValidationFailed
from carbon_market.ledger.models import IdempotencyRecord

T = TypeVar("T")
STALE_CLAIM = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


def request_fingerprint(operation: str, payload: dict[str, Any]) -> str:
    """SHA-256 of the operation and its canonical JSON body."""
    body = json.dumps({"op": operation, "body": payload}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _existing(session: Session, client: str, key: str) -> IdempotencyRecord | None:
    # FOR UPDATE: two retries finding the same stale claim must not both take it over.
    return session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.client == client, IdempotencyRecord.key == key)
        .with_for_update()
    )


@transactional
def _claim(
    session: Session, client: str, key: str, fingerprint: str
) -> tuple[int, datetime, dict[str, Any] | None]:
    """Claim the key: (record id, claim time, None), or (record id, claim time, stored
    response) for a replay. The claim time fences the claim against a takeover."""
    now = clock_of(session).now()
    found = _existing(session, client, key)
    if found is None:
        claim = IdempotencyRecord(
            client=client, key=key, request_hash=fingerprint, is_complete=False, created_at=now
        )
        session.add(claim)
        try:
            session.flush()  # surface a concurrent claim of the same key here, as a conflict
        except IntegrityError as exc:
            raise Conflict("a request with this Idempotency-Key is still being processed") from exc
        return claim.id, now, None
    if found.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "this Idempotency-Key was used with a different request",
            errors=[FieldError("#/headers/Idempotency-Key", "reused with another body")],
        )
    if found.is_complete:
        return found.id, found.created_at, found.response
    if now - found.created_at < STALE_CLAIM:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    found.created_at = now  # the first attempt died before committing: take the claim over
    return found.id, now, None


def _still_ours(record_id: int, claimed_at: datetime) -> ColumnElement[bool]:
    """The claim as this attempt made it: not completed, and not taken over since."""
    return and_(
        IdempotencyRecord.id == record_id,
        IdempotencyRecord.is_complete.is_(False),
        IdempotencyRecord.created_at == claimed_at,
    )


@transactional
def _release(session: Session, record_id: int, claimed_at: datetime) -> None:
    session.execute(delete(IdempotencyRecord).where(_still_ours(record_id, claimed_at)))


def run_idempotent(
    session: Session,
    actor: Actor,
    *,
    key: str | None,
    operation: str,
    payload: dict[str, Any],
    work: Callable[[], T],
    render: Callable[[T], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Do ``work`` once per (client, key); returns (response, was it a replay).

    ``render`` turns the work's result into the response recorded for replays.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            "the Idempotency-Key header must be 1 to 255 printable characters",
            errors=[FieldError("#/headers/Idempotency-Key", "invalid")],
        )
    fingerprint = request_fingerprint(operation, payload)
    record_id, claimed_at, stored = _claim(session, actor.name, key, fingerprint)
    if stored is not None:
        return stored, True

    @transactional
    def unit(s: Session) -> dict[str, Any]:
        response = render(work())
        recorded = s.execute(
            update(IdempotencyRecord)
            .where(_still_ours(record_id, claimed_at))
            .values(is_complete=True, response=response)
            .execution_options(synchronize_session=False)
        )
        if recorded.rowcount != 1:  # type: ignore[attr-defined]
            # A retry took the claim over while this attempt stalled: its work stands.
            raise Conflict("a retry with this Idempotency-Key took the request over")
        return response

    try:
        return unit(session), False
    except BaseException:
        _release(session, record_id, claimed_at)
        raise
