"""The web UI's transactions and its first actions: deciding on a transaction and requesting
a transfer, through the same services, four-eyes rules and idempotency as the API."""

from __future__ import annotations

import re

import pytest

from carbon_market.ledger.accounts.numbers import make_account_number
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from tests.api.helpers import (
    OWN_FUNDED,
    PENDING_QUANTITY,
    VINTAGE,
    holdings_of,
    ledger_state,
    moves_nothing,
)
from tests.web.conftest import csrf_token

KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


def _own(client, bearer, tenants):
    """``own``'s allowances of the fixture's vintage: {quantity, reserved, available}."""
    held = holdings_of(client, bearer["enterprise_own"], tenants.own_account)
    return held[("allowance", VINTAGE)]


def _transfer_form(client) -> dict[str, str]:
    """The hidden fields of a freshly drawn transfer form: its CSRF token and its key."""
    page = client.get("/transfers/new").get_data(as_text=True)
    key = KEY.search(page)
    assert key, "the form carries no idempotency key"
    return {"csrf_token": csrf_token(client, "/transfers/new"), "idempotency_key": key.group(1)}


def _fields(tenants, **values: str) -> dict[str, str]:
    return {
        "from_account": tenants.own_account, "to_account": tenants.other_account,
        "unit_kind": "allowance", "vintage": str(VINTAGE), "quantity": "10", "memo": "",
        **values,
    }  # fmt: skip


def _transactions(app) -> int:
    """How many transactions the ledger holds, read on a connection of its own."""
    return len(ledger_state(app)["transactions"])


# --- reading -----------------------------------------------------------------------------


def test_an_enterprise_user_sees_only_transactions_touching_its_accounts(client, sign_in, tenants):
    sign_in("alpha")

    page = client.get("/transactions").get_data(as_text=True)

    assert f'href="/transactions/{tenants.pending_tx_id}"' in page
    assert tenants.own_account in page
    assert tenants.other_account not in page  # the allocation to ``other`` is not shown
    assert 'href="/transactions"' in page  # the navigation's link


def test_a_regulator_sees_every_transaction_and_the_filters_narrow_them(client, sign_in, tenants):
    sign_in("regulator")

    everything = client.get("/transactions").get_data(as_text=True)
    pending = client.get("/transactions?status=pending_approval").get_data(as_text=True)
    theirs = client.get(f"/transactions?account={tenants.other_account}").get_data(as_text=True)
    bad = client.get("/transactions?status=approved")

    assert tenants.other_account in everything
    assert f'href="/transactions/{tenants.completed_tx_id}"' in everything
    assert f'href="/transactions/{tenants.pending_tx_id}"' in pending
    assert f'href="/transactions/{tenants.completed_tx_id}"' not in pending
    assert tenants.own_account not in theirs
    assert bad.status_code == 422  # the API's query schema refuses the value
    assert "status" in bad.get_data(as_text=True)


def test_another_enterprise_s_transaction_is_the_404_page_and_cannot_be_decided(
    client, sign_in, tenants, app
):
    sign_in("beta")
    token = csrf_token(client, "/")

    with moves_nothing(app):
        shown = client.get(f"/transactions/{tenants.pending_tx_id}")
        approved = client.post(
            f"/transactions/{tenants.pending_tx_id}/approve", data={"csrf_token": token}
        )

    assert shown.status_code == approved.status_code == 404
    assert f"transaction {tenants.pending_tx_id} does not exist" in approved.get_data(as_text=True)


# --- deciding ----------------------------------------------------------------------------


