"""One-way bidding (单向竞价): the national rules' third mode, recorded as the exchange
reports its result. No price band (the national rules publish none for it; the auction's
announcement bounds it), any size; every other check applies, and it never sets a close."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest

from carbon_market.kernel.config import Config
from carbon_market.kernel.errors import InsufficientHolding, RuleViolation, ValidationFailed
from carbon_market.trading import checks
from carbon_market.trading.intake import trade_file as bulk
from carbon_market.trading.models import TradeKind, TradeStatus
from tests.trading.conftest import ALPHA_ALLOCATION, DAY1, Market


def test_a_bidding_result_far_from_the_reference_is_recorded_and_sets_no_close(
    market: Market,
) -> None:
    """Reference 100.00; a result at 150.00 (+50 %, beyond even the block band of ±30 %)
    is recorded and settled. The next day's reference is still 100.00: the close is the
    VWAP of *listed* trades, and day 1 had none."""
    trade = market.trade(kind=TradeKind.ONE_WAY_BIDDING, quantity=250_000, price=D("150.00"))
    assert trade.status is TradeStatus.SETTLED
    assert trade.reference_price == D("100.00")
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 250_000
    day2 = (DAY1 + timedelta(days=1)).date()
    assert checks.reference_price(market.session, "allowance", day2) == D("100.00")


def test_the_other_checks_still_apply(market: Market) -> None:
    with pytest.raises(InsufficientHolding):  # alpha holds 400,000
        market.trade(kind=TradeKind.ONE_WAY_BIDDING, quantity=400_001, price=D("90.00"))
    assert market.held(market.alpha) == ALPHA_ALLOCATION


def test_a_market_without_the_mode_refuses_it(market: Market, config: Config) -> None:
    market.session.info["config"] = dataclasses.replace(config, trading_rulebook="beijing")
    with pytest.raises(RuleViolation) as refused:
        market.trade(kind=TradeKind.ONE_WAY_BIDDING)
    assert [e.pointer for e in refused.value.errors] == ["#/kind"]
    header = "external_ref,kind,seller_account,buyer_account,unit_kind,vintage,quantity,price,"
    row = f"W1,one_way_bidding,{market.alpha},{market.beta},allowance,2025,10,100.00,{DAY1}"
    content = (header + "traded_at\n" + row.replace(" ", "T") + "\n").encode()
    with pytest.raises(ValidationFailed) as in_file:
        bulk.import_trades(market.session, market.exchange,
                           bulk.read_table(io.BytesIO(content), "t.csv"))  # fmt: skip
    assert [(e.row, e.column) for e in in_file.value.errors] == [(2, "kind")]
