"""Failed logins are rate-limited: a password cannot be guessed at speed (auth/throttle.py).

Only failures count; after the limit every attempt from that address for that name is 429,
the right password included, until the window passes. Limits come from the environment.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from carbon_market import create_app
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth.models import ApiToken
from carbon_market.kernel.config import ConfigError, load_config
from tests.api.helpers import assert_problem
from tests.factories import PASSWORD, make_user

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def throttled(config, clock):
    """An app allowing 3 failed logins per address and name, 5 per address."""

    def build(**limits):
        settings = {
            "login_rate_limit": "3 per minute",
            "login_rate_limit_per_address": "5 per minute",
        }
        app = create_app(dataclasses.replace(config, **{**settings, **limits}), clock=clock)
        return app, app.test_client()

    return build


def _login(client, name, password, address="10.0.0.1"):
    return client.post(
        LOGIN, json={"name": name, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_after_the_limit_of_failures_even_the_right_password_waits(throttled, session):
    make_user(session, role=Role.REGULATOR, name="alpha")
    session.commit()
    app, client = throttled()

    failures = [_login(client, "alpha", "wrong-password-1").status_code for _ in range(3)]
    blocked = _login(client, "alpha", PASSWORD)

    assert failures == [401, 401, 401]
    body = assert_problem(blocked, 429, "too-many-requests")
    assert int(blocked.headers["Retry-After"]) > 0
    assert body["detail"] == (
        "too many failed logins from this address; try again after Retry-After seconds"
    )
    # Nothing was issued to the blocked attempt.
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
    # Another address is not held back for the same name.
    assert _login(client, "alpha", PASSWORD, address="10.0.0.2").status_code == 201
    app.extensions["carbon_market.engine"].dispose()


def test_successful_logins_do_not_count(throttled, session):
    make_user(session, role=Role.REGULATOR, name="alpha")
    session.commit()
    app, client = throttled()

    statuses = [_login(client, "alpha", PASSWORD).status_code for _ in range(6)]

    assert statuses == [201] * 6
    app.extensions["carbon_market.engine"].dispose()


def test_many_names_from_one_address_hit_the_per_address_limit(throttled, session):
    app, client = throttled()

    # Two names, 3 failures allowed each, but 5 per address in all: the sixth is refused.
    statuses = [_login(client, name, "wrong-password-1").status_code for name in "aabbbc"]

    assert statuses == [401, 401, 401, 401, 401, 429]
    app.extensions["carbon_market.engine"].dispose()


def test_off_turns_the_limits_off(throttled, session):
    app, client = throttled(login_rate_limit=None, login_rate_limit_per_address=None)

    statuses = {_login(client, "nobody", "wrong-password-1").status_code for _ in range(12)}

    assert statuses == {401}
    assert "carbon_market.limiter" not in app.extensions
    app.extensions["carbon_market.engine"].dispose()


def test_the_limits_are_read_from_the_environment_and_checked(tmp_path):
    base = {
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": "k" * 40,
        "CARBON_MARKET_INSTANCE": str(tmp_path),
    }

    defaults = load_config(base)
    chosen = load_config(
        {**base, "LOGIN_RATE_LIMIT": "5/second", "LOGIN_RATE_LIMIT_PER_ADDRESS": "off"}
    )

    assert (defaults.login_rate_limit, defaults.login_rate_limit_per_address) == (
        "10 per minute",
        "50 per minute",
    )
    assert defaults.ratelimit_storage_uri == "memory://"
    assert (chosen.login_rate_limit, chosen.login_rate_limit_per_address) == ("5/second", None)
    with pytest.raises(ConfigError, match="LOGIN_RATE_LIMIT must be like"):
        load_config({**base, "LOGIN_RATE_LIMIT": "ten a minute"})
