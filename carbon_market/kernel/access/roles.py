"""Roles and the actor value every service receives."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    REGULATOR = "regulator"
    ENTERPRISE = "enterprise"
    VERIFIER = "verifier"
    FINANCE_OFFICER = "finance_officer"
    AUDITOR = "auditor"
    #: The exchange's service account: records trades and imports its end-of-day files.
    EXCHANGE = "exchange"


@dataclass(frozen=True)
class Actor:
    """Who is acting, and through which request.

    ``role`` is None only for the system actor: the operator at the machine running bootstrap
    commands, or a scheduled job. ``request_id`` ties audit records to the request or command.
    """

    name: str
    role: Role | None
    user_id: int | None = None
    enterprise_id: int | None = None
    can_initiate: bool = False
    can_approve: bool = False
    request_id: str | None = None

    @property
    def is_system(self) -> bool:
        return self.role is None

    @classmethod
    def system(cls, name: str = "system", request_id: str | None = None) -> Actor:
        return cls(name=name, role=None, request_id=request_id)
