"""Signing in and out of the web UI: a one-day API token in the signed session cookie."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from carbon_market import create_app
from carbon_market.kernel.auth.models import ApiToken
from tests.web.conftest import csrf_token


def test_a_page_without_a_sign_in_sends_the_browser_to_the_sign_in_form(client):
    response = client.get("/accounts")

    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/accounts"
    form = client.get("/signin?next=/accounts")
    assert form.status_code == 200
    assert 'name="next" value="/accounts"' in form.get_data(as_text=True)


def test_signing_in_issues_a_web_token_and_goes_where_the_user_was_headed(
    client, sign_in, tenants, session
):
    response = sign_in("alpha", next="/accounts")

    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts"
    token = session.scalars(select(ApiToken).where(ApiToken.label == "web")).one()
    assert token.revoked_at is None
    start = client.get("/").get_data(as_text=True)
    assert "Welcome, alpha" in start
    assert "enterprise" in start


def test_a_wrong_password_is_401_with_the_form_again_and_no_sign_in(client, sign_in, tenants):
    response = sign_in("alpha", password="not-the-password")

    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_a_form_without_its_csrf_token_is_refused(client, tenants):
    response = client.post("/signin", data={"name": "alpha", "password": "correct-horse-battery"})

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_only_a_path_on_this_site_is_followed_after_signing_in(sign_in, tenants):
    for target in ("https://evil.example/", "//evil.example/x"):
        response = sign_in("alpha", next=target)
        assert response.headers["Location"] == "/"


def test_signing_out_revokes_the_token(client, sign_in, tenants, session):
    sign_in("alpha")

    response = client.post("/signout", data={"csrf_token": csrf_token(client, "/")})

    assert response.status_code == 302
    assert response.headers["Location"] == "/signin"
    session.expire_all()
    token = session.scalars(select(ApiToken).where(ApiToken.label == "web")).one()
    assert token.revoked_at is not None
    assert client.get("/").status_code == 302


def test_a_revoked_token_ends_the_web_sign_in(client, sign_in, tenants, session):
    sign_in("alpha")
    token = session.scalars(select(ApiToken).where(ApiToken.label == "web")).one()
    token.revoked_at = token.created_at
    session.commit()

    assert client.get("/accounts").headers["Location"] == "/signin?next=/accounts"


def test_web_and_api_failures_count_against_one_limit(config, clock, tenants):
    # 3 failures per address and name: two by the form, one by the API; the fourth
    # attempt, by either door, is 429.
    app = create_app(dataclasses.replace(config, login_rate_limit="3 per minute"), clock=clock)
    client = app.test_client()
    for _ in range(2):
        form = {"name": "alpha", "password": "wrong-password-1", "csrf_token": csrf_token(client)}
        assert client.post("/signin", data=form).status_code == 401
    api = client.post("/api/v1/auth/login", json={"name": "alpha", "password": "wrong-password-1"})
    assert api.status_code == 401

    form = {"name": "alpha", "password": "correct-horse-battery", "csrf_token": csrf_token(client)}
    blocked = client.post("/signin", data=form)

    assert blocked.status_code == 429
    assert "too many failed logins" in blocked.get_data(as_text=True)
    app.extensions["carbon_market.engine"].dispose()


def test_a_failure_of_the_server_is_an_html_page_naming_the_logged_request(
    client, sign_in, tenants, monkeypatch, caplog
):
    from carbon_market.ledger.accounts import service as ledger_accounts

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    sign_in("alpha")
    monkeypatch.setattr(ledger_accounts, "list_accounts", broken)

    response = client.get("/accounts")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    request_id = response.headers["X-Request-ID"]
    assert f"logged as request {request_id}" in response.get_data(as_text=True)
    assert "disk on fire" not in response.get_data(as_text=True)  # no internals shown
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)
