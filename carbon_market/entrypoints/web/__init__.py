"""The web UI: server-rendered pages (Jinja) over the same services as the API.

Regulators, enterprises, verifiers, finance officers and auditors read the platform in a
browser: their accounts and statements, reports, the market, compliance and the project
library. Every page calls the service functions the API calls, with the signed-in user's
:class:`~carbon_market.kernel.access.roles.Actor`, so the same authorization and tenancy hold (an
enterprise user sees its own enterprise only). The actions so far: requesting a transfer and
deciding on a transaction (``ledger_pages.py``) and the emission report's workflow steps
(``report_actions.py``), through the same service functions, four-eyes rules and
idempotency mechanism as the API.

Signing in exchanges the name and password for an ordinary one-day API token (label
``web``), kept in Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in
production); signing out revokes it. Forms carry a CSRF token (Flask-WTF). Failed sign-ins
count against the same limits as the API's login (``kernel/auth/throttle.py``).
"""

from __future__ import annotations

from flask import Flask

# Their routes join the blueprint.
from carbon_market.entrypoints.web import (  # noqa: F401
    compliance_pages,
    finance_pages,
    ledger_pages,
    market_pages,
    pages,
    report_actions,
    reports_pages,
    signin,
)
from carbon_market.entrypoints.web.views import bp, csrf
from carbon_market.kernel.config import Config


def init_app(app: Flask, config: Config) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        # The API authenticates by bearer token, never by cookie: only the web's own forms
        # are checked, by the web blueprint itself (views._protect_forms).
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    csrf.init_app(app)
    app.register_blueprint(bp)
