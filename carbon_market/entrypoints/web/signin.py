"""Signing in and out of the web UI, and the signed-in user of a page.

A sign-in is an ordinary one-day API token (label ``web``) kept in the signed session
cookie: one authentication path for the API and the web, one place where tokens expire and
are revoked (by the user, a regulator, or signing out).
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from carbon_market.entrypoints.web.actor import TOKEN, TOKEN_ID, web_actor
from carbon_market.entrypoints.web.views import bp
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.errors import NotAuthenticated
from carbon_market.kernel.http import db_session


class SignInForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL: no open redirect). A
    browser drops tabs and newlines from a URL and reads a backslash as a slash, so a
    target with whitespace or a backslash in it may be another host to it: refused too."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and not any(char.isspace() for char in target)
    ):
        return target
    return url_for("web.dashboard")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    form = SignInForm()
    if request.method == "GET":
        return render_template("web/signin.html", form=form, next=request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("web/signin.html", form=form, next=request.form.get("next")), 400
    try:
        record, token = auth_service.login(
            db_session(), name=form.name.data or "", password=form.password.data or "",
            request_id=g.get("request_id"), label="web",
        )  # fmt: skip
    except NotAuthenticated:
        # 401, so that the sign-in limits (auth/throttle.py) count it as a failure.
        failed = render_template(
            "web/signin.html", form=form, next=request.form.get("next"),
            error="Wrong user name or password.",
        )  # fmt: skip
        return failed, 401
    session.clear()
    session[TOKEN], session[TOKEN_ID] = token, record.id
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/signout")
def signout() -> BaseResponse:
    token_id = session.get(TOKEN_ID)
    if token_id is not None:
        # Already expired or revoked: nothing is left to revoke.
        with contextlib.suppress(NotAuthenticated):
            auth_service.revoke_token(db_session(), web_actor(), int(token_id))
    session.clear()
    return redirect(url_for("web.signin"))