def test_a_second_user_approves_and_the_units_move(client, sign_in, tenants, bearer):
    sign_in("alpha")
    page = client.get(f"/transactions/{tenants.pending_tx_id}").get_data(as_text=True)
    assert "alpha-2" in page  # who requested it
    assert "Approve" in page
    assert "Reject" in page

    response = client.post(
        f"/transactions/{tenants.pending_tx_id}/approve",
        data={"csrf_token": csrf_token(client, f"/transactions/{tenants.pending_tx_id}")},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/transactions/{tenants.pending_tx_id}"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Transaction {tenants.pending_tx_id} is now completed." in shown
    assert "<strong data-status>completed</strong>" in shown
    assert f"{-PENDING_QUANTITY:+,}" in shown  # the postings
    assert "Approve" not in shown  # decided: no buttons
    twice = client.post(  # a double-click on a page drawn before the first decision
        f"/transactions/{tenants.pending_tx_id}/approve",
        data={"csrf_token": csrf_token(client, "/")},
    )
    assert twice.status_code == 409
    assert "not pending approval" in twice.get_data(as_text=True)
    held = _own(client, bearer, tenants)
    assert held == {
        "quantity": OWN_FUNDED - PENDING_QUANTITY,
        "reserved": 0,
        "available": OWN_FUNDED - PENDING_QUANTITY,
    }


def test_the_initiator_s_own_approval_is_refused_with_the_four_eyes_message(
    client, sign_in, tenants, app
):
    sign_in("alpha-2")  # who requested the pending retirement
    token = csrf_token(client, f"/transactions/{tenants.pending_tx_id}")

    with moves_nothing(app):
        response = client.post(
            f"/transactions/{tenants.pending_tx_id}/approve", data={"csrf_token": token}
        )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "the initiator of a transaction cannot decide on it" in page
    assert "<strong data-status>pending_approval</strong>" in page


def test_the_initiator_may_cancel_and_the_reserved_units_are_released(
    client, sign_in, tenants, bearer
):
    sign_in("alpha-2")
    token = csrf_token(client, f"/transactions/{tenants.pending_tx_id}")

    response = client.post(
        f"/transactions/{tenants.pending_tx_id}/cancel", data={"csrf_token": token}
    )

    assert response.status_code == 303
    assert "is now cancelled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _own(client, bearer, tenants)["reserved"] == 0


def test_a_decision_without_its_csrf_token_is_refused(client, sign_in, tenants, app):
    sign_in("alpha")

    with moves_nothing(app):
        response = client.post(f"/transactions/{tenants.pending_tx_id}/approve")

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


# --- requesting a transfer ---------------------------------------------------------------


def test_a_transfer_sent_twice_with_the_same_form_moves_units_once(
    client, sign_in, tenants, bearer, app
):
    sign_in("alpha")
    hidden = _transfer_form(client)
    before = _transactions(app)

    first = client.post("/transfers/new", data={**hidden, **_fields(tenants, memo="两次")})
    second = client.post("/transfers/new", data={**hidden, **_fields(tenants, memo="两次")})

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _transactions(app) == before + 1
    assert _own(client, bearer, tenants)["reserved"] == PENDING_QUANTITY + 10
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Nothing was moved again." in page
    assert "<strong data-status>pending_approval</strong>" in page  # a second user approves


def test_the_form_offers_only_the_accounts_the_user_may_move_from(client, sign_in, tenants):
    sign_in("alpha")

    page = client.get("/transfers/new").get_data(as_text=True)

    assert f'<option value="{tenants.own_account}"' in page
    assert tenants.other_account not in page
    assert '<option value="allowance"' in page


def test_a_regulator_is_offered_the_reserve_and_auction_accounts_only(client, sign_in, tenants):
    sign_in("regulator")

    page = client.get("/transfers/new").get_data(as_text=True)

    offered = set(re.findall(r'<option (?:selected )?value="(BJ\d+)"', page))
    assert offered == {
        GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE],
        GOVERNMENT_ACCOUNTS[AccountKind.AUCTION],
    }


