"""Transfers, issuances and allocations over HTTP: the four-eyes workflow, the
untrusted-destination delay, Idempotency-Key semantics, and every bad input of the ledger
issue refused with a 4xx problem that moves nothing.

The ``tenants`` fixture (tests/api/conftest.py) funds ``own`` with 1,000 allowances of 2025,
100 of them reserved by a pending retirement, and ``other`` with 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import service as ledger_accounts
from carbon_market.ledger.accounts.numbers import make_account_number
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, AccountStatus
from carbon_market.ledger.models import IdempotencyRecord
from carbon_market.ledger.transactions.idempotency import request_fingerprint
from carbon_market.ledger.verify import verify_ledger
from tests.api.helpers import (
    ISSUANCES,
    ISSUED,
    OTHER_FUNDED,
    OWN_FUNDED,
    PENDING_QUANTITY,
    TRANSACTIONS,
    TRANSFERS,
    VINTAGE,
    Tenants,
    allowances,
    assert_problem,
    decide,
    holdings_of,
    moves_nothing,
    post_transfer,
    transfer_body,
)
from tests.conftest import AuthActions
from tests.factories import make_enterprise, make_user

ISSUANCE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_ISSUANCE]
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
AUCTION = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
RETIREMENT = GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT]
SYSTEM = Actor.system(name="system:test")
DELAY = timedelta(hours=26)  # LEDGER_UNTRUSTED_DELAY_HOURS by default
AVAILABLE = OWN_FUNDED - PENDING_QUANTITY  # own's unreserved allowances


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def run_scheduler(session: Session) -> dict[str, int]:
    """What the scheduled job does: release delayed transfers that are due, expire lapsed."""
    return ledger.run_due(session, SYSTEM)


def assert_ledger_verifies(session: Session) -> None:
    session.expire_all()
    assert verify_ledger(session) == []


def approve_trust(client: FlaskClient, tenants: Tenants, headers: dict[str, str]) -> None:
    """Activate the pending trusted-list entry own -> other (proposed by ``alpha-2``)."""
    response = client.post(
        f"/api/v1/accounts/{tenants.own_account}/trusted-accounts/{tenants.trust_entry_id}/approve",
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "active"


# --- the four-eyes workflow of an enterprise ------------------------------------------------


def test_enterprise_transfer_stays_pending_with_units_reserved_until_a_second_user_approves(
    client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own, second = bearer["enterprise_own"], bearer["enterprise_own_second"]
    approve_trust(client, tenants, own)  # so that the approved transfer is not delayed

    created = post_transfer(
        client, own, transfer_body(tenants.own_account, tenants.other_account, 300, memo="转让")
    )

    assert created.status_code == 201, created.get_data(as_text=True)
    tx = created.get_json()
    assert tx["status"] == "pending_approval"
    assert tx["kind"] == "transfer"
    assert (tx["from_account"], tx["to_account"]) == (tenants.own_account, tenants.other_account)
    assert (tx["unit_kind"], tx["vintage"], tx["quantity"]) == ("allowance", VINTAGE, 300)
    assert tx["memo"] == "转让"
    assert tx["initiated_by"] == "alpha"
    assert tx["decided_by"] is None
    assert tx["seq"] is None
    assert tx["hash"] is None
    # Reserved at the source, not moved yet.
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY + 300)
    assert allowances(client, bearer["regulator"], tenants.other_account) == (OTHER_FUNDED, 0)

    approved = decide(client, second, tx["id"])

    assert approved.status_code == 200, approved.get_data(as_text=True)
    done = approved.get_json()
    assert done["status"] == "completed"
    assert done["decided_by"] == "alpha-2"
    assert isinstance(done["seq"], int)
    assert len(done["hash"]) == 64
    assert at(done["completed_at"]) == at(done["decided_at"])
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED - 300, PENDING_QUANTITY)
    assert allowances(client, bearer["regulator"], tenants.other_account) == (
        OTHER_FUNDED + 300,
        0,
    )
    assert client.get(f"{TRANSACTIONS}/{tx['id']}", headers=own).get_json() == done
    assert_ledger_verifies(session)


def test_transfer_to_an_untrusted_account_is_delayed_after_approval_and_completes_after_26_hours(
    client: FlaskClient,
    session: Session,
    clock: FixedClock,
    tenants: Tenants,
    bearer: dict[str, Any],
) -> None:
    own, second = bearer["enterprise_own"], bearer["enterprise_own_second"]
    tx = post_transfer(
        client, own, transfer_body(tenants.own_account, tenants.other_account, 200)
    ).get_json()

    delayed = decide(client, second, tx["id"])

    assert delayed.status_code == 200
    body = delayed.get_json()
    assert body["status"] == "delayed"
    assert at(body["execute_after"]) == clock.now() + DELAY
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY + 200)

    clock.advance(DELAY - timedelta(minutes=1))
    assert run_scheduler(session) == {"released": 0, "expired": 0}
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY + 200)

    clock.advance(timedelta(minutes=1))
    assert run_scheduler(session) == {"released": 1, "expired": 0}
    final = client.get(f"{TRANSACTIONS}/{tx['id']}", headers=own).get_json()
    assert final["status"] == "completed"
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED - 200, PENDING_QUANTITY)
    assert allowances(client, bearer["regulator"], tenants.other_account) == (
        OTHER_FUNDED + 200,
        0,
    )
    assert_ledger_verifies(session)


def test_delayed_transfer_cancelled_during_the_delay_releases_its_units_and_never_completes(
    client: FlaskClient,
    session: Session,
    clock: FixedClock,
    tenants: Tenants,
    bearer: dict[str, Any],
) -> None:
    own, second = bearer["enterprise_own"], bearer["enterprise_own_second"]
    tx = post_transfer(
        client, own, transfer_body(tenants.own_account, tenants.other_account, 200)
    ).get_json()
    assert decide(client, second, tx["id"]).get_json()["status"] == "delayed"
    clock.advance(timedelta(hours=5))

    cancelled = decide(client, own, tx["id"], "cancel")

    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["decided_by"] == "alpha"
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY)
    clock.advance(DELAY)
    assert run_scheduler(session)["released"] == 0
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY)
    assert allowances(client, bearer["regulator"], tenants.other_account) == (OTHER_FUNDED, 0)
    assert_ledger_verifies(session)


@pytest.mark.parametrize("action", ["cancel", "approve", "reject"])
def test_a_completed_transaction_cannot_be_cancelled_approved_or_rejected(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], action: str
) -> None:
    tx_id = tenants.pending_tx_id
    own = bearer["enterprise_own"]
    assert decide(client, own, tx_id).get_json()["status"] == "completed"  # retirement: no delay

    with moves_nothing(app):
        response = decide(client, own, tx_id, action)

    assert_problem(response, 409, "conflict")


def test_rejected_transfer_releases_the_reserved_units_and_moves_nothing(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]

    rejected = decide(client, own, tenants.pending_tx_id, "reject")

    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["completed_at"] is None
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, 0)
    assert allowances(client, bearer["regulator"], RETIREMENT) == (0, 0)


def test_initiator_approving_their_own_transfer_is_refused_as_a_four_eyes_violation(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = decide(client, bearer["enterprise_own_second"], tenants.pending_tx_id)

    assert_problem(response, 422, "four-eyes")
    status = client.get(f"{TRANSACTIONS}/{tenants.pending_tx_id}", headers=bearer["regulator"])
    assert status.get_json()["status"] == "pending_approval"


def test_approving_a_transfer_twice_is_a_conflict_and_moves_the_units_only_once(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    assert decide(client, own, tenants.pending_tx_id).status_code == 200
    assert allowances(client, own, tenants.own_account) == (AVAILABLE, 0)

    with moves_nothing(app):
        again = decide(client, own, tenants.pending_tx_id)

    body = assert_problem(again, 409, "conflict")
    assert "completed" in body["detail"]
    assert allowances(client, own, tenants.own_account) == (AVAILABLE, 0)
    assert allowances(client, bearer["regulator"], RETIREMENT) == (PENDING_QUANTITY, 0)


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_enterprise_user_without_the_approver_capability_cannot_decide_on_a_transfer(
    app: Flask,
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    tenants: Tenants,
    action: str,
) -> None:
    clerk = make_user(
        session, role=Role.ENTERPRISE, name="alpha-clerk", enterprise=tenants.own, can_approve=False
    )
    headers = auth.headers(clerk)

    with moves_nothing(app):
        response = decide(client, headers, tenants.pending_tx_id, action)

    assert_problem(response, 422, "four-eyes")


def test_enterprise_user_without_the_initiator_capability_cannot_request_a_transfer(
    app: Flask, client: FlaskClient, session: Session, auth: AuthActions, tenants: Tenants
) -> None:
    approver_only = make_user(
        session,
        role=Role.ENTERPRISE,
        name="alpha-approver",
        enterprise=tenants.own,
        can_initiate=False,
    )
    headers = auth.headers(approver_only)

    with moves_nothing(app):
        response = post_transfer(
            client, headers, transfer_body(tenants.own_account, tenants.other_account, 10)
        )

    assert_problem(response, 422, "four-eyes")


def test_pending_transfer_nobody_approves_expires_and_its_units_are_released(
    client: FlaskClient,
    session: Session,
    clock: FixedClock,
    tenants: Tenants,
    bearer: dict[str, Any],
) -> None:
    own = bearer["enterprise_own"]
    pending = client.get(f"{TRANSACTIONS}/{tenants.pending_tx_id}", headers=own).get_json()
    assert at(pending["expires_at"]) == clock.now() + timedelta(hours=72)

    clock.advance(timedelta(hours=72))
    assert run_scheduler(session) == {"released": 0, "expired": 1}

    expired = client.get(f"{TRANSACTIONS}/{tenants.pending_tx_id}", headers=own).get_json()
    assert expired["status"] == "expired"
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, 0)
    assert_problem(decide(client, own, tenants.pending_tx_id), 409, "conflict")


# --- regulators: issuance, allocation, reversal ---------------------------------------------


def test_issuance_waits_for_a_second_regulator_then_credits_the_reserve_and_debits_issuance(
    app: Flask, client: FlaskClient, session: Session, bearer: dict[str, Any]
) -> None:
    first, second = bearer["regulator"], bearer["regulator_second"]
    reserve_before = allowances(client, first, RESERVE)[0]

    created = client.post(
        ISSUANCES,
        json={"unit_kind": "allowance", "vintage": VINTAGE, "quantity": 2000, "memo": "2025年度"},
        headers={**first, "Idempotency-Key": "issue-2025-a"},
    )

    assert created.status_code == 201, created.get_data(as_text=True)
    tx = created.get_json()
    assert (tx["kind"], tx["status"]) == ("issuance", "pending_approval")
    assert (tx["from_account"], tx["to_account"]) == (ISSUANCE, RESERVE)
    assert allowances(client, first, RESERVE)[0] == reserve_before
    with moves_nothing(app):
        assert_problem(decide(client, first, tx["id"]), 422, "four-eyes")

    approved = decide(client, second, tx["id"])

    assert approved.status_code == 200
    assert approved.get_json()["status"] == "completed"
    assert allowances(client, first, RESERVE)[0] == reserve_before + 2000
    # The issuance account goes negative by everything ever issued.
    assert allowances(client, first, ISSUANCE) == (-(ISSUED + 2000), 0)
    assert_ledger_verifies(session)


def test_issuance_without_an_idempotency_key_is_accepted_because_only_transfers_require_one(
    client: FlaskClient, bearer: dict[str, Any]
) -> None:
    response = client.post(
        ISSUANCES,
        json={"unit_kind": "ccer", "vintage": 2024, "quantity": 50},
        headers=bearer["regulator"],
    )
    assert response.status_code == 201
    assert response.get_json()["unit_kind"] == "ccer"


def test_issuance_retried_with_the_same_key_replays_and_creates_one_pending_issuance(
    app: Flask, client: FlaskClient, bearer: dict[str, Any]
) -> None:
    headers = {**bearer["regulator"], "Idempotency-Key": "issue-2026"}
    body = {"unit_kind": "allowance", "vintage": 2026, "quantity": 3000}
    first = client.post(ISSUANCES, json=body, headers=headers)

    with moves_nothing(app):
        retry = client.post(ISSUANCES, json=body, headers=headers)
    mismatch = client.post(ISSUANCES, json={**body, "quantity": 3001}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert_problem(mismatch, 422, "idempotency-mismatch")
    pending = client.get(
        TRANSACTIONS, query_string={"kind": "issuance"}, headers=bearer["regulator"]
    ).get_json()
    assert [tx["status"] for tx in pending["items"]] == ["pending_approval", "completed"]


def test_regulator_allocation_from_the_reserve_is_recorded_as_allocation_and_never_delayed(
    client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    first, second = bearer["regulator"], bearer["regulator_second"]

    created = post_transfer(
        client, first, transfer_body(RESERVE, tenants.own_account, 250, memo="2025年度免费分配")
    )

    assert created.status_code == 201, created.get_data(as_text=True)
    tx = created.get_json()
    assert (tx["kind"], tx["status"]) == ("allocation", "pending_approval")
    assert allowances(client, first, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY)
    assert_problem(decide(client, bearer["enterprise_own"], tx["id"]), 404, "not-found")

    approved = decide(client, second, tx["id"])

    assert approved.get_json()["status"] == "completed"  # no trusted-list entry needed
    assert approved.get_json()["execute_after"] is None
    assert allowances(client, first, tenants.own_account) == (OWN_FUNDED + 250, PENDING_QUANTITY)
    assert allowances(client, first, RESERVE)[0] == ISSUED - OWN_FUNDED - OTHER_FUNDED - 250
    assert_ledger_verifies(session)


def test_regulator_cannot_approve_the_allocation_they_requested(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    tx = post_transfer(
        client, bearer["regulator"], transfer_body(RESERVE, tenants.own_account, 10)
    ).get_json()

    with moves_nothing(app):
        response = decide(client, bearer["regulator"], tx["id"])

    assert_problem(response, 422, "four-eyes")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("own", id="enterprise account"),
        pytest.param(ISSUANCE, id="issuance account"),
        pytest.param(RETIREMENT, id="retirement account"),
    ],
)
def test_regulator_moves_units_only_out_of_the_reserve_or_auction_account(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], source: str
) -> None:
    number = tenants.own_account if source == "own" else source

    with moves_nothing(app):
        response = post_transfer(
            client, bearer["regulator"], transfer_body(number, tenants.other_account, 10)
        )

    body = assert_problem(response, 403, "permission-denied")
    assert "reserve or auction" in body["detail"]


def test_reversal_of_a_completed_allocation_needs_a_second_regulator_and_undoes_it_once(
    app: Flask, client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    first, second = bearer["regulator"], bearer["regulator_second"]
    url = f"{TRANSACTIONS}/{tenants.completed_tx_id}/reverse"

    created = client.post(url, json={"memo": "分配有误"}, headers=first)

    assert created.status_code == 201, created.get_data(as_text=True)
    reversal = created.get_json()
    assert reversal["kind"] == "reversal"
    assert reversal["reverses_id"] == tenants.completed_tx_id
    assert (reversal["from_account"], reversal["to_account"]) == (tenants.own_account, RESERVE)
    assert allowances(client, first, tenants.own_account) == (
        OWN_FUNDED,
        PENDING_QUANTITY + reversal["quantity"],
    )
    assert decide(client, second, reversal["id"]).get_json()["status"] == "completed"
    assert allowances(client, first, tenants.own_account) == (
        OWN_FUNDED - reversal["quantity"],
        PENDING_QUANTITY,
    )
    with moves_nothing(app):
        again = client.post(url, json={}, headers=first)
    assert_problem(again, 409, "conflict")
    assert_ledger_verifies(session)


def test_only_completed_transactions_can_be_reversed(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = client.post(
            f"{TRANSACTIONS}/{tenants.pending_tx_id}/reverse", json={}, headers=bearer["regulator"]
        )
    assert_problem(response, 409, "conflict")


# --- Idempotency-Key --------------------------------------------------------------------------


def test_transfer_without_an_idempotency_key_is_400_missing_header_and_moves_nothing(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = client.post(
            TRANSFERS,
            json=transfer_body(tenants.own_account, tenants.other_account, 10),
            headers=bearer["enterprise_own"],
        )

    body = assert_problem(response, 400, "missing-header")
    assert "Idempotency-Key" in body["detail"]


@pytest.mark.parametrize(
    "key", [pytest.param("", id="empty"), pytest.param("k" * 256, id="256 characters")]
)
def test_transfer_with_an_unusable_idempotency_key_is_refused_and_moves_nothing(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], key: str
) -> None:
    with moves_nothing(app):
        response = client.post(
            TRANSFERS,
            json=transfer_body(tenants.own_account, tenants.other_account, 10),
            headers={**bearer["enterprise_own"], "Idempotency-Key": key},
        )

    assert_problem(response, 422, "validation-failed", pointers={"#/headers/Idempotency-Key"})


def test_retry_with_the_same_key_and_body_replays_the_first_response_and_moves_nothing_again(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    body = transfer_body(tenants.own_account, tenants.other_account, 40, memo="第一次")
    first = post_transfer(client, own, body, key="order-2026-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    with moves_nothing(app):
        retry = post_transfer(client, own, body, key="order-2026-0001")

    assert retry.status_code == first.status_code
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY + 40)
    listed = client.get(
        TRANSACTIONS, query_string={"status": "pending_approval"}, headers=own
    ).get_json()
    assert listed["page"]["total"] == 2  # the fixture's retirement and this transfer


def test_replayed_response_is_the_first_one_even_after_the_transaction_moved_on(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    body = transfer_body(tenants.own_account, tenants.other_account, 40)
    first = post_transfer(client, own, body, key="k-1")
    decide(client, bearer["enterprise_own_second"], first.get_json()["id"])

    retry = post_transfer(client, own, body, key="k-1")

    assert retry.get_json() == first.get_json()
    assert retry.get_json()["status"] == "pending_approval"
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, PENDING_QUANTITY + 40)


def test_same_key_with_a_different_body_is_422_idempotency_mismatch_and_moves_nothing(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    post_transfer(
        client, own, transfer_body(tenants.own_account, tenants.other_account, 40), key="k-2"
    )

    with moves_nothing(app):
        response = post_transfer(
            client, own, transfer_body(tenants.own_account, tenants.other_account, 41), key="k-2"
        )

    assert_problem(response, 422, "idempotency-mismatch", pointers={"#/headers/Idempotency-Key"})


def test_idempotency_keys_are_scoped_per_client_so_two_users_may_reuse_one(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    first = post_transfer(
        client,
        bearer["enterprise_own"],
        transfer_body(tenants.own_account, tenants.other_account, 40),
        key="shared-key",
    )
    second = post_transfer(
        client,
        bearer["enterprise_own_second"],
        transfer_body(tenants.own_account, tenants.other_account, 60),
        key="shared-key",
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["id"] != second.get_json()["id"]
    assert second.get_json()["initiated_by"] == "alpha-2"
    assert allowances(client, bearer["enterprise_own"], tenants.own_account) == (
        OWN_FUNDED,
        PENDING_QUANTITY + 100,
    )


def test_a_refused_transfer_releases_its_key_so_a_corrected_retry_with_it_goes_through(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    with moves_nothing(app):
        refused = post_transfer(
            client,
            own,
            transfer_body(tenants.own_account, tenants.other_account, AVAILABLE + 1),
            key="k-3",
        )
    assert_problem(refused, 422, "insufficient-holding")

    corrected = post_transfer(
        client, own, transfer_body(tenants.own_account, tenants.other_account, AVAILABLE), key="k-3"
    )

    assert corrected.status_code == 201
    assert allowances(client, own, tenants.own_account) == (OWN_FUNDED, OWN_FUNDED)


def _claim_in_flight(
    session: Session, clock: FixedClock, client_name: str, key: str, body: dict[str, Any]
) -> None:
    """Record the claim a first request holds while its work is still running."""
    session.add(
        IdempotencyRecord(
            client=client_name,
            key=key,
            request_hash=request_fingerprint("transfer", {"memo": "", **body}),
            is_complete=False,
            created_at=clock.now(),
        )
    )
    session.commit()


def test_same_key_while_the_first_request_is_still_running_is_409_and_moves_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    clock: FixedClock,
    tenants: Tenants,
    bearer: dict[str, Any],
) -> None:
    body = transfer_body(tenants.own_account, tenants.other_account, 40)
    _claim_in_flight(session, clock, "alpha", "k-4", body)

    with moves_nothing(app):
        response = post_transfer(client, bearer["enterprise_own"], body, key="k-4")

    assert_problem(response, 409, "conflict")


def test_a_claim_left_by_a_request_that_died_is_taken_over_after_five_minutes(
    client: FlaskClient,
    session: Session,
    clock: FixedClock,
    tenants: Tenants,
    bearer: dict[str, Any],
) -> None:
    body = transfer_body(tenants.own_account, tenants.other_account, 40)
    _claim_in_flight(session, clock, "alpha", "k-5", body)
    clock.advance(timedelta(minutes=5))

    response = post_transfer(client, bearer["enterprise_own"], body, key="k-5")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    session.expire_all()
    claim = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-5"))
    assert claim is not None
    assert claim.is_complete
    assert claim.response == response.get_json()


# --- bad input: a clear 4xx that moves nothing ----------------------------------------------


UNKNOWN_ACCOUNT = make_account_number("10", 9_876_543_210)


def _wrong_check_digit(number: str) -> str:
    last = int(number[-1])
    return number[:-1] + str((last + 1) % 10)


@dataclass(frozen=True)
class BadTransfer:
    """A transfer of 10 allowances by ``enterprise_own`` from its account to ``other``'s,
    with ``changes`` to the body (a callable value gets the ``Tenants``) and ``drop``ped
    fields, after ``setup`` (which may return further changes); refused with ``status``,
    ``slug`` and exactly the error ``pointers``."""

    changes: dict[str, Any]
    status: int
    slug: str
    pointers: set[str]
    setup: Callable[[Session, Tenants], dict[str, Any]] | None = None
    drop: tuple[str, ...] = field(default=())


def _block_own(session: Session, tenants: Tenants) -> dict[str, Any]:
    ledger_accounts.set_account_status(
        session, SYSTEM, tenants.own_account, status=AccountStatus.BLOCKED
    )
    return {}


def _to_a_closed_account(session: Session, tenants: Tenants) -> dict[str, Any]:
    empty = make_enterprise(session, name="北京丙已关闭有限公司")
    number = empty.compliance_account.number
    ledger_accounts.set_account_status(session, SYSTEM, number, status=AccountStatus.CLOSED)
    return {"to_account": number}


BAD_TRANSFERS = {
    "zero quantity": BadTransfer({"quantity": 0}, 422, "validation-failed", {"#/quantity"}),
    "negative quantity": BadTransfer({"quantity": -5}, 422, "validation-failed", {"#/quantity"}),
    "fractional quantity": BadTransfer({"quantity": 2.5}, 422, "validation-failed", {"#/quantity"}),
    "quantity as a string": BadTransfer(
        {"quantity": "10"}, 422, "validation-failed", {"#/quantity"}
    ),
    "quantity as a boolean": BadTransfer(
        {"quantity": True}, 422, "validation-failed", {"#/quantity"}
    ),
    "quantity past any 64-bit holding": BadTransfer(
        {"quantity": 10**20}, 422, "validation-failed", {"#/quantity"}
    ),
    "quantity missing": BadTransfer(
        {}, 422, "validation-failed", {"#/quantity"}, drop=("quantity",)
    ),
    "unknown destination account": BadTransfer(
        {"to_account": UNKNOWN_ACCOUNT}, 404, "not-found", {"#/to_account"}
    ),
    "unknown source account": BadTransfer(
        {"from_account": UNKNOWN_ACCOUNT}, 404, "not-found", {"#/from_account"}
    ),
    "wrong check digit in the destination": BadTransfer(
        {"to_account": lambda t: _wrong_check_digit(t.other_account)},
        422,
        "validation-failed",
        {"#/to_account"},
    ),
    "wrong check digit in the source": BadTransfer(
        {"from_account": lambda t: _wrong_check_digit(t.own_account)},
        422,
        "validation-failed",
        {"#/from_account"},
    ),
    "not an account number at all": BadTransfer(
        {"to_account": "甲公司"}, 422, "validation-failed", {"#/to_account"}
    ),
    "same source and destination": BadTransfer(
        {"to_account": lambda t: t.own_account}, 422, "validation-failed", {"#/to_account"}
    ),
    "same account typed with spaces and lower case": BadTransfer(
        {"to_account": lambda t: " ".join([t.own_account[:4].lower(), t.own_account[4:]])},
        422,
        "validation-failed",
        {"#/to_account"},
    ),
    "blocked source account": BadTransfer(
        {}, 422, "account-not-usable", {"#/from_account"}, setup=_block_own
    ),
    "closed destination account": BadTransfer(
        {}, 422, "account-not-usable", {"#/to_account"}, setup=_to_a_closed_account
    ),
    "unit kind the account does not hold": BadTransfer(
        {"unit_kind": "ccer"}, 422, "insufficient-holding", {"#/quantity"}
    ),
    "unit kind not in the catalogue": BadTransfer(
        {"unit_kind": "gold"}, 422, "validation-failed", {"#/unit_kind"}
    ),
    "vintage the account does not hold": BadTransfer(
        {"vintage": VINTAGE - 1}, 422, "insufficient-holding", {"#/quantity"}
    ),
    "vintage outside 2000-2100": BadTransfer(
        {"vintage": 1999}, 422, "validation-failed", {"#/vintage"}
    ),
    "more than the available (unreserved) balance": BadTransfer(
        {"quantity": AVAILABLE + 1}, 422, "insufficient-holding", {"#/quantity"}
    ),
    "more than the whole holding": BadTransfer(
        {"quantity": OWN_FUNDED + 1}, 422, "insufficient-holding", {"#/quantity"}
    ),
    "another enterprise's account as the source": BadTransfer(
        {"from_account": lambda t: t.other_account, "to_account": lambda t: t.own_account},
        404,
        "not-found",
        {"#/from_account"},
    ),
    "a field the API does not know": BadTransfer(
        {"price": 80}, 422, "validation-failed", {"#/price"}
    ),
    "memo over 500 characters": BadTransfer(
        {"memo": "备" * 501}, 422, "validation-failed", {"#/memo"}
    ),
}


@pytest.mark.parametrize("case", BAD_TRANSFERS.values(), ids=BAD_TRANSFERS.keys())
def test_bad_transfer_is_a_clear_4xx_problem_and_moves_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    bearer: dict[str, Any],
    case: BadTransfer,
) -> None:
    body = transfer_body(tenants.own_account, tenants.other_account, 10)
    body.update({k: v(tenants) if callable(v) else v for k, v in case.changes.items()})
    if case.setup:
        body.update(case.setup(session, tenants))
    for name in case.drop:
        del body[name]

    with moves_nothing(app):
        response = post_transfer(client, bearer["enterprise_own"], body)

    assert_problem(response, case.status, case.slug, pointers=case.pointers)


def test_exactly_the_available_balance_may_be_transferred(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    # The positive control of the "more than the available balance" case above.
    response = post_transfer(
        client,
        bearer["enterprise_own"],
        transfer_body(tenants.own_account, tenants.other_account, AVAILABLE),
    )
    assert response.status_code == 201
    assert (
        holdings_of(client, bearer["enterprise_own"], tenants.own_account)[("allowance", VINTAGE)][
            "available"
        ]
        == 0
    )


def test_blocked_account_still_receives_units_but_sends_none(
    app: Flask, client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    _block_own(session, tenants)
    incoming = post_transfer(
        client, bearer["regulator"], transfer_body(RESERVE, tenants.own_account, 5)
    )
    assert decide(client, bearer["regulator_second"], incoming.get_json()["id"]).status_code == 200
    assert allowances(client, bearer["regulator"], tenants.own_account)[0] == OWN_FUNDED + 5

    with moves_nothing(app):
        outgoing = post_transfer(
            client,
            bearer["enterprise_own"],
            transfer_body(tenants.own_account, tenants.other_account, 5),
        )
    assert_problem(outgoing, 422, "account-not-usable")


def test_transfer_over_the_per_transfer_limit_is_refused_and_moves_nothing(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    limited = client.patch(
        f"/api/v1/accounts/{tenants.own_account}", json={"transfer_limit": 50}, headers=own
    )
    assert limited.status_code == 200

    with moves_nothing(app):
        over = post_transfer(client, own, transfer_body(tenants.own_account, RETIREMENT, 51))
    at_limit = post_transfer(client, own, transfer_body(tenants.own_account, RETIREMENT, 50))

    assert_problem(over, 422, "rule-violation", pointers={"#/quantity"})
    assert at_limit.status_code == 201


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_deciding_on_a_transaction_that_does_not_exist_is_404(
    app: Flask, client: FlaskClient, bearer: dict[str, Any], action: str
) -> None:
    with moves_nothing(app):
        response = decide(client, bearer["enterprise_own"], 987_654, action)
    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_enterprise_user_deciding_on_another_enterprises_transfer_gets_404(
    app: Flask,
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    bearer: dict[str, Any],
    action: str,
) -> None:
    theirs = post_transfer(
        client, bearer["enterprise_other"], transfer_body(tenants.other_account, RETIREMENT, 10)
    ).get_json()

    with moves_nothing(app):
        response = decide(client, bearer["enterprise_own"], theirs["id"], action)

    assert_problem(response, 404, "not-found")
