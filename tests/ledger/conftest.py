"""Ledger fixtures: two enterprises with two users each, two regulators, and helpers that
drive the four-eyes workflow through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account, Holding, LedgerTransaction
from carbon_market.ledger.verify import verify_ledger
from tests.factories import make_enterprise, make_user

RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
ISSUANCE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_ISSUANCE]
RETIREMENT = GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT]


@dataclass
class Firm:
    enterprise: Any
    account: str
    initiator: Actor
    approver: Actor


@dataclass
class World:
    session: Session
    clock: FixedClock
    regulator_a: Actor
    regulator_b: Actor
    alpha: Firm
    beta: Firm

    def issue(
        self, quantity: int, *, unit_kind: str = "allowance", vintage: int = 2025
    ) -> LedgerTransaction:
        tx = ledger.issue(
            self.session, self.regulator_a, unit_kind=unit_kind, vintage=vintage, quantity=quantity
        )
        return ledger.approve(self.session, self.regulator_b, tx.id)

    def allocate(
        self, firm: Firm, quantity: int, *, unit_kind: str = "allowance", vintage: int = 2025
    ) -> LedgerTransaction:
        tx = ledger.request_transfer(
            self.session,
            self.regulator_a,
            from_account=RESERVE,
            to_account=firm.account,
            unit_kind=unit_kind,
            vintage=vintage,
            quantity=quantity,
        )
        return ledger.approve(self.session, self.regulator_b, tx.id)

    def fund(self, firm: Firm, quantity: int, **kwargs: Any) -> None:
        self.issue(quantity, **kwargs)
        self.allocate(firm, quantity, **kwargs)

    def transfer(
        self, source: Firm, destination: str, quantity: int, **kwargs: Any
    ) -> LedgerTransaction:
        return ledger.request_transfer(
            self.session,
            source.initiator,
            from_account=source.account,
            to_account=destination,
            unit_kind=kwargs.pop("unit_kind", "allowance"),
            vintage=kwargs.pop("vintage", 2025),
            quantity=quantity,
            **kwargs,
        )

    def holding(
        self, number: str, unit_kind: str = "allowance", vintage: int = 2025
    ) -> tuple[int, int]:
        """(quantity, reserved) of one holding, read fresh from the database."""
        self.session.expire_all()
        row = self.session.execute(
            select(Holding.quantity, Holding.reserved)
            .join(Account, Account.id == Holding.account_id)
            .where(
                Account.number == number, Holding.unit_kind == unit_kind, Holding.vintage == vintage
            )
        ).first()
        return (row[0], row[1]) if row else (0, 0)

    def pass_time(self, hours: float) -> None:
        self.clock.advance(timedelta(hours=hours))


def _firm(session: Session, tag: str) -> Firm:
    enterprise = make_enterprise(session, name=f"企业{tag}")
    initiator = make_user(
        session, role=Role.ENTERPRISE, name=f"{tag}-initiator", enterprise=enterprise
    )
    approver = make_user(
        session, role=Role.ENTERPRISE, name=f"{tag}-approver", enterprise=enterprise
    )
    return Firm(
        enterprise, enterprise.compliance_account.number, actor_for(initiator), actor_for(approver)
    )


@pytest.fixture
def world(session: Session, clock: FixedClock) -> World:
    reg_a = make_user(session, role=Role.REGULATOR, name="regulator-a")
    reg_b = make_user(session, role=Role.REGULATOR, name="regulator-b")
    return World(
        session,
        clock,
        actor_for(reg_a),
        actor_for(reg_b),
        _firm(session, "alpha"),
        _firm(session, "beta"),
    )


@pytest.fixture
def assert_ledger_sound(session: Session):  # type: ignore[no-untyped-def]
    """Call at the end of a ledger test: every invariant ``ledger verify`` checks holds."""

    def check() -> None:
        session.expire_all()
        assert verify_ledger(session) == []

    return check
