"""The web UI's defences in depth: where a sign-in may send the browser, the headers every
page carries (framing, scripts, caching), and charts that need no inline script."""

from __future__ import annotations

import re

import pytest

from tests.api.helpers import moves_nothing
from tests.web.test_market_pages import trades  # noqa: F401  (the market page's fixture)
from tests.web.test_transactions_pages import _fields, _transfer_form

#: Targets a browser would read as another host: it drops tabs and newlines from a URL and
#: reads a backslash as a slash, so each of these would become ``//evil.example``.
DISGUISED = ("/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil.example",
             "/\\/evil.example", " //evil.example")  # fmt: skip


@pytest.mark.parametrize("target", DISGUISED)
def test_a_disguised_other_host_is_never_followed_after_signing_in(sign_in, tenants, target):
    response = sign_in("alpha", next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_path_with_a_query_is_still_followed_after_signing_in(sign_in, tenants):
    response = sign_in("alpha", next="/transactions?status=completed&page=2")

    assert response.headers["Location"] == "/transactions?status=completed&page=2"


def _csp(response) -> dict[str, str]:
    """The Content-Security-Policy's directives: {name: its sources}."""
    policy = response.headers["Content-Security-Policy"]
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


@pytest.mark.parametrize("path", ["/signin", "/", "/accounts", "/transactions/999999"])
def test_every_page_refuses_framing_scripts_and_caching(client, sign_in, tenants, path):
    sign_in("alpha")

    response = client.get(path)

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in response.headers["Cache-Control"]
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_the_sign_in_refusal_and_redirects_carry_the_headers_too(client, sign_in, tenants):
    refused = sign_in("alpha", password="not-the-password")
    signed_out = client.get("/accounts")

    for response in (refused, signed_out):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "no-store" in response.headers["Cache-Control"]


def test_the_stylesheet_may_be_cached_but_not_sniffed(client):
    response = client.get("/static/web/web.css")
    response.close()

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_is_left_to_its_own_headers(client, tenants):
    response = client.get("/api/v1/accounts")

    assert "Content-Security-Policy" not in response.headers


def test_the_charts_run_no_script_and_their_styles_carry_the_page_s_nonce(
    client,
    sign_in,
    trades,  # noqa: F811
):
    sign_in("alpha")

    response = client.get("/market")
    html = response.get_data(as_text=True)

    assert html.count('class="pygal-chart"') == 2
    assert "<script" not in html  # pygal's inline config script: blocked by CSP anyway
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["style-src"])
    assert nonce, "the page's styles need a nonce for the charts' <style> elements"
    styles = re.findall(r"<style\b[^>]*>", html)
    assert len(styles) == 2
    assert all(f'nonce="{nonce.group(1)}"' in style for style in styles)
    assert ' style="' not in html  # a style attribute would need 'unsafe-inline'
    again = _csp(client.get("/market"))["style-src"]
    assert again != _csp(response)["style-src"]  # a fresh nonce each response


def test_a_transfer_form_naming_another_enterprise_s_account_moves_nothing(
    client, sign_in, tenants, app
):
    """The form offers alpha's own accounts only; a hand-made form naming beta's account as
    the source is the service's 404 (as unknown), and nothing moves."""
    sign_in("alpha")
    hidden = _transfer_form(client)

    with moves_nothing(app):
        response = client.post(
            "/transfers/new",
            data={**hidden, **_fields(tenants, from_account=tenants.other_account,
                                      to_account=tenants.own_account)},
        )  # fmt: skip

    assert response.status_code == 404
    assert "Transfer requested" not in response.get_data(as_text=True)


def test_another_user_s_idempotency_key_is_a_transfer_of_their_own_not_a_replay(
    client, sign_in, tenants
):
    """Keys are scoped per user: beta sending alpha's key neither replays alpha's transaction
    (which would show it to beta) nor is refused as reused."""
    sign_in("alpha")
    hidden = _transfer_form(client)
    first = client.post("/transfers/new", data={**hidden, **_fields(tenants)})
    assert first.status_code == 303
    client.post("/signout", data={"csrf_token": hidden["csrf_token"]})

    sign_in("beta")
    beta_hidden = {**_transfer_form(client), "idempotency_key": hidden["idempotency_key"]}
    fields = _fields(tenants, from_account=tenants.other_account, to_account=tenants.own_account)
    second = client.post("/transfers/new", data={**beta_hidden, **fields})

    assert second.status_code == 303
    assert second.headers["Location"] != first.headers["Location"]
    assert "already sent" not in client.get(second.headers["Location"]).get_data(as_text=True)
