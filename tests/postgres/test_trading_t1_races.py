"""Trades under concurrency on a T+1 market (the Beijing rulebook, PostgreSQL): units
promised to recorded trades are not promised twice, and end-of-day runs racing each other
settle each trade once."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal as D
from itertools import count
from threading import Lock

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.clock import FixedClock
from carbon_market.kernel.config import Config
from carbon_market.ledger.verify import verify_ledger
from carbon_market.trading import service as trading
from carbon_market.trading.models import Trade, TradeKind, TradeStatus
from tests.postgres.test_concurrency import WORKERS, _race
from tests.trading.conftest import BETA_ALLOCATION, DAY1, SYSTEM, Market, build_market

pytestmark = pytest.mark.postgres


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, trading_rulebook="beijing")


@pytest.fixture
def market(session: Session, clock: FixedClock) -> Market:
    return build_market(session, clock)


def test_recorded_sales_of_the_same_units_and_racing_end_of_day_runs(
    app: Flask, market: Market
) -> None:
    # beta holds 1,000: eight recordings of 600 race; one is recorded (and promises 600),
    # seven are refused. Then eight end-of-day runs race: the trade settles once.
    refs, lock = count(1), Lock()

    def sell(s: Session) -> None:
        with lock:
            ref = f"T1-{next(refs)}"
        trading.record_trade(
            s, market.exchange, kind=TradeKind.LISTED, seller_account=market.beta,
            buyer_account=market.alpha, unit_kind="allowance", vintage=2025, quantity=600,
            price=D("100.00"), traded_at=DAY1, external_ref=ref,
        )  # fmt: skip

    assert _race(app, sell) == Counter({"ok": 1, "InsufficientHolding": WORKERS - 1})
    assert market.held(market.beta) == BETA_ALLOCATION  # nothing moves before the run
    settled: Counter[str] = Counter()
    totals = Lock()

    def run(s: Session) -> None:
        result = trading.settle_due(s, SYSTEM, through=DAY1.date())
        with totals:
            settled.update(result)

    assert _race(app, run) == Counter({"ok": WORKERS})
    assert (settled["settled"], settled["rejected"]) == (1, 0)
    assert market.held(market.beta) == BETA_ALLOCATION - 600
    statuses = market.session.scalars(select(Trade.status)).all()
    assert statuses == [TradeStatus.SETTLED]
    assert market.session.scalar(select(func.count()).select_from(Trade)) == 1
    assert verify_ledger(market.session) == []
