"""Trading fixtures: a funded market with an exchange, two covered enterprises, a trading
participant and a reference price of 100.00 for allowances from 2026-06-01."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account, Holding, LedgerTransaction, Posting
from carbon_market.trading import service as trading
from carbon_market.trading.models import ReferencePrice, Trade, TradeKind
from tests.cli.conftest import cli_env, run_cli  # noqa: F401  (the CLI fixtures, for test_cli)
from tests.factories import make_enterprise, make_user

RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
SYSTEM = Actor.system(name="system:test")
VINTAGE = 2025
#: Units allocated to each covered enterprise (its annual allocation).
ALPHA_ALLOCATION = 400_000
BETA_ALLOCATION = 1_000
#: 10:00 in Beijing on the first trading day (02:00 UTC).
DAY1 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@dataclass
class Market:
    session: Session
    clock: FixedClock
    exchange: Actor
    regulator: Actor
    alpha: str
    beta: str
    trader: str
    serial: int = 0

    def trade(self, **overrides: Any) -> Trade:
        """Record a listed trade alpha → beta of 100 allowances at 100.00 unless told."""
        self.serial += 1
        values: dict[str, Any] = {
            "kind": TradeKind.LISTED,
            "seller_account": self.alpha,
            "buyer_account": self.beta,
            "unit_kind": "allowance",
            "vintage": VINTAGE,
            "quantity": 100,
            "price": D("100.00"),
            "traded_at": DAY1,
            "external_ref": f"T{self.serial:05d}",
            **overrides,
        }
        trade, _is_new = trading.record_trade(self.session, self.exchange, **values)
        return trade

    def held(self, number: str) -> int:
        self.session.expire_all()
        total = self.session.scalar(
            select(func.coalesce(func.sum(Holding.quantity), 0))
            .join(Account, Account.id == Holding.account_id)
            .where(Account.number == number, Holding.unit_kind == "allowance")
        )
        return int(total or 0)

    def counts(self) -> dict[str, int]:
        """Rows of every table recording a trade may write."""
        self.session.expire_all()
        return {
            model.__tablename__: self.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Trade, LedgerTransaction, Posting, Holding, ReferencePrice)
        }


def allocate(session: Session, number: str, quantity: int) -> None:
    ledger.request_transfer(
        session, SYSTEM, from_account=RESERVE, to_account=number, unit_kind="allowance",
        vintage=VINTAGE, quantity=quantity,
    )  # fmt: skip


@pytest.fixture
def market(session: Session, clock: FixedClock) -> Market:
    return build_market(session, clock)


def build_market(session: Session, clock: FixedClock) -> Market:
    """The market of :class:`Market` (also for the PostgreSQL race tests)."""
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=VINTAGE, quantity=3_000_000)
    alpha = make_enterprise(session, name="甲热电").compliance_account.number
    beta = make_enterprise(session, name="乙水泥").compliance_account.number
    trader = accounts.open_trading_account(session, SYSTEM, holder_name="某投资公司").number
    allocate(session, alpha, ALPHA_ALLOCATION)
    allocate(session, beta, BETA_ALLOCATION)
    exchange = actor_for(make_user(session, role=Role.EXCHANGE, name="exchange"))
    regulator = actor_for(make_user(session, role=Role.REGULATOR, name="regulator"))
    trading.set_reference_price(
        session, regulator, unit_kind="allowance", day=date(2026, 6, 1), price=D("100.00")
    )
    return Market(session, clock, exchange, regulator, alpha, beta, trader)


def next_day(at: datetime, days: int = 1) -> datetime:
    return at + timedelta(days=days)