@pytest.mark.parametrize(
    ("values", "status", "field", "message"),
    [
        ({"quantity": "0"}, 422, "quantity", "greater than or equal to 1"),
        ({"quantity": "1.5"}, 422, "quantity", "Not a valid integer value."),
        (
            {"to_account": make_account_number("10", 9_876_543_210)},
            404, "to_account", "no such account",
        ),
        ({"quantity": str(OWN_FUNDED)}, 422, "quantity", "more than the available"),
        ({"to_account": "BJ10000000000000"}, 422, "to_account", "not a valid account number"),
    ],
    ids=["zero", "fraction", "unknown-account", "more-than-held", "bad-check-digits"],
)  # fmt: skip
def test_a_refused_transfer_is_the_form_again_with_the_error_beside_its_field(
    client, sign_in, tenants, app, values, status, field, message
):
    sign_in("alpha")
    hidden = _transfer_form(client)

    with moves_nothing(app):
        response = client.post("/transfers/new", data={**hidden, **_fields(tenants, **values)})

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert re.search(f'data-field="{field}">[^<]*{re.escape(message)}', page), page
    assert f'value="{hidden["idempotency_key"]}"' in page  # the same form, sent again later
    sent = values.get("to_account", tenants.other_account)
    assert f'value="{sent}"' in page  # what the user typed is kept


def test_a_refused_form_sent_again_corrected_moves_units_once(client, sign_in, tenants, bearer):
    sign_in("alpha")
    hidden = _transfer_form(client)
    assert (
        client.post("/transfers/new", data={**hidden, **_fields(tenants, quantity="0")}).status_code
        == 422
    )

    corrected = client.post("/transfers/new", data={**hidden, **_fields(tenants)})

    assert corrected.status_code == 303
    assert _own(client, bearer, tenants)["reserved"] == PENDING_QUANTITY + 10


def test_the_key_of_a_sent_form_reused_with_other_values_is_refused_and_replaced(
    client, sign_in, tenants, app
):
    sign_in("alpha")
    hidden = _transfer_form(client)
    assert client.post("/transfers/new", data={**hidden, **_fields(tenants)}).status_code == 303

    with moves_nothing(app):  # back, another quantity, sent again
        again = client.post("/transfers/new", data={**hidden, **_fields(tenants, quantity="11")})

    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert "already sent with other values" in page
    fresh = KEY.search(page)
    assert fresh
    assert fresh.group(1) != hidden["idempotency_key"]


def test_a_transfer_without_its_csrf_token_is_refused(client, sign_in, tenants, app):
    sign_in("alpha")
    key = _transfer_form(client)["idempotency_key"]

    with moves_nothing(app):
        response = client.post("/transfers/new", data={"idempotency_key": key, **_fields(tenants)})

    assert response.status_code == 400


def test_a_role_without_ledger_transfer_has_no_link_and_is_refused(client, sign_in, tenants):
    sign_in("auditor")

    listing = client.get("/transactions").get_data(as_text=True)
    detail = client.get(f"/transactions/{tenants.pending_tx_id}").get_data(as_text=True)
    refused = client.get("/transfers/new")

    assert 'href="/transfers/new"' not in listing
    assert "Approve" not in detail
    assert "Cancel" not in detail
    assert refused.status_code == 403
    assert "may not perform ledger.transfer" in refused.get_data(as_text=True)


def test_a_role_without_ledger_read_has_no_transactions_link(client, sign_in, tenants):
    sign_in("verifier")

    assert 'href="/transactions"' not in client.get("/").get_data(as_text=True)
    assert client.get("/transactions").status_code == 403


def test_user_text_is_escaped_on_the_form_and_the_transaction(client, sign_in, tenants):
    sign_in("alpha")
    hidden = _transfer_form(client)
    script = "<script>alert(1)</script>"

    refused = client.post("/transfers/new", data={**hidden, **_fields(tenants, to_account=script)})
    sent = client.post("/transfers/new", data={**hidden, **_fields(tenants, memo=script)})
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    listing = client.get("/transactions").get_data(as_text=True)

    for page in (refused.get_data(as_text=True), shown, listing):
        assert script not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
