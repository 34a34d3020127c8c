"""Fixtures for the web UI's tests: the API tests' tenants, and a browser-like sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.conftest import (  # noqa: F401  (the API tests' tenants and tokens)
    bearer,
    headers_for,
    tenants,
)
from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/signin") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def sign_in(client: FlaskClient) -> Callable[..., TestResponse]:
    """``sign_in("alpha")``: fill in and send the sign-in form."""

    def send(name: str, password: str = PASSWORD, **extra: str) -> TestResponse:
        form = {"name": name, "password": password, "csrf_token": csrf_token(client), **extra}
        return client.post("/signin", data=form)

    return send
