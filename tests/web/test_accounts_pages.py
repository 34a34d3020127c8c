"""The web UI's accounts: the same services, tenancy and figures as the API."""

from __future__ import annotations

import csv
import io

from carbon_market.kernel.access.roles import Actor
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.numbers import make_account_number
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from tests.api.helpers import OWN_FUNDED, VINTAGE


def test_an_enterprise_user_sees_only_its_own_accounts(client, sign_in, tenants):
    sign_in("alpha")

    page = client.get("/accounts").get_data(as_text=True)

    assert tenants.own_account in page
    assert tenants.other_account not in page
    assert "北京甲热电有限公司" in page


def test_another_tenants_account_is_the_same_404_page_as_a_missing_one(client, sign_in, tenants):
    sign_in("alpha")

    theirs = client.get(f"/accounts/{tenants.other_account}")
    missing = client.get(f"/accounts/{make_account_number('10', 9_876_543_210)}")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.mimetype == "text/html"
    assert tenants.other_account in theirs.get_data(as_text=True)  # "no account <number>"


def test_the_account_page_shows_holdings_and_running_balances(client, sign_in, tenants):
    sign_in("regulator")

    page = client.get(f"/accounts/{tenants.own_account}").get_data(as_text=True)

    assert f"{OWN_FUNDED:,}" in page  # held, formatted with thousands separators
    assert f"allowance {VINTAGE}" in page
    assert "Download as CSV" in page


def test_a_role_without_registry_access_has_no_accounts_link_and_is_refused(
    client, sign_in, tenants
):
    sign_in("verifier")

    start = client.get("/").get_data(as_text=True)
    refused = client.get("/accounts")

    assert 'href="/accounts"' not in start
    assert refused.status_code == 403
    assert "may not perform account.read" in refused.get_data(as_text=True)


def test_the_statement_csv_is_the_api_s(client, sign_in, tenants, headers_for):
    sign_in("alpha")

    web = client.get(f"/accounts/{tenants.own_account}/statement.csv")
    api = client.get(
        f"/api/v1/accounts/{tenants.own_account}/statement?format=csv",
        headers=headers_for("enterprise_own"),
    )

    assert web.status_code == 200
    assert web.mimetype == "text/csv"
    assert web.get_data() == api.get_data()
    rows = list(csv.DictReader(io.StringIO(web.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[-1]["balance"] == str(OWN_FUNDED)


def test_text_from_users_is_escaped_in_pages(client, sign_in, tenants, session):
    ledger.request_transfer(
        session, Actor.system(), from_account=tenants.own_account,
        to_account=GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT], unit_kind="allowance",
        vintage=VINTAGE, quantity=1, memo="<script>alert(1)</script>",
    )  # fmt: skip
    session.commit()
    sign_in("alpha")

    page = client.get(f"/accounts/{tenants.own_account}").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
