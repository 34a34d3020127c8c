"""Compliance fixtures: a world with covered enterprises, their users, reports and
allocations, built through the real services as the system actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carbon_market.compliance import service as compliance
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.mrv.reports import workflow as reports
from tests.factories import make_enterprise, make_user

RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
FILER = Actor.system(name="system:filer")
APPROVER = Actor.system(name="system:approver")
SYSTEM = Actor.system(name="system:test")
#: One stream is enough to file a report (500 MWh × 0.5366 = 268.3 t).
STREAMS = [{"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}]


@dataclass
class Covered:
    """A covered enterprise with an initiator (``maker``) and an approver (``checker``)."""

    enterprise: Enterprise
    maker: Actor
    checker: Actor

    @property
    def account(self) -> str:
        account = self.enterprise.compliance_account
        assert account is not None
        return account.number


@dataclass
class World:
    session: Session
    clock: FixedClock
    regulator: Actor
    serial: int = 0
    issued: set[tuple[str, int]] = field(default_factory=set)

    def enterprise(self, name: str, **overrides: Any) -> Covered:
        self.serial += 1
        found = make_enterprise(self.session, name=name, **overrides)
        users = [
            make_user(
                self.session,
                role=Role.ENTERPRISE,
                name=f"e{self.serial}-{suffix}",
                enterprise=found,
                **flags,
            )
            for suffix, flags in (
                ("maker", {"can_initiate": True}),
                ("checker", {"can_approve": True}),
            )
        ]
        return Covered(found, actor_for(users[0]), actor_for(users[1]))

    def approved_report(self, who: Covered, year: int, verified: str) -> None:
        """File, verify (``verified`` t, with a reason: it differs) and approve a report."""
        report = reports.create_report(
            self.session, FILER, enterprise=who.enterprise.credit_code, year=year,
            streams=STREAMS,
        )  # fmt: skip
        reports.submit_report(self.session, FILER, report.id)
        reports.assign_verifier(self.session, FILER, report.id, verifier="verifier")
        reports.verify_report(
            self.session, FILER, report.id, verified_co2_t=D(verified), opinion="符合",
            reason="核查调整",
        )  # fmt: skip
        reports.approve_report(self.session, APPROVER, report.id)

    def give(
        self, who: Covered | str, quantity: int, *, vintage: int, kind: str = "allowance"
    ) -> None:
        """Issue (once per kind and vintage) and move ``quantity`` units from the reserve:
        for allowances into a compliance account this is an allocation of ``vintage``."""
        if (kind, vintage) not in self.issued:
            ledger.issue(self.session, SYSTEM, unit_kind=kind, vintage=vintage, quantity=10**7)
            self.issued.add((kind, vintage))
        number = who.account if isinstance(who, Covered) else who
        ledger.request_transfer(
            self.session, SYSTEM, from_account=RESERVE, to_account=number, unit_kind=kind,
            vintage=vintage, quantity=quantity,
        )  # fmt: skip


@pytest.fixture
def world(session: Session, clock: FixedClock) -> World:
    return build_world(session, clock)


def build_world(session: Session, clock: FixedClock) -> World:
    """The :class:`World` (also for the PostgreSQL race tests): a verifier and a regulator."""
    make_user(session, role=Role.VERIFIER, name="verifier")
    regulator = actor_for(make_user(session, role=Role.REGULATOR, name="reg"))
    return World(session, clock, regulator)


def open_beijing(world: World, year: int = 2025, **deadlines: date) -> None:
    compliance.open_year(world.session, world.regulator, year=year, rulebook="beijing", **deadlines)
