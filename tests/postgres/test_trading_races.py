"""Trades under concurrency (PostgreSQL): the same units are never sold twice, and a trade
reported by several connections at once is recorded once."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal as D
from itertools import count
from threading import Lock

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.verify import verify_ledger
from carbon_market.trading import service as trading
from carbon_market.trading.intake import trade_file as bulk
from carbon_market.trading.models import Trade, TradeKind
from tests.factories import make_enterprise
from tests.postgres.test_concurrency import _race
from tests.trading.conftest import BETA_ALLOCATION, DAY1, SYSTEM, Market, allocate, build_market

pytestmark = pytest.mark.postgres
HEADER = "external_ref,kind,seller_account,buyer_account,unit_kind,vintage,quantity,price,traded_at"


@pytest.fixture
def market(session: Session, clock: FixedClock) -> Market:
    return build_market(session, clock)


def _trade(s: Session, market: Market, ref: str, quantity: int) -> None:
    trading.record_trade(
        s, market.exchange, kind=TradeKind.LISTED, seller_account=market.beta,
        buyer_account=market.alpha, unit_kind="allowance", vintage=2025, quantity=quantity,
        price=D("100.00"), traded_at=DAY1, external_ref=ref,
    )  # fmt: skip


def test_two_trades_selling_the_same_units_settle_one(app: Flask, market: Market) -> None:
    # beta holds 1,000: eight trades of 600 each race; one settles, seven are refused
    refs, lock = count(1), Lock()

    def sell(s: Session) -> None:
        with lock:
            ref = f"RACE-{next(refs)}"
        _trade(s, market, ref, 600)

    outcomes = _race(app, sell)
    assert outcomes == Counter({"ok": 1, "InsufficientHolding": 7})
    assert market.held(market.beta) == BETA_ALLOCATION - 600
    assert market.session.scalar(select(func.count()).select_from(Trade)) == 1
    assert verify_ledger(market.session) == []


def test_one_trade_reported_by_eight_connections_is_recorded_once(
    app: Flask, market: Market
) -> None:
    outcomes = _race(app, lambda s: _trade(s, market, "SAME", 100))
    assert outcomes["ok"] >= 1
    assert set(outcomes) <= {"ok", "Conflict"}
    assert market.session.scalar(select(func.count()).select_from(Trade)) == 1
    assert market.held(market.beta) == BETA_ALLOCATION - 100


@pytest.mark.parametrize("path", ["single", "file"])
def test_racing_purchases_from_different_sellers_keep_the_buyer_within_its_limit(
    app: Flask, market: Market, path: str
) -> None:
    # The trading account may hold 1,000,000 t and holds nothing (no holding row to lock):
    # eight sellers (so no seller's units serialise them) each sell it 600,000 t at once,
    # by POST /trades or by a trade file of one row; one purchase fits.
    ledger.issue(market.session, SYSTEM, unit_kind="allowance", vintage=2025,
                 quantity=4_800_000)  # fmt: skip
    sellers = [make_enterprise(market.session).compliance_account.number for _ in range(8)]
    for number in sellers:
        allocate(market.session, number, 600_000)
    queue, lock = iter(sellers), Lock()

    def buy(s: Session) -> None:
        with lock:
            seller = next(queue)
        if path == "file":
            row = f"BUY-{seller},block,{seller},{market.trader},allowance,2025,600000,100.00,"
            content = f"{HEADER}\n{row}{DAY1.isoformat()}\n".encode()
            bulk.import_trades(s, market.exchange, bulk.read_table(io.BytesIO(content), "t.csv"))
            return
        trading.record_trade(
            s, market.exchange, kind=TradeKind.BLOCK, seller_account=seller,
            buyer_account=market.trader, unit_kind="allowance", vintage=2025, quantity=600_000,
            price=D("100.00"), traded_at=DAY1, external_ref=f"BUY-{seller}",
        )  # fmt: skip

    outcomes = _race(app, buy)
    refusal = "RuleViolation" if path == "single" else "ValidationFailed"
    assert outcomes == Counter({"ok": 1, refusal: 7})
    assert market.held(market.trader) == 600_000
    assert verify_ledger(market.session) == []
