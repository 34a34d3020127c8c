"""The web blueprint, its request hooks and its error pages."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFProtect
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.kernel.access.policy import is_allowed
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import (
    DomainError,
    FieldError,
    NotAuthenticated,
    ValidationFailed,
    marshmallow_errors,
)
from carbon_market.kernel.pagination import Page, PageRequest
from carbon_market.kernel.schemas import MAX_PAGE

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Rows per page of the web's tables.
PAGE_SIZE = 50

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)


csrf = CSRFProtect()


@bp.before_request
def _protect_forms() -> None:
    """Every form the web UI receives carries its CSRF token (the API, bearer-only, is not
    checked: ``WTF_CSRF_CHECK_DEFAULT`` is off)."""
    if request.method == "POST":
        csrf.protect()


#: The web pages' Content-Security-Policy: nothing but this site's stylesheet, no script at
#: all (the pages need none), forms posted here only, and no framing (clickjacking).
#: ``{styles}``: the stylesheet, and the nonce of the charts' inline ``<style>`` elements
#: when the page has charts (``csp_nonce``).
CSP = (
    "default-src 'none'; style-src {styles}; img-src 'self'; script-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def csp_nonce() -> str:
    """This response's nonce for inline ``<style>`` elements (pygal's charts carry theirs
    inline), fresh for each response; a page that never asks allows no inline style."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


@bp.after_request
def _security_headers(response: Response) -> Response:
    """Every web response: not framed, not sniffed, no script, no referrer to other sites;
    and, but for the static stylesheet, never stored by a browser or a proxy (the pages
    show a signed-in user's holdings, and the back button must not show them after
    signing out)."""
    styles = "'self'" + (f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "")
    response.headers["Content-Security-Policy"] = CSP.format(styles=styles)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
    return response


#: The navigation: (endpoint, label, the permission a user needs to see the link). A link
#: a role may not follow is not shown (the page would refuse); nor is one to a page this
#: app does not have.
NAV: list[tuple[str, str, str | None]] = [
    ("web.dashboard", "Start 首页", None),
    ("web.accounts", "Accounts 账户", "account.read"),
    ("web.transactions", "Transactions 交易", "ledger.read"),
    ("web.reports", "Reports 排放报告", "reports.read"),
    ("web.compliance", "Compliance 履约", "compliance.read_year"),
    ("web.market", "Market 市场", "market.stats"),
    ("web.projects", "Climate finance 气候投融资", "finance.read"),
]


def nav_links(actor: Actor) -> list[tuple[str, str]]:
    """The links ``actor`` may follow, of the pages this app has."""
    built = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label, need in NAV
        if endpoint in built and (need is None or is_allowed(actor, need))
    ]


@bp.app_template_global()
def page_href(number: int) -> str:
    """The link to page ``number`` of the table on this page, its filters kept (a global:
    the pager macro is imported without the page's context)."""
    args = {key: value for key, value in request.args.items() if key != "page"}
    return "?" + urlencode({**args, "page": number})


@bp.context_processor
def _navigation() -> dict[str, Any]:
    # ``is_allowed``: so that a page links only where the user's role may follow.
    return {"nav_links": nav_links, "is_allowed": is_allowed}


def query_args(schema: Schema, names: Iterable[str], **defaults: Any) -> dict[str, Any]:
    """The filters of a page's GET form, read by the API's own query schema: the same values
    are accepted, and a bad one is refused with the API's message (422, as
    ``#/query/<name>``). An empty field counts as left out, so ``defaults`` apply."""
    given = {name: request.args[name] for name in names if request.args.get(name, "").strip()}
    return _load(schema, {**defaults, **given}, "#/query", "{n} field(s) are invalid.")


def load_form(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """A POST form's fields read by the API's own body schema: the same values are accepted
    and the same ones refused, with the API's pointers (``#/verified_co2_t``) and status
    (ValidationFailed, 422)."""
    return _load(schema, data, "#", "{n} field(s) are invalid; nothing was changed")


def _load(schema: Schema, data: dict[str, Any], prefix: str, detail: str) -> dict[str, Any]:
    """``schema.load(data)``, or ValidationFailed with one error per message, pointed
    below ``prefix``; ``detail`` says how many (``{n}``)."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        errors = marshmallow_errors(exc.messages, prefix)
        raise ValidationFailed(detail.format(n=len(errors)), errors=errors) from exc
    return loaded


@bp.errorhandler(NotAuthenticated)
def _sign_in_again(_exc: NotAuthenticated) -> Response:
    """An expired or revoked session token: back to the sign-in page, then here again."""
    return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))  # type: ignore[return-value]


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    return _error_page(exc.status, exc.title, exc.detail, exc.errors)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    return _error_page(exc.code or 500, exc.name, exc.description or "")


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[str, int]:
    """A failure of the server's own: logged with the request id, which the page shows so
    that a user can quote it (the API answers the same with problem+json)."""
    log.error("unhandled error in request %s", g.get("request_id"), exc_info=exc)
    detail = (
        "The server failed to show this page; it has been logged as request "
        f"{g.get('request_id', '')}."
    )
    return _error_page(500, "Internal error", detail)


def _error_page(
    status: int, title: str, detail: str, errors: list[FieldError] | None = None
) -> tuple[str, int]:
    page = render_template(
        "web/error.html", status=status, title=title, detail=detail, errors=errors or []
    )
    return page, status


def render(template: str, **context: Any) -> str:
    """A page of the web UI, with the signed-in user (``actor``) for the navigation."""
    return render_template(f"web/{template}", actor=web_actor(), **context)


def requested_page() -> PageRequest:
    """The ``?page=`` of a table: a bad, missing or out-of-range value is the first page
    (a page past the API's bound would only overflow the database's OFFSET)."""
    number = request.args.get("page", "1")
    # ASCII digits only ("²" is a digit to isdigit(), not to int()), and few enough of them
    # that int() never meets Python's limit on the digits it converts.
    plain = number.isascii() and number.isdigit() and len(number) <= len(str(MAX_PAGE))
    valid = plain and 0 < int(number) <= MAX_PAGE
    return PageRequest(page=int(number) if valid else 1, page_size=PAGE_SIZE)


def page_of_rows(rows: Sequence[T], page: PageRequest) -> Page[T]:
    """One page of a list a service returns whole (the compliance status table), shaped
    like a paginated service's answer so that the same pager shows it."""
    items = rows[page.offset : page.offset + page.page_size]
    return Page(items=list(items), total=len(rows), request=page)


def query_filters(schema: Schema, names: Sequence[str]) -> dict[str, Any]:
    """A table's filters ``names`` from the query string, parsed by the API's own query
    schema: the web accepts and refuses the same values (a refusal is the 422 page naming
    the parameter). An empty parameter is no filter (the "all" links send none)."""
    given = {name: request.args[name] for name in names if request.args.get(name)}
    try:
        loaded = schema.load(given)
    except ValidationError as exc:
        messages = exc.messages_dict
        errors = [FieldError(f"#/query/{name}", " ".join(map(str, problems)))
                  for name, problems in messages.items()]  # fmt: skip
        detail = "; ".join(f"{e.pointer.removeprefix('#/query/')}: {e.detail}" for e in errors)
        raise ValidationFailed(detail, errors=errors) from None
    return {name: loaded[name] for name in given}
