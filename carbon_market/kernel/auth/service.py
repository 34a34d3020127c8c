"""Users and tokens: creation, login, bearer-token authentication, revocation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.auth import tenants
from carbon_market.kernel.auth.models import ApiToken, User
from carbon_market.kernel.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    verify_password,
)
from carbon_market.kernel.auth.tokens import display_prefix, generate_token, hash_token
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate

USER_FIELDS = ["name", "role", "enterprise_id", "can_initiate", "can_approve", "is_active"]
MAX_TOKEN_DAYS = 366


def actor_for(user: User, request_id: str | None = None) -> Actor:
    return Actor(
        name=user.name,
        role=user.role,
        user_id=user.id,
        enterprise_id=user.enterprise_id,
        can_initiate=user.can_initiate,
        can_approve=user.can_approve,
        request_id=request_id,
    )


def _enterprise_id_for(session: Session, role: Role, credit_code: str | None) -> int | None:
    if role is not Role.ENTERPRISE:
        if credit_code:
            raise ValidationFailed(
                "only enterprise users belong to an enterprise",
                errors=[FieldError("#/enterprise", "only for role enterprise")],
            )
        return None
    if not credit_code:
        raise ValidationFailed(
            "an enterprise user must name an enterprise",
            errors=[FieldError("#/enterprise", "required for role enterprise")],
        )
    enterprise_id = tenants.enterprise_by_credit_code.get()(session, credit_code.strip().upper())
    if enterprise_id is None:
        raise ValidationFailed(
            f"no enterprise has credit code {credit_code}",
            errors=[FieldError("#/enterprise", "no such enterprise")],
        )
    return enterprise_id


@transactional
def create_user(
    session: Session,
    actor: Actor,
    *,
    name: str,
    role: Role,
    password: str,
    enterprise_credit_code: str | None = None,
    can_initiate: bool | None = None,
    can_approve: bool | None = None,
) -> User:
    """Create a user. Regulators (and the system operator, for the first regulator) only.

    An enterprise user is bound to the enterprise with ``enterprise_credit_code`` and gets
    both the initiator and approver capabilities unless told otherwise.
    """
    authorize(actor, "user.create")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "password too short",
            errors=[FieldError("#/password", f"must be at least {MIN_PASSWORD_LENGTH} characters")],
        )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} exists", errors=[FieldError("#/name", "already exists")])
    enterprise_id = _enterprise_id_for(session, role, enterprise_credit_code)
    is_enterprise = role is Role.ENTERPRISE
    initiate = is_enterprise if can_initiate is None else can_initiate and is_enterprise
    approve = is_enterprise if can_approve is None else can_approve and is_enterprise
    if is_enterprise and not (initiate or approve):
        raise ValidationFailed(
            "an enterprise user needs at least one capability",
            errors=[FieldError("#/can_initiate", "initiator and/or approver")],
        )
    user = User(
        name=name,
        role=role,
        enterprise_id=enterprise_id,
        can_initiate=initiate,
        can_approve=approve,
        password_hash=hash_password(password),
        is_active=True,
        created_at=clock_of(session).now(),
    )
    session.add(user)
    session.flush()  # the audit record names the user by id
    record(
        session,
        actor,
        action="user:create",
        entity_type="user",
        entity_id=user.id,
        after={f: getattr(user, f) for f in USER_FIELDS},
    )
    return user


def list_users(session: Session, actor: Actor, *, page: PageRequest) -> Page[User]:
    authorize(actor, "user.read")
    return paginate(session, select(User).order_by(User.id), page)


#: Verifiers offered at most when a report's verifier is chosen (a jurisdiction accredits a
#: few dozen; the bound keeps the list a bounded read like every other).
MAX_VERIFIERS = 500


def list_verifiers(session: Session, actor: Actor) -> list[User]:
    """The active users of role verifier, by name: those a report may be assigned to
    (``reports.assign_verifier`` accepts exactly these). For whoever assigns verifiers
    (regulators), who may not otherwise need to read every user."""
    authorize(actor, "reports.assign")
    query = (
        select(User)
        .where(User.role == Role.VERIFIER, User.is_active.is_(True))
        .order_by(User.name)
        .limit(MAX_VERIFIERS)
    )
    return list(session.scalars(query))


def _user_by_name(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


@transactional
def deactivate_user(session: Session, actor: Actor, *, name: str) -> User:
    """Deactivate a user; their tokens stop working at once. Regulators only."""
    authorize(actor, "user.deactivate")
    user = _user_by_name(session, name)
    user.is_active = False
    record(
        session,
        actor,
        action="user:deactivate",
        entity_type="user",
        entity_id=user.id,
        before={"is_active": True},
        after={"is_active": False},
    )
    return user


@transactional
def issue_token(
    session: Session, actor: Actor, *, user_name: str, label: str = "", ttl_days: int = 90
) -> tuple[ApiToken, str]:
    """Issue an API token for ``user_name``; returns the record and the token, shown once.

    The system operator may issue tokens for anyone (bootstrap); a user only for themselves.
    """
    if not 1 <= ttl_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            "token lifetime out of range",
            errors=[FieldError("#/ttl_days", f"must be between 1 and {MAX_TOKEN_DAYS} days")],
        )
    user = _user_by_name(session, user_name)
    if not actor.is_system and actor.user_id != user.id:
        authorize(actor, "user.create")
    if not user.is_active:
        raise ValidationFailed(f"user {user_name!r} is deactivated")
    token = generate_token()
    now = clock_of(session).now()
    record_ = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        prefix=display_prefix(token),
        label=label,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(record_)
    session.flush()  # the audit record names the token by id
    record(
        session,
        actor,
        action="token:create",
        entity_type="api_token",
        entity_id=record_.id,
        after={"user": user.name, "prefix": record_.prefix, "expires_at": record_.expires_at},
    )
    return record_, token


def login(
    session: Session,
    *,
    name: str,
    password: str,
    request_id: str | None = None,
    label: str = "login",
    ttl_days: int = 1,
) -> tuple[ApiToken, str]:
    """Exchange a name and password for a short-lived token.

    Every failure is the same NotAuthenticated, and an unknown name still costs one argon2
    verification, so neither the message nor the timing tells which names exist.
    """
    user = session.scalar(select(User).where(User.name == name))
    valid = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated("wrong user name or password")
    return issue_token(
        session, actor_for(user, request_id), user_name=name, label=label, ttl_days=ttl_days
    )


def authenticate(session: Session, token: str, request_id: str | None = None) -> Actor:
    """The actor a bearer token stands for; NotAuthenticated if unknown, expired or revoked."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise NotAuthenticated("the token is not valid")
    api_token, user = row
    if api_token.revoked_at is not None:
        raise NotAuthenticated("the token has been revoked")
    if api_token.expires_at <= clock_of(session).now():
        raise NotAuthenticated("the token has expired")
    if not user.is_active:
        raise NotAuthenticated("the user is deactivated")
    return actor_for(user, request_id)


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The caller's own tokens (never the tokens themselves: only prefixes)."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id)
        )
    )


@transactional
def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token: one's own, or anyone's for a regulator. Revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if token.user_id != actor.user_id:
        try:
            authorize(actor, "token.revoke_any")
        except PermissionDenied:
            raise NotFound(f"token {token_id} does not exist") from None
    if token.revoked_at is None:
        token.revoked_at = clock_of(session).now()
        record(
            session,
            actor,
            action="token:revoke",
            entity_type="api_token",
            entity_id=token.id,
            after={"revoked_at": token.revoked_at},
        )
    return token
