"""Test data. Enterprises are registered through the real service (so each gets its
compliance account and audit record); users are inserted with a cheap argon2 hash, because
the production cost (64 MiB, 3 passes) would make every test pay ~50 ms per user."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import factory
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from carbon_market.emitters import service as emitters
from carbon_market.emitters.credit_code import make_credit_code
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.models import User

PASSWORD = "correct-horse-battery"
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
_serial = itertools.count(1)


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code, distinct per call."""
    return make_credit_code(f"91110000{(n if n is not None else next(_serial)):09d}")


class UserFactory(factory.alchemy.SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = User
        sqlalchemy_session_persistence = "commit"

    name = factory.Sequence(lambda n: f"user{n}")
    role = Role.REGULATOR
    enterprise_id = None
    can_initiate = False
    can_approve = False
    password_hash = CHEAP_HASH
    is_active = True
    created_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))


def bind_factories(session: Session) -> None:
    UserFactory._meta.sqlalchemy_session = session


def make_user(
    session: Session,
    *,
    role: Role,
    name: str | None = None,
    enterprise: Enterprise | None = None,
    **kwargs: Any,
) -> User:
    if role is Role.ENTERPRISE:
        kwargs.setdefault("can_initiate", True)
        kwargs.setdefault("can_approve", True)
    values = {"role": role, "enterprise_id": enterprise.id if enterprise else None, **kwargs}
    if name:
        values["name"] = name
    user: User = UserFactory(**values)
    return user


def make_enterprise(session: Session, **overrides: Any) -> Enterprise:
    """Register an enterprise through the service as the system actor."""
    values: dict[str, Any] = {
        "credit_code": credit_code(),
        "name": "北京测试热电有限公司",
        "name_en": "Beijing Test Thermal Power Co., Ltd.",
        "sector": "power",
        "district": "chaoyang",
        "contacts": [
            {
                "name": "王工",
                "title": "能源主管",
                "phone": "010-12345678",
                "email": "wang@example.com",
            }
        ],
    }
    values.update(overrides)
    return emitters.register_enterprise(session, Actor.system(name="system:test"), **values)
