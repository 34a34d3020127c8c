"""Login, tokens and users over HTTP."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask.views import MethodView

from carbon_market.kernel.auth import service as svc
from carbon_market.kernel.auth.schemas import (
    LoginSchema,
    MeSchema,
    TokenCreatedSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
)
from carbon_market.kernel.http import (
    AUTHENTICATOR,
    Api,
    Blueprint,
    current_actor,
    db_session,
    page_request,
)
from carbon_market.kernel.schemas import PageArgsSchema, dump_page, page_of

blp = Blueprint(
    "auth",
    __name__,
    url_prefix="/api/v1",
    description="Log in for a bearer token; manage tokens and users.",
)
UserPageSchema = page_of(UserSchema, "UserPageSchema")


def _created(pair: tuple[Any, str]) -> dict[str, Any]:
    record, token = pair
    return {
        "id": record.id,
        "token": token,
        "prefix": record.prefix,
        "expires_at": record.expires_at,
    }


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenCreatedSchema)
    @blp.alt_response(
        429,
        description="Too many failed logins from this address (for this name): problem+json "
        "'too-many-requests'; retry after the Retry-After header's seconds",
    )
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a name and password for a bearer token valid for one day.

        Failed attempts are limited per client address and name (LOGIN_RATE_LIMIT) and per
        address (LOGIN_RATE_LIMIT_PER_ADDRESS); past a limit every attempt is 429."""
        return _created(svc.login(db_session(), request_id=g.get("request_id"), **data))


@blp.route("/auth/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """Who the token belongs to."""
        return current_actor()


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self) -> Any:
        """Your tokens (prefixes only: tokens are never shown twice)."""
        return svc.list_tokens(db_session(), current_actor())


@blp.route("/auth/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, TokenSchema)
    def delete(self, token_id: int) -> Any:
        """Revoke a token (yours, or anyone's for a regulator)."""
        return svc.revoke_token(db_session(), current_actor(), token_id)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Users (regulators and auditors)."""
        return dump_page(svc.list_users(db_session(), current_actor(), page=page_request(args)))

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user (regulators)."""
        enterprise = data.pop("enterprise")
        return svc.create_user(
            db_session(), current_actor(), enterprise_credit_code=enterprise, **data
        )


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
    # Every resource's current_actor() turns its bearer token into an actor with this.
    app.extensions[AUTHENTICATOR] = svc.authenticate
