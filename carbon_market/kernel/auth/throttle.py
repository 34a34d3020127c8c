"""Failed logins are rate-limited (Flask-Limiter), so a password cannot be guessed at speed.

Only failures count (``deduct_when`` a 401): a user who logs in often is never slowed, but
after ``LOGIN_RATE_LIMIT`` failures for one name from one address, or
``LOGIN_RATE_LIMIT_PER_ADDRESS`` failures from one address whatever the names, every login
attempt from there is 429 (problem+json, with ``Retry-After``) until the window passes, the
right password included, so that the limit cannot be probed. The limiter belongs to its app
(each ``create_app`` its own counts); with ``memory://`` each server process counts apart,
so N gunicorn workers allow up to N times the limit; ``RATELIMIT_STORAGE_URI`` names a
shared store.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from carbon_market.kernel.config import Config

#: The sign-in views: the API's login (flask-smorest names a MethodView's endpoint after its
#: class) and the web UI's form. Both count in one bucket ("login" scope), so alternating
#: between them gains nothing.
LOGIN_ENDPOINTS = ("auth.Login", "web.signin")
BLOCKED_DETAIL = "too many failed logins from this address; try again after Retry-After seconds"


def init_app(app: Flask, config: Config) -> None:
    """Wrap the registered sign-in views in the configured limits (none: nothing to do)."""
    configured = [
        (config.login_rate_limit, _address_and_name, "login"),
        (config.login_rate_limit_per_address, get_remote_address, "login-address"),
    ]
    limits = [(value, key, scope) for value, key, scope in configured if value is not None]
    if not limits:
        return
    limiter = Limiter(
        get_remote_address, app=app, storage_uri=config.ratelimit_storage_uri, headers_enabled=True
    )
    app.extensions["carbon_market.limiter"] = limiter
    shared = [
        limiter.shared_limit(
            value,
            scope,
            key_func=key,
            methods=["POST"],
            deduct_when=_failed,
            error_message=BLOCKED_DETAIL,
        )
        for value, key, scope in limits
    ]
    for endpoint in LOGIN_ENDPOINTS:
        if endpoint not in app.view_functions:
            continue
        view: Any = app.view_functions[endpoint]
        for limit in shared:
            view = limit(view)
        app.view_functions[endpoint] = view


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _address_and_name() -> str:
    """One bucket per client address and user name tried (case as typed: names are exact)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    name = body.get("name") if isinstance(body, dict) or body is request.form else None
    return f"{get_remote_address()}|{name if isinstance(name, str) else ''}"
