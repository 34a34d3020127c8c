"""Opening trading accounts for non-covered participants, and the unit catalogue."""

from __future__ import annotations

from carbon_market.ledger.accounts.numbers import is_valid_account_number
from tests.api.helpers import assert_problem, writes_nothing

ACCOUNTS = "/api/v1/accounts"
UNIT_KINDS = "/api/v1/catalogues/unit-kinds"


def test_regulator_opens_a_trading_account_with_a_valid_number(client, auth, regulator):
    response = client.post(
        ACCOUNTS,
        json={"kind": "trading", "holder_name": "北京某投资有限公司"},
        headers=auth.headers(regulator),
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "trading"
    assert body["status"] == "open"
    assert body["owner"] == "北京某投资有限公司"
    assert body["number"].startswith("BJ20")
    assert is_valid_account_number(body["number"])
    listed = client.get(
        ACCOUNTS, query_string={"kind": "trading"}, headers=auth.headers(regulator)
    ).get_json()
    assert [a["number"] for a in listed["items"]] == [body["number"]]


def test_only_trading_accounts_are_opened_by_hand_and_a_refusal_opens_nothing(
    app, client, auth, regulator
):
    headers = auth.headers(regulator)  # issuing the token writes; the request must not
    with writes_nothing(app):
        response = client.post(
            ACCOUNTS, json={"kind": "enterprise_compliance", "holder_name": "x"}, headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/kind"})


def test_a_blank_holder_name_is_refused(app, client, auth, regulator):
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            ACCOUNTS, json={"kind": "trading", "holder_name": "   "}, headers=headers
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/holder_name"})


def test_regulator_adds_a_unit_kind_that_transfers_can_then_use(client, auth, regulator):
    response = client.post(
        UNIT_KINDS,
        json={"code": "forest_offset", "label_zh": "林业碳汇", "label_en": "Forestry offset"},
        headers=auth.headers(regulator),
    )

    assert response.status_code == 201
    assert response.get_json()["is_offset"] is True
    codes = [u["code"] for u in client.get(UNIT_KINDS).get_json()]
    assert codes == ["allowance", "ccer", "ccer_outside", "forest_offset", "local_offset"]
    issued = client.post(
        "/api/v1/issuances",
        json={"unit_kind": "forest_offset", "vintage": 2025, "quantity": 10},
        headers=auth.headers(regulator),
    )
    assert issued.status_code == 201


def test_a_duplicate_unit_kind_is_a_conflict_and_changes_nothing(app, client, auth, regulator):
    headers = auth.headers(regulator)
    with writes_nothing(app):
        response = client.post(
            UNIT_KINDS,
            json={"code": "ccer", "label_zh": "重复", "label_en": "Duplicate"},
            headers=headers,
        )
    assert_problem(response, 409, "conflict", pointers={"#/code"})
