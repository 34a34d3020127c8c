"""The signed-in user of a web page: the token the sign-in put in the session cookie.

Apart from the sign-in's routes (``signin.py``) so that the blueprint's own helpers
(``views.render``) and every page can name the user without importing the routes."""

from __future__ import annotations

from flask import g, session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.errors import NotAuthenticated
from carbon_market.kernel.http import db_session

#: The session keys of a sign-in.
TOKEN, TOKEN_ID = "web_token", "web_token_id"


def web_actor() -> Actor:
    """The signed-in user; NotAuthenticated (→ the sign-in page) when there is none or the
    token expired or was revoked."""
    if "web_actor" not in g:
        token = session.get(TOKEN)
        if not token:
            raise NotAuthenticated("sign in first")
        g.web_actor = auth_service.authenticate(db_session(), token, g.get("request_id"))
    actor: Actor = g.web_actor
    return actor
