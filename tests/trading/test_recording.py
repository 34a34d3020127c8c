"""Recording trades: the price band, order sizes, the seller's units, accounts, duplicates,
and T+0 settlement through the ledger. Reference price 100.00 (set by the regulator)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from carbon_market.kernel.errors import (
    AccountNotUsable,
    Conflict,
    InsufficientHolding,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.enums import AccountStatus, TransactionKind
from carbon_market.ledger.models import LedgerTransaction
from carbon_market.ledger.verify import verify_ledger
from carbon_market.trading.models import TradeKind, TradeStatus
from tests.trading.conftest import ALPHA_ALLOCATION, BETA_ALLOCATION, DAY1, SYSTEM, Market, next_day


@pytest.mark.parametrize("price", ["90.00", "110.00", "100.00"])
def test_listed_band_edges_are_accepted(market: Market, price: str) -> None:
    # reference 100.00, listed ±10 % → 90.00 .. 110.00 inclusive
    trade = market.trade(price=D(price))
    assert trade.status is TradeStatus.SETTLED
    assert trade.reference_price == D("100.00")


@pytest.mark.parametrize("price", ["89.99", "110.01"])
def test_listed_prices_outside_the_band_are_refused_and_nothing_moves(
    market: Market, price: str
) -> None:
    before = market.counts()
    with pytest.raises(RuleViolation) as info:
        market.trade(price=D(price))
    assert [e.pointer for e in info.value.errors] == ["#/price"]
    assert "90.00–110.00" in info.value.detail
    assert market.counts() == before
    assert market.held(market.alpha) == ALPHA_ALLOCATION


def test_block_threshold_is_100000_units_with_a_30_percent_band(market: Market) -> None:
    # 100,000 t is a block trade: listed refuses it, block admits it at 130.00 (100 × 1.3)
    with pytest.raises(RuleViolation) as info:
        market.trade(quantity=100_000)
    assert info.value.errors[0].pointer == "#/quantity"
    with pytest.raises(RuleViolation):
        market.trade(kind=TradeKind.BLOCK, quantity=99_999, price=D("120.00"))
    with pytest.raises(RuleViolation):
        market.trade(kind=TradeKind.BLOCK, quantity=100_000, price=D("130.01"))
    block = market.trade(
        kind=TradeKind.BLOCK, buyer_account=market.trader, quantity=100_000, price=D("70.00")
    )
    assert block.status is TradeStatus.SETTLED
    listed = market.trade(quantity=99_999, buyer_account=market.trader)
    assert listed.kind is TradeKind.LISTED


def test_settlement_moves_the_units_through_the_ledger_and_records_the_cash_due(
    market: Market,
) -> None:
    # 1,234 t × 58.37 = 72,028.58 CNY (a band from a reference of 58.00: 52.20 .. 63.80)
    from datetime import date

    from carbon_market.trading import service as trading

    trading.set_reference_price(
        market.session, market.regulator, unit_kind="allowance", day=date(2026, 6, 1),
        price=D("58.00"),
    )  # fmt: skip
    trade = market.trade(quantity=1234, price=D("58.37"))
    assert trade.amount == D("72028.58")
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 1234
    assert market.held(market.beta) == BETA_ALLOCATION + 1234
    tx = market.session.get(LedgerTransaction, trade.settlement_tx_id)
    assert tx is not None
    assert tx.kind is TransactionKind.TRADE_SETTLEMENT
    assert tx.quantity == 1234
    assert tx.memo == f"trade {trade.external_ref}"
    market.session.expire_all()
    assert verify_ledger(market.session) == []


def test_the_same_trade_reported_twice_is_recorded_once(market: Market) -> None:
    from carbon_market.trading import service as trading

    first = market.trade(external_ref="DUP-1")
    before = market.counts()
    again, is_new = trading.record_trade(
        market.session, market.exchange, kind=TradeKind.LISTED, seller_account=market.alpha,
        buyer_account=market.beta, unit_kind="allowance", vintage=2025, quantity=100,
        price=D("100.00"), traded_at=DAY1, external_ref="DUP-1",
    )  # fmt: skip
    assert (again.id, is_new) == (first.id, False)
    assert market.counts() == before
    assert market.held(market.beta) == BETA_ALLOCATION + 100


def test_a_reference_recorded_with_other_content_is_a_conflict(market: Market) -> None:
    market.trade(external_ref="DUP-2")
    before = market.counts()
    with pytest.raises(Conflict) as info:
        market.trade(external_ref="DUP-2", price=D("101.00"), quantity=7)
    assert {e.pointer for e in info.value.errors} == {"#/price", "#/quantity"}
    assert market.counts() == before


def test_a_seller_without_the_units_is_refused(market: Market) -> None:
    before = market.counts()
    with pytest.raises(InsufficientHolding):
        market.trade(seller_account=market.beta, buyer_account=market.alpha, quantity=1001)
    assert market.counts() == before


@pytest.mark.parametrize("quantity", [0, -5])
def test_zero_or_negative_quantities_are_refused(market: Market, quantity: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        market.trade(quantity=quantity)
    assert [e.pointer for e in info.value.errors] == ["#/quantity"]


def test_unknown_and_blocked_accounts_are_refused(market: Market) -> None:
    with pytest.raises(ValidationFailed) as unknown:
        market.trade(buyer_account="BJ20000000000019")
    assert [e.pointer for e in unknown.value.errors] in (["#/buyer_account"],)
    accounts.set_account_status(market.session, SYSTEM, market.beta, status=AccountStatus.BLOCKED)
    before = market.counts()
    with pytest.raises(AccountNotUsable) as blocked:
        market.trade()
    assert [e.pointer for e in blocked.value.errors] == ["#/buyer_account"]
    assert market.counts() == before


def test_without_a_reference_price_nothing_trades(market: Market) -> None:
    with pytest.raises(RuleViolation) as info:
        market.trade(unit_kind="ccer")
    assert info.value.errors[0].code == "price.no_reference"


def test_the_previous_close_is_the_listed_vwap_and_carries_over_quiet_days(
    market: Market,
) -> None:
    # day 1: listed 100 t @ 100.00 and 300 t @ 104.00 → close (100×100 + 300×104) ÷ 400
    # = 41,200 ÷ 400 = 103.00; a block trade at 75.00 does not count.
    market.trade(quantity=100, price=D("100.00"))
    market.trade(quantity=300, price=D("104.00"))
    market.trade(kind=TradeKind.BLOCK, buyer_account=market.trader, quantity=100_000,
                 price=D("75.00"))  # fmt: skip
    # day 3 (day 2 had no trades): reference 103.00, band 92.70 .. 113.30
    day3 = next_day(DAY1, 2)
    with pytest.raises(RuleViolation):
        market.trade(price=D("92.69"), traded_at=day3)
    assert market.trade(price=D("113.30"), traded_at=day3).reference_price == D("103.00")


def test_units_bought_today_are_not_sold_again_today(market: Market) -> None:
    # the trading account holds nothing but what it buys
    market.trade(buyer_account=market.trader, quantity=500)
    with pytest.raises(InsufficientHolding):
        market.trade(seller_account=market.trader, quantity=1)
    resold = market.trade(seller_account=market.trader, quantity=500, traded_at=next_day(DAY1))
    assert resold.status is TradeStatus.SETTLED


def test_position_limits_cap_holdings_after_the_beijing_pilot(market: Market) -> None:
    # a trading participant may hold at most 1,000,000 t; alpha (allocation 400,000) may
    # hold 1,400,000 t.
    from tests.trading.conftest import allocate

    allocate(market.session, market.alpha, 700_000)  # alpha now holds 1,100,000
    market.trade(kind=TradeKind.BLOCK, buyer_account=market.trader, quantity=1_000_000,
                 price=D("100.00"))  # fmt: skip
    with pytest.raises(RuleViolation) as info:
        market.trade(buyer_account=market.trader, quantity=1)
    assert info.value.errors[0].code == "position.limit"
    # beta (allocation 1,000) may hold 1,001,000: it holds 1,000 and buys 1,000,000
    market.trade(kind=TradeKind.BLOCK, seller_account=market.trader, quantity=1_000_000,
                 traded_at=next_day(DAY1))  # fmt: skip
    with pytest.raises(RuleViolation):
        market.trade(buyer_account=market.beta, quantity=1, traded_at=next_day(DAY1))
