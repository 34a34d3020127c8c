"""The pages: each a thin caller of the services the API calls, with the signed-in actor."""

from __future__ import annotations

from flask import Response

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.views import bp, render, requested_page
from carbon_market.kernel.access.policy import is_allowed
from carbon_market.kernel.http import csv_response, db_session
from carbon_market.kernel.pagination import PageRequest
from carbon_market.ledger import queries
from carbon_market.ledger.accounts import service as accounts


@bp.get("/")
def dashboard() -> str:
    """Where a user lands: their role's sections, and the accounts they may see."""
    actor = web_actor()
    shown = None
    if is_allowed(actor, "account.read"):
        shown = accounts.list_accounts(
            db_session(), actor, filters=accounts.AccountFilter(), page=PageRequest(1, 10)
        )
    return render("dashboard.html", accounts=shown)


@bp.get("/accounts", endpoint="accounts")
def account_list() -> str:
    page = accounts.list_accounts(
        db_session(), web_actor(), filters=accounts.AccountFilter(), page=requested_page()
    )
    return render("accounts.html", page=page)


@bp.get("/accounts/<number>", endpoint="account")
def account_detail(number: str) -> str:
    """Holdings and the statement (running balances), a page of postings at a time."""
    session, actor = db_session(), web_actor()
    account = accounts.get_account(session, actor, number)
    holdings = accounts.list_holdings(session, actor, number)
    page = requested_page()
    lines, total = queries.statement(session, actor, number, page=page)
    pages = max(1, -(-total // page.page_size))
    return render(
        "account.html", account=account, holdings=holdings, lines=lines, page=page.page,
        pages=pages, total=total,
    )  # fmt: skip


@bp.get("/accounts/<number>/statement.csv")
def statement_csv(number: str) -> Response:
    """The whole statement as the API's CSV (same columns, same spreadsheet safety)."""
    lines, _total = queries.statement(db_session(), web_actor(), number, page=None)
    return csv_response(queries.statement_csv(lines), f"statement-{number}.csv")
