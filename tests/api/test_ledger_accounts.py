"""Registry accounts over HTTP: the account list and its filters, one account, transfer
limits, blocking and closing, holdings, statements (JSON and CSV), trusted-account lists,
the transaction list and its filters, one transaction, and the unit catalogue.

The ``tenants`` fixture (tests/api/conftest.py) funds ``own`` with 1,000 allowances of 2025
(two allocations, 900 then 100), 100 of them reserved by a pending retirement, and ``other``
with 500; five transactions in all.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import service as ledger_accounts
from carbon_market.ledger.accounts.numbers import make_account_number
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, AccountStatus
from tests.api.helpers import (
    ACCOUNTS,
    LAST_ALLOCATION,
    OWN_FUNDED,
    PENDING_QUANTITY,
    TRANSACTIONS,
    VINTAGE,
    Tenants,
    assert_problem,
    decide,
    holdings_of,
    moves_nothing,
    post_transfer,
    transfer_body,
)
from tests.conftest import AuthActions
from tests.factories import credit_code, make_enterprise, make_user

ISSUANCE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_ISSUANCE]
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
AUCTION = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
RETIREMENT = GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT]
GOVERNMENT = {ISSUANCE, RESERVE, AUCTION, RETIREMENT}
SYSTEM = Actor.system(name="system:test")
UNKNOWN_ACCOUNT = make_account_number("10", 9_876_543_210)
STATEMENT_COLUMNS = [
    "posting_id",
    "transaction_id",
    "transaction_uuid",
    "kind",
    "completed_at",
    "unit_kind",
    "vintage",
    "quantity",
    "balance",
    "counterparty",
    "memo",
]


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def numbers(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["number"] for item in response.get_json()["items"]}


def trusted_url(tenants: Tenants, suffix: str = "") -> str:
    return f"{ACCOUNTS}/{tenants.own_account}/trusted-accounts{suffix}"


def fund(session: Session, number: str, quantity: int, unit_kind: str, vintage: int) -> None:
    """Issue and allocate at once (the system actor posts without four eyes)."""
    units = {"unit_kind": unit_kind, "vintage": vintage, "quantity": quantity}
    ledger.issue(session, SYSTEM, **units)
    ledger.request_transfer(session, SYSTEM, from_account=RESERVE, to_account=number, **units)


# --- the account list -----------------------------------------------------------------------


def test_account_list_gives_number_kind_owner_and_status_of_every_account_to_a_regulator(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(ACCOUNTS, headers=bearer["regulator"])

    assert response.status_code == 200
    body = response.get_json()
    by_number = {item["number"]: item for item in body["items"]}
    assert set(by_number) == GOVERNMENT | {tenants.own_account, tenants.other_account}
    assert body["page"]["total"] == 6
    own = by_number[tenants.own_account]
    assert {k: own[k] for k in ("number", "kind", "owner", "status")} == {
        "number": tenants.own_account,
        "kind": "enterprise_compliance",
        "owner": tenants.own.credit_code,
        "status": "open",
    }
    assert own["transfer_limit"] is None
    assert by_number[RESERVE]["kind"] == "government_reserve"
    assert {by_number[n]["owner"] for n in GOVERNMENT} == {"government"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"kind": "enterprise_compliance"}, {"own", "other"}, id="kind compliance"),
        pytest.param({"kind": "government_reserve"}, {RESERVE}, id="kind reserve"),
        pytest.param({"kind": "trading"}, set(), id="kind with no account"),
        pytest.param({"owner": "own-code"}, {"own"}, id="owner credit code"),
        pytest.param({"owner": "own-code-lower"}, {"own"}, id="owner credit code lower case"),
        pytest.param({"owner": "government"}, GOVERNMENT, id="owner government"),
        pytest.param({"owner": credit_code(777_777)}, set(), id="owner with no account"),
        pytest.param({"status": "blocked"}, {"other"}, id="status blocked"),
        pytest.param({"status": "open"}, GOVERNMENT | {"own"}, id="status open"),
        pytest.param({"status": "closed"}, set(), id="status closed"),
        pytest.param(
            {"kind": "enterprise_compliance", "status": "open"}, {"own"}, id="kind and status"
        ),
        pytest.param(
            {"kind": "enterprise_compliance", "owner": "government"}, set(), id="kind and owner"
        ),
    ],
)
def test_account_list_filters_by_kind_owner_and_status(
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    bearer: dict[str, Any],
    query: dict[str, str],
    expected: set[str],
) -> None:
    ledger_accounts.set_account_status(
        session, SYSTEM, tenants.other_account, status=AccountStatus.BLOCKED
    )
    names = {"own": tenants.own_account, "other": tenants.other_account}
    owner = {"own-code": tenants.own.credit_code, "own-code-lower": tenants.own.credit_code.lower()}
    query = {k: owner.get(v, v) for k, v in query.items()}

    response = client.get(ACCOUNTS, query_string=query, headers=bearer["regulator"])

    assert numbers(response) == {names.get(n, n) for n in expected}
    assert response.get_json()["page"]["total"] == len(expected)


@pytest.mark.parametrize(
    ("query", "sees_own"),
    [
        pytest.param({}, True, id="no filter"),
        pytest.param({"kind": "enterprise_compliance"}, True, id="compliance by kind"),
        pytest.param({"owner": "government"}, False, id="government accounts"),
        pytest.param({"kind": "government_reserve"}, False, id="reserve by kind"),
        pytest.param({"owner": "other-code"}, False, id="the other enterprise by credit code"),
    ],
)
def test_enterprise_user_lists_only_its_own_enterprises_accounts_whatever_the_filter(
    client: FlaskClient,
    tenants: Tenants,
    bearer: dict[str, Any],
    query: dict[str, str],
    sees_own: bool,
) -> None:
    query = {k: tenants.other.credit_code if v == "other-code" else v for k, v in query.items()}
    response = client.get(ACCOUNTS, query_string=query, headers=bearer["enterprise_own"])
    assert numbers(response) == ({tenants.own_account} if sees_own else set())


def test_auditor_lists_every_account_read_only(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(ACCOUNTS, headers=bearer["auditor"])
    assert numbers(response) == GOVERNMENT | {tenants.own_account, tenants.other_account}


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        pytest.param({"kind": "piggy_bank"}, "#/query/kind", id="unknown kind"),
        pytest.param({"status": "frozen"}, "#/query/status", id="unknown status"),
        pytest.param({"colour": "green"}, "#/query/colour", id="unknown parameter"),
        pytest.param({"page_size": "0"}, "#/query/page_size", id="page size zero"),
    ],
)
def test_account_list_refuses_a_bad_filter_with_422_naming_the_parameter(
    client: FlaskClient, bearer: dict[str, Any], query: dict[str, str], pointer: str
) -> None:
    response = client.get(ACCOUNTS, query_string=query, headers=bearer["regulator"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})


def test_account_list_pages_through_every_account_once(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    pages = [
        client.get(ACCOUNTS, query_string={"page": n, "page_size": 4}, headers=bearer["regulator"])
        for n in (1, 2)
    ]
    bodies = [p.get_json() for p in pages]
    assert [len(b["items"]) for b in bodies] == [4, 2]
    assert bodies[0]["page"] == {"page": 1, "page_size": 4, "total": 6, "pages": 2}
    seen = [item["number"] for b in bodies for item in b["items"]]
    assert len(set(seen)) == 6


# --- one account ----------------------------------------------------------------------------


def test_account_reads_back_by_number_even_when_typed_in_lower_case(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    exact = client.get(f"{ACCOUNTS}/{tenants.own_account}", headers=bearer["enterprise_own"])
    lower = client.get(
        f"{ACCOUNTS}/{tenants.own_account.lower()}", headers=bearer["enterprise_own"]
    )

    assert exact.status_code == 200
    assert exact.get_json()["number"] == tenants.own_account
    assert exact.get_json()["owner"] == tenants.own.credit_code
    assert exact.get_json()["closed_at"] is None
    assert lower.get_json() == exact.get_json()


@pytest.mark.parametrize("suffix", ["", "/holdings", "/statement", "/trusted-accounts"])
def test_account_resources_with_a_wrong_check_digit_are_422_and_unknown_numbers_404(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], suffix: str
) -> None:
    headers = bearer["regulator"]
    good = client.get(f"{ACCOUNTS}/{tenants.own_account}{suffix}", headers=headers)
    bad = client.get(
        f"{ACCOUNTS}/{wrong_check_digit(tenants.own_account)}{suffix}", headers=headers
    )
    missing = client.get(f"{ACCOUNTS}/{UNKNOWN_ACCOUNT}{suffix}", headers=headers)

    assert good.status_code == 200
    assert_problem(bad, 422, "validation-failed", pointers={"#/account"})
    assert_problem(missing, 404, "not-found")


def test_enterprise_user_gets_the_same_404_for_another_enterprises_account_as_for_none(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    headers = bearer["enterprise_other"]
    theirs = assert_problem(
        client.get(f"{ACCOUNTS}/{tenants.own_account}", headers=headers), 404, "not-found"
    )
    missing = assert_problem(
        client.get(f"{ACCOUNTS}/{UNKNOWN_ACCOUNT}", headers=headers), 404, "not-found"
    )
    for body in (theirs, missing):
        del body["instance"], body["request_id"]
    # The detail names the number asked for; nothing else may differ.
    assert theirs["detail"].replace(tenants.own_account, "N") == missing["detail"].replace(
        UNKNOWN_ACCOUNT, "N"
    )
    assert {k: v for k, v in theirs.items() if k != "detail"} == {
        k: v for k, v in missing.items() if k != "detail"
    }


# --- transfer limit and status -------------------------------------------------------------


def test_owner_with_the_approver_capability_sets_and_clears_the_per_transfer_limit(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    url, headers = f"{ACCOUNTS}/{tenants.own_account}", bearer["enterprise_own"]

    limited = client.patch(url, json={"transfer_limit": 300}, headers=headers)
    assert limited.status_code == 200
    assert limited.get_json()["transfer_limit"] == 300
    assert client.get(url, headers=headers).get_json()["transfer_limit"] == 300

    cleared = client.patch(url, json={"transfer_limit": None}, headers=headers)
    assert cleared.get_json()["transfer_limit"] is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"transfer_limit": 0}, id="zero"),
        pytest.param({"transfer_limit": -1}, id="negative"),
        pytest.param({"transfer_limit": 1.5}, id="fractional"),
        pytest.param({"transfer_limit": 10**20}, id="past-a-64-bit-column"),
        pytest.param({}, id="missing"),
    ],
)
def test_per_transfer_limit_must_be_a_positive_whole_number_or_null(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], body: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = client.patch(
            f"{ACCOUNTS}/{tenants.own_account}", json=body, headers=bearer["enterprise_own"]
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/transfer_limit"})


def test_enterprise_user_without_the_approver_capability_cannot_set_the_limit(
    app: Flask, client: FlaskClient, session: Session, auth: AuthActions, tenants: Tenants
) -> None:
    clerk = make_user(
        session, role=Role.ENTERPRISE, name="alpha-clerk", enterprise=tenants.own, can_approve=False
    )
    headers = auth.headers(clerk)
    with moves_nothing(app):
        response = client.patch(
            f"{ACCOUNTS}/{tenants.own_account}", json={"transfer_limit": 1}, headers=headers
        )
    assert_problem(response, 422, "four-eyes")


def test_regulator_blocks_and_unblocks_an_account(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    url = f"{ACCOUNTS}/{tenants.own_account}/status"
    blocked = client.post(
        url, json={"status": "blocked", "reason": "涉嫌盗号"}, headers=bearer["regulator"]
    )
    assert blocked.status_code == 200
    assert blocked.get_json()["status"] == "blocked"
    listed = client.get(ACCOUNTS, query_string={"status": "blocked"}, headers=bearer["regulator"])
    assert numbers(listed) == {tenants.own_account}

    reopened = client.post(url, json={"status": "open"}, headers=bearer["regulator"])
    assert reopened.get_json()["status"] == "open"


def test_an_account_that_holds_units_cannot_be_closed(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = client.post(
            f"{ACCOUNTS}/{tenants.other_account}/status",
            json={"status": "closed"},
            headers=bearer["regulator"],
        )
    assert_problem(response, 422, "rule-violation")


def test_an_empty_account_closes_for_good(
    app: Flask, client: FlaskClient, session: Session, bearer: dict[str, Any]
) -> None:
    number = make_enterprise(session, name="北京丙注销有限公司").compliance_account.number
    url = f"{ACCOUNTS}/{number}/status"

    closed = client.post(url, json={"status": "closed"}, headers=bearer["regulator"])

    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    assert closed.get_json()["closed_at"] is not None
    for status in ("open", "blocked"):
        with moves_nothing(app):
            again = client.post(url, json={"status": status}, headers=bearer["regulator"])
        assert_problem(again, 422, "invalid-status-transition")


@pytest.mark.parametrize("number", sorted(GOVERNMENT))
def test_the_governments_own_accounts_cannot_be_closed(
    app: Flask, client: FlaskClient, bearer: dict[str, Any], number: str
) -> None:
    with moves_nothing(app):
        response = client.post(
            f"{ACCOUNTS}/{number}/status", json={"status": "closed"}, headers=bearer["regulator"]
        )
    assert_problem(response, 422, "rule-violation")


def test_account_status_must_be_one_of_open_blocked_closed(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    with moves_nothing(app):
        response = client.post(
            f"{ACCOUNTS}/{tenants.own_account}/status",
            json={"status": "frozen"},
            headers=bearer["regulator"],
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/status"})


# --- holdings ------------------------------------------------------------------------------


def test_holdings_show_quantity_reserved_and_available_per_unit_kind_and_vintage(
    client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    fund(session, tenants.own_account, 40, "ccer", 2023)

    response = client.get(
        f"{ACCOUNTS}/{tenants.own_account}/holdings", headers=bearer["enterprise_own"]
    )

    assert response.status_code == 200
    assert response.get_json() == [
        {
            "unit_kind": "allowance",
            "vintage": VINTAGE,
            "quantity": OWN_FUNDED,
            "reserved": PENDING_QUANTITY,
            "available": OWN_FUNDED - PENDING_QUANTITY,
        },
        {"unit_kind": "ccer", "vintage": 2023, "quantity": 40, "reserved": 0, "available": 40},
    ]


def test_holdings_follow_a_completed_transfer_and_omit_what_is_empty(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    regulator = bearer["regulator"]
    assert holdings_of(client, regulator, RETIREMENT) == {}

    decide(client, bearer["enterprise_own"], tenants.pending_tx_id)

    assert holdings_of(client, regulator, tenants.own_account) == {
        ("allowance", VINTAGE): {
            "quantity": OWN_FUNDED - PENDING_QUANTITY,
            "reserved": 0,
            "available": OWN_FUNDED - PENDING_QUANTITY,
        }
    }
    assert holdings_of(client, regulator, RETIREMENT)[("allowance", VINTAGE)]["quantity"] == (
        PENDING_QUANTITY
    )


# --- statements ----------------------------------------------------------------------------


def test_statement_lists_postings_oldest_first_with_a_running_balance(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    decide(client, own, tenants.pending_tx_id)  # the retirement posts -100

    response = client.get(f"{ACCOUNTS}/{tenants.own_account}/statement", headers=own)

    assert response.status_code == 200
    body = response.get_json()
    assert body["page"] == {"page": 1, "page_size": 50, "total": 3, "pages": 1}
    lines = body["items"]
    assert [(line["kind"], line["quantity"], line["balance"]) for line in lines] == [
        ("allocation", OWN_FUNDED - LAST_ALLOCATION, OWN_FUNDED - LAST_ALLOCATION),
        ("allocation", LAST_ALLOCATION, OWN_FUNDED),
        ("retirement", -PENDING_QUANTITY, OWN_FUNDED - PENDING_QUANTITY),
    ]
    assert [line["counterparty"] for line in lines] == [RESERVE, RESERVE, RETIREMENT]
    assert lines[1]["transaction_id"] == tenants.completed_tx_id
    assert lines[2]["transaction_id"] == tenants.pending_tx_id
    assert lines[2]["memo"] == "自愿注销"
    assert {(line["unit_kind"], line["vintage"]) for line in lines} == {("allowance", VINTAGE)}
    assert [line["posting_id"] for line in lines] == sorted(line["posting_id"] for line in lines)


def test_statement_leaves_out_pending_transactions(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(
        f"{ACCOUNTS}/{tenants.own_account}/statement", headers=bearer["enterprise_own"]
    )
    ids = {line["transaction_id"] for line in response.get_json()["items"]}
    assert tenants.pending_tx_id not in ids
    assert len(ids) == 2


def test_statement_keeps_a_separate_running_balance_per_unit_kind_and_vintage(
    client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    fund(session, tenants.own_account, 30, "ccer", 2023)
    fund(session, tenants.own_account, 7, "allowance", VINTAGE)
    fund(session, tenants.own_account, 5, "ccer", 2023)
    url = f"{ACCOUNTS}/{tenants.own_account}/statement"

    lines = client.get(url, headers=bearer["regulator"]).get_json()["items"]
    ccer = client.get(
        url, query_string={"unit_kind": "ccer", "vintage": 2023}, headers=bearer["regulator"]
    ).get_json()["items"]

    assert [(line["unit_kind"], line["balance"]) for line in lines] == [
        ("allowance", OWN_FUNDED - LAST_ALLOCATION),
        ("allowance", OWN_FUNDED),
        ("ccer", 30),
        ("allowance", OWN_FUNDED + 7),
        ("ccer", 35),
    ]
    assert [(line["quantity"], line["balance"]) for line in ccer] == [(30, 30), (5, 35)]


def test_a_later_statement_page_carries_the_running_balance_of_the_earlier_pages(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(
        f"{ACCOUNTS}/{tenants.own_account}/statement",
        query_string={"page": 2, "page_size": 1},
        headers=bearer["regulator"],
    )
    body = response.get_json()
    assert body["page"] == {"page": 2, "page_size": 1, "total": 2, "pages": 2}
    assert [(line["quantity"], line["balance"]) for line in body["items"]] == [
        (LAST_ALLOCATION, OWN_FUNDED)
    ]


def test_statement_as_csv_is_a_spreadsheet_with_a_header_row_and_one_line_per_posting(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    own = bearer["enterprise_own"]
    decide(client, own, tenants.pending_tx_id)
    url = f"{ACCOUNTS}/{tenants.own_account}/statement"
    as_json = client.get(url, headers=own).get_json()["items"]

    response = client.get(url, query_string={"format": "csv", "page_size": 1}, headers=own)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-{tenants.own_account}.csv"'
    )
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese memo as UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == STATEMENT_COLUMNS
    assert len(rows) == 1 + 3  # every posting, whatever the page size
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [int(r["balance"]) for r in records] == [line["balance"] for line in as_json]
    assert [int(r["quantity"]) for r in records] == [line["quantity"] for line in as_json]
    assert [r["counterparty"] for r in records] == [RESERVE, RESERVE, RETIREMENT]
    assert records[2]["memo"] == "自愿注销"
    assert datetime.fromisoformat(records[0]["completed_at"]) == datetime.fromisoformat(
        as_json[0]["completed_at"]
    )


def test_statement_format_other_than_json_or_csv_is_refused(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(
        f"{ACCOUNTS}/{tenants.own_account}/statement",
        query_string={"format": "xlsx"},
        headers=bearer["regulator"],
    )
    assert_problem(response, 422, "validation-failed", pointers={"#/query/format"})


# --- trusted-account lists -----------------------------------------------------------------


def test_trusted_list_shows_the_pending_entry_with_who_proposed_it(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(trusted_url(tenants), headers=bearer["auditor"])

    assert response.status_code == 200
    [entry] = response.get_json()
    assert entry["id"] == tenants.trust_entry_id
    assert entry["account_number"] == tenants.other_account
    assert entry["status"] == "pending"
    assert entry["requested_by"] == "alpha-2"
    assert entry["decided_by"] is None


def test_proposed_trusted_account_takes_effect_only_when_a_second_user_approves_it(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    alpha, alpha_2 = bearer["enterprise_own"], bearer["enterprise_own_second"]

    proposed = client.post(trusted_url(tenants), json={"account_number": AUCTION}, headers=alpha)

    assert proposed.status_code == 201, proposed.get_data(as_text=True)
    entry = proposed.get_json()
    assert (entry["account_number"], entry["status"], entry["requested_by"]) == (
        AUCTION,
        "pending",
        "alpha",
    )
    with moves_nothing(app):
        own_approval = client.post(trusted_url(tenants, f"/{entry['id']}/approve"), headers=alpha)
    assert_problem(own_approval, 422, "four-eyes")

    approved = client.post(trusted_url(tenants, f"/{entry['id']}/approve"), headers=alpha_2)

    assert approved.status_code == 200
    assert approved.get_json()["status"] == "active"
    assert approved.get_json()["decided_by"] == "alpha-2"
    listed = {
        e["account_number"]: e["status"]
        for e in client.get(trusted_url(tenants), headers=alpha).get_json()
    }
    assert listed == {tenants.other_account: "pending", AUCTION: "active"}


def test_approving_a_trusted_entry_twice_is_a_conflict(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    url = trusted_url(tenants, f"/{tenants.trust_entry_id}/approve")
    assert client.post(url, headers=bearer["enterprise_own"]).status_code == 200

    with moves_nothing(app):
        again = client.post(url, headers=bearer["enterprise_own"])

    assert_problem(again, 409, "conflict")


def test_rejected_trusted_entry_may_be_proposed_again_and_is_pending_once_more(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    rejected = client.post(
        trusted_url(tenants, f"/{tenants.trust_entry_id}/reject"), headers=bearer["enterprise_own"]
    )
    assert rejected.get_json()["status"] == "rejected"

    again = client.post(
        trusted_url(tenants),
        json={"account_number": tenants.other_account},
        headers=bearer["enterprise_own"],
    )

    assert again.status_code == 201
    assert again.get_json()["status"] == "pending"
    assert again.get_json()["requested_by"] == "alpha"
    assert again.get_json()["decided_by"] is None


@pytest.mark.parametrize(
    ("target", "status", "slug", "pointers"),
    [
        pytest.param("other", 409, "conflict", {"#/account_number"}, id="already pending"),
        pytest.param("own", 409, "conflict", {"#/account_number"}, id="the account itself"),
        pytest.param(UNKNOWN_ACCOUNT, 404, "not-found", {"#/account_number"}, id="unknown"),
        pytest.param(
            "wrong-check-digit",
            422,
            "validation-failed",
            {"#/account_number"},
            id="wrong check digit",
        ),
    ],
)
def test_trusted_account_proposal_that_cannot_be_added_is_refused_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    tenants: Tenants,
    bearer: dict[str, Any],
    target: str,
    status: int,
    slug: str,
    pointers: set[str],
) -> None:
    number = {
        "other": tenants.other_account,
        "own": tenants.own_account,
        "wrong-check-digit": wrong_check_digit(tenants.other_account),
    }.get(target, target)

    with moves_nothing(app):
        response = client.post(
            trusted_url(tenants), json={"account_number": number}, headers=bearer["enterprise_own"]
        )

    assert_problem(response, status, slug, pointers=pointers)


def test_trusted_entry_reached_through_another_accounts_url_is_not_found(
    app: Flask, client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    url = f"{ACCOUNTS}/{tenants.other_account}/trusted-accounts/{tenants.trust_entry_id}/approve"
    with moves_nothing(app):
        response = client.post(url, headers=bearer["regulator"])
    assert_problem(response, 404, "not-found")


# --- transactions: list, filters, detail ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, ["pending", "to-other", "completed", "first", "issuance"], id="all"),
        pytest.param({"kind": "allocation"}, ["to-other", "completed", "first"], id="kind"),
        pytest.param({"kind": "issuance"}, ["issuance"], id="kind issuance"),
        pytest.param({"status": "pending_approval"}, ["pending"], id="status pending"),
        pytest.param(
            {"status": "completed"},
            ["to-other", "completed", "first", "issuance"],
            id="status completed",
        ),
        pytest.param({"account": "own"}, ["pending", "completed", "first"], id="account own"),
        pytest.param({"account": "other"}, ["to-other"], id="account other"),
        pytest.param({"account": RETIREMENT}, ["pending"], id="account retirement"),
        pytest.param(
            {"account": "own", "kind": "allocation"}, ["completed", "first"], id="account and kind"
        ),
        pytest.param({"status": "rejected"}, [], id="no match"),
    ],
)
def test_transaction_list_filters_by_account_kind_and_status_newest_first(
    client: FlaskClient,
    tenants: Tenants,
    bearer: dict[str, Any],
    query: dict[str, str],
    expected: list[str],
) -> None:
    ids = {
        "issuance": tenants.completed_tx_id - 2,
        "first": tenants.completed_tx_id - 1,
        "completed": tenants.completed_tx_id,
        "to-other": tenants.completed_tx_id + 1,
        "pending": tenants.pending_tx_id,
    }
    accounts = {"own": tenants.own_account, "other": tenants.other_account}
    query = {k: accounts.get(v, v) for k, v in query.items()}

    response = client.get(TRANSACTIONS, query_string=query, headers=bearer["regulator"])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert [tx["id"] for tx in response.get_json()["items"]] == [ids[name] for name in expected]
    assert response.get_json()["page"]["total"] == len(expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("enterprise_own", "own"),
        ("enterprise_other", "other"),
    ],
)
def test_enterprise_user_lists_only_transactions_touching_its_own_accounts(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any], role: str, expected: str
) -> None:
    number = tenants.own_account if expected == "own" else tenants.other_account

    items = client.get(TRANSACTIONS, headers=bearer[role]).get_json()["items"]

    assert items
    assert all(number in (tx["from_account"], tx["to_account"]) for tx in items)
    assert len(items) == (3 if expected == "own" else 1)


def test_transaction_list_time_range_includes_since_and_excludes_until(
    client: FlaskClient, clock: FixedClock, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    start = clock.now()
    clock.advance(timedelta(hours=2))
    later = post_transfer(
        client, bearer["enterprise_own"], transfer_body(tenants.own_account, RETIREMENT, 5)
    ).get_json()
    after = clock.now()

    def ids(**query: datetime) -> list[int]:
        response = client.get(
            TRANSACTIONS,
            query_string={k: v.isoformat() for k, v in query.items()},
            headers=bearer["regulator"],
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return [tx["id"] for tx in response.get_json()["items"]]

    assert ids(since=after) == [later["id"]]  # inclusive
    assert ids(until=after) == ids(until=start + timedelta(hours=1))  # exclusive
    assert later["id"] not in ids(until=after)
    assert len(ids(until=after)) == 5
    assert ids(since=start, until=start + timedelta(hours=1)) == ids(until=after)
    assert ids(since=after + timedelta(seconds=1)) == []


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        pytest.param({"kind": "gift"}, "#/query/kind", id="unknown kind"),
        pytest.param({"status": "lost"}, "#/query/status", id="unknown status"),
        pytest.param({"since": "yesterday"}, "#/query/since", id="not a time"),
        pytest.param({"since": "2026-06-01T10:00:00"}, "#/query/since", id="time without zone"),
        pytest.param({"account": "BJ1"}, "#/query/account", id="not an account number"),
    ],
)
def test_transaction_list_refuses_a_bad_filter_with_422_naming_the_parameter(
    client: FlaskClient, bearer: dict[str, Any], query: dict[str, str], pointer: str
) -> None:
    response = client.get(TRANSACTIONS, query_string=query, headers=bearer["regulator"])
    assert_problem(response, 422, "validation-failed", pointers={pointer})


def test_transaction_detail_of_a_pending_transfer_names_both_accounts_and_its_deadline(
    client: FlaskClient, clock: FixedClock, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    response = client.get(
        f"{TRANSACTIONS}/{tenants.pending_tx_id}", headers=bearer["enterprise_own"]
    )

    assert response.status_code == 200
    tx = response.get_json()
    assert tx["id"] == tenants.pending_tx_id
    assert (tx["kind"], tx["status"]) == ("retirement", "pending_approval")
    assert (tx["from_account"], tx["to_account"]) == (tenants.own_account, RETIREMENT)
    assert (tx["unit_kind"], tx["vintage"], tx["quantity"]) == (
        "allowance",
        VINTAGE,
        PENDING_QUANTITY,
    )
    assert tx["initiated_by"] == "alpha-2"
    assert datetime.fromisoformat(tx["created_at"]) == clock.now()
    assert datetime.fromisoformat(tx["expires_at"]) == clock.now() + timedelta(hours=72)
    assert (tx["completed_at"], tx["seq"], tx["hash"], tx["execute_after"]) == (None,) * 4
    assert len(tx["uuid"]) == 36


def test_completed_transactions_carry_consecutive_seqs_and_distinct_chain_hashes(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    completed = client.get(
        TRANSACTIONS, query_string={"status": "completed"}, headers=bearer["regulator"]
    ).get_json()["items"]

    # Within each chain the numbers run on without a gap; chain c numbers from
    # (c - 1) × 10^15 + 1.
    by_chain: dict[int, list[int]] = {}
    for tx in completed:
        by_chain.setdefault(tx["chain"], []).append(tx["seq"])
    for chain, seqs in by_chain.items():
        start = (chain - 1) * 10**15 + 1
        assert sorted(seqs) == list(range(start, start + len(seqs)))
    assert len({tx["hash"] for tx in completed}) == len(completed)
    assert all(len(tx["hash"]) == 64 for tx in completed)


def test_transaction_of_another_enterprise_is_the_same_404_as_a_missing_one(
    client: FlaskClient, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    headers = bearer["enterprise_other"]
    theirs = assert_problem(
        client.get(f"{TRANSACTIONS}/{tenants.pending_tx_id}", headers=headers), 404, "not-found"
    )
    missing = assert_problem(
        client.get(f"{TRANSACTIONS}/987654", headers=headers), 404, "not-found"
    )
    for body in (theirs, missing):
        del body["instance"], body["request_id"], body["detail"]
    assert theirs == missing


# --- the unit catalogue --------------------------------------------------------------------


def test_unit_kind_catalogue_is_public_and_lists_allowance_ccers_and_local_offset(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/catalogues/unit-kinds")

    assert response.status_code == 200
    kinds = {k["code"]: k for k in response.get_json()}
    # ccer_outside: a CCER from a project outside the jurisdiction (compliance, 0012).
    assert set(kinds) == {"allowance", "ccer", "ccer_outside", "local_offset"}
    assert kinds["allowance"]["is_offset"] is False
    assert kinds["ccer"]["is_offset"] is True
    assert kinds["ccer_outside"]["is_offset"] is True
    assert all(k["label_zh"] and k["label_en"] for k in kinds.values())


def test_statement_csv_quotes_a_memo_a_spreadsheet_would_run_as_a_formula(
    client: FlaskClient, session: Session, tenants: Tenants, bearer: dict[str, Any]
) -> None:
    # A memo is free text: "=HYPERLINK(…)" opened in Excel would run. It is written with a
    # leading apostrophe (shown as text); the negative quantity of the same line stays a
    # number, so the column still adds up.
    memo = '=HYPERLINK("http://127.0.0.1/x","点此")'
    ledger.request_transfer(
        session, Actor.system(), from_account=tenants.own_account,
        to_account=GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT], unit_kind="allowance",
        vintage=VINTAGE, quantity=5, memo=memo,
    )  # fmt: skip
    session.commit()
    url = f"{ACCOUNTS}/{tenants.own_account}/statement"

    text = client.get(url, query_string={"format": "csv"}, headers=bearer["regulator"]).get_data()

    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8").removeprefix("\ufeff"))))
    [line] = [r for r in rows if "HYPERLINK" in r["memo"]]
    assert line["memo"] == "'" + memo
    assert line["quantity"] == "-5"
    as_json = client.get(url, headers=bearer["regulator"], query_string={"page_size": 50})
    assert memo in [item["memo"] for item in as_json.get_json()["items"]]  # the data as typed
