"""Idempotent transfers (``run_idempotent``): one key and body from one client moves units
once, however often it is retried.

Worked example: 1,000 allowances of 2025 allocated to alpha; the keyed request asks to send
250 to beta, so alpha holds (1,000, 250 reserved) after it, whether it ran once or twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carbon_market.kernel.errors import (
    Conflict,
    IdempotencyMismatch,
    InsufficientHolding,
    ValidationFailed,
)
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.models import IdempotencyRecord, LedgerTransaction
from carbon_market.ledger.transactions import idempotency
from carbon_market.ledger.transactions.idempotency import (
    STALE_CLAIM,
    request_fingerprint,
    run_idempotent,
)
from tests.ledger.helpers import count, snapshot

OPERATION = "transfer"


@pytest.fixture
def funded(world):
    world.fund(world.alpha, 1000)
    return world


def _payload(world, firm=None, quantity=250):
    firm = firm or world.alpha
    other = world.beta if firm is world.alpha else world.alpha
    return {
        "from_account": firm.account,
        "to_account": other.account,
        "unit_kind": "allowance",
        "vintage": 2025,
        "quantity": quantity,
        "memo": "",
    }


def _send(world, key, payload=None, actor=None, calls=None):
    """Run the keyed transfer as ``actor`` (alpha's initiator); returns (response, replayed).
    ``calls`` counts how often the work itself ran."""
    payload = payload or _payload(world)
    actor = actor or world.alpha.initiator

    def work():
        if calls is not None:
            calls.append(1)
        return ledger.request_transfer(world.session, actor, **payload)

    return run_idempotent(
        world.session,
        actor,
        key=key,
        operation=OPERATION,
        payload=payload,
        work=work,
        render=lambda tx: {"id": tx.id, "status": str(tx.status)},
    )


def _record(world, client, key):
    world.session.expire_all()
    return world.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client == client, IdempotencyRecord.key == key
        )
    )


def _plant_claim(world, key, *, age):
    """Leave an unfinished claim of ``key`` made ``age`` ago, as a running (or dead) first
    attempt would."""
    world.session.add(
        IdempotencyRecord(
            client=world.alpha.initiator.name,
            key=key,
            request_hash=request_fingerprint(OPERATION, _payload(world)),
            is_complete=False,
            response=None,
            created_at=world.clock.now() - age,
        )
    )
    world.session.commit()


def test_first_request_with_a_key_does_the_work_and_records_the_response(
    funded, assert_ledger_sound
):
    response, replayed = _send(funded, "key-1")

    assert replayed is False
    assert response["status"] == "pending_approval"
    record = _record(funded, funded.alpha.initiator.name, "key-1")
    assert record.is_complete is True
    assert record.response == response
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_same_key_and_same_payload_replays_the_stored_response_and_moves_nothing(
    funded, assert_ledger_sound
):
    calls = []
    first, _ = _send(funded, "key-1", calls=calls)
    after_first = snapshot(funded)

    second, replayed = _send(funded, "key-1", calls=calls)

    assert replayed is True
    assert second == first
    assert calls == [1]  # the work ran once
    assert snapshot(funded) == after_first
    assert funded.holding(funded.alpha.account) == (1000, 250)  # reserved once, not 500
    assert_ledger_sound()


def test_replay_returns_the_first_response_even_after_the_transaction_moved_on(
    funded, assert_ledger_sound
):
    first, _ = _send(funded, "key-1")
    ledger.approve(funded.session, funded.alpha.approver, first["id"])

    second, replayed = _send(funded, "key-1")

    assert replayed is True
    assert second == {"id": first["id"], "status": "pending_approval"}
    assert_ledger_sound()


def test_same_key_with_a_different_payload_is_a_mismatch(funded, assert_ledger_sound):
    _send(funded, "key-1")
    after_first = snapshot(funded)

    with pytest.raises(IdempotencyMismatch):
        _send(funded, "key-1", payload=_payload(funded, quantity=251))

    assert snapshot(funded) == after_first
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


def test_failed_first_attempt_releases_the_key_for_a_retry_after_funding(
    funded, assert_ledger_sound
):
    # 1,500 asked, 1,000 held: refused, and the key is free again. Allocate 500 more
    # (alpha 1,500) and the same key and body go through: (1,500, 1,500 reserved).
    payload = _payload(funded, quantity=1500)
    with pytest.raises(InsufficientHolding):
        _send(funded, "key-1", payload=payload)
    assert _record(funded, funded.alpha.initiator.name, "key-1") is None
    assert count(funded.session, LedgerTransaction) == 2  # issuance and allocation only

    funded.fund(funded.alpha, 500)
    response, replayed = _send(funded, "key-1", payload=payload)

    assert replayed is False
    assert response["status"] == "pending_approval"
    assert funded.holding(funded.alpha.account) == (1500, 1500)
    assert_ledger_sound()


def test_keys_are_scoped_per_client(funded, assert_ledger_sound):
    # alpha and beta both use "key-1" for their own transfers; both run.
    funded.fund(funded.beta, 400)
    alpha_response, alpha_replayed = _send(funded, "key-1")
    beta_response, beta_replayed = _send(
        funded, "key-1", payload=_payload(funded, funded.beta), actor=funded.beta.initiator
    )

    assert (alpha_replayed, beta_replayed) == (False, False)
    assert alpha_response["id"] != beta_response["id"]
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert funded.holding(funded.beta.account) == (400, 250)
    assert_ledger_sound()


def test_two_users_of_one_enterprise_may_use_the_same_key_for_the_same_body(
    funded, assert_ledger_sound
):
    # The key belongs to the client, not the body: the approver's "key-1" is a new request.
    _send(funded, "key-1")
    response, replayed = _send(funded, "key-1", actor=funded.alpha.approver)

    assert replayed is False
    assert response["status"] == "pending_approval"
    assert funded.holding(funded.alpha.account) == (1000, 500)
    assert_ledger_sound()


def test_key_still_claimed_by_a_running_request_is_a_conflict(funded, assert_ledger_sound):
    _plant_claim(funded, "key-1", age=timedelta(seconds=1))
    before = snapshot(funded)
    calls = []

    with pytest.raises(Conflict):
        _send(funded, "key-1", calls=calls)

    assert calls == []
    assert snapshot(funded) == before
    assert _record(funded, funded.alpha.initiator.name, "key-1").is_complete is False
    assert_ledger_sound()


def test_claim_just_younger_than_the_stale_limit_is_still_a_conflict(funded, assert_ledger_sound):
    _plant_claim(funded, "key-1", age=STALE_CLAIM - timedelta(seconds=1))

    with pytest.raises(Conflict):
        _send(funded, "key-1")

    assert funded.holding(funded.alpha.account) == (1000, 0)
    assert_ledger_sound()


def test_stale_claim_left_by_a_dead_request_is_taken_over(funded, assert_ledger_sound):
    _plant_claim(funded, "key-1", age=STALE_CLAIM + timedelta(seconds=1))

    response, replayed = _send(funded, "key-1")

    assert replayed is False
    assert response["status"] == "pending_approval"
    record = _record(funded, funded.alpha.initiator.name, "key-1")
    assert record.is_complete is True
    assert record.created_at == funded.clock.now()
    assert record.response == response
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert_ledger_sound()


@pytest.mark.parametrize("key", ["", "k" * 256, "line\nbreak", None])
def test_missing_or_malformed_key_is_refused_before_anything_moves(
    funded, assert_ledger_sound, key
):
    before = snapshot(funded)

    with pytest.raises(ValidationFailed) as refused:
        _send(funded, key)

    assert [e.pointer for e in refused.value.errors] == ["#/headers/Idempotency-Key"]
    assert snapshot(funded) == before
    assert count(funded.session, IdempotencyRecord) == 0
    assert_ledger_sound()


def test_key_of_255_characters_is_accepted(funded, assert_ledger_sound):
    response, replayed = _send(funded, "k" * 255)

    assert replayed is False
    assert funded.holding(funded.alpha.account) == (1000, 250)
    assert response["status"] == "pending_approval"
    assert_ledger_sound()


def test_first_attempt_waking_after_its_retry_took_the_claim_over_moves_nothing(
    funded, assert_ledger_sound, monkeypatch
):
    # The first attempt claims key-1, then stalls for six minutes before its work (a long
    # lock wait, a paused process). Its retry takes the stale claim over and reserves 250.
    # When the first attempt wakes it must not move the 250 a second time.
    real_claim = idempotency._claim
    retry: list[tuple[dict, bool]] = []
    stalled: list[bool] = []

    def claim_then_stall(*args):
        claimed = real_claim(*args)
        if not stalled:
            stalled.append(True)
            funded.pass_time(0.1)  # six minutes: the claim is stale now
            retry.append(_send(funded, "key-1"))
        return claimed

    monkeypatch.setattr(idempotency, "_claim", claim_then_stall)
    transactions = count(funded.session, LedgerTransaction)

    with pytest.raises(Conflict):
        _send(funded, "key-1")

    ((response, replayed),) = retry
    assert replayed is False
    assert count(funded.session, LedgerTransaction) == transactions + 1
    assert funded.holding(funded.alpha.account) == (1000, 250)
    record = _record(funded, funded.alpha.initiator.name, "key-1")
    assert (record.is_complete, record.response) == (True, response)
    assert_ledger_sound()
