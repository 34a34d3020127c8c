"""End-of-day settlement (the Beijing rulebook, T+1), market statistics, the average price
and surveillance."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pandas as pd
import pytest
from sqlalchemy import select

from carbon_market.kernel.config import Config
from carbon_market.kernel.errors import RuleViolation
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.enums import AccountStatus
from carbon_market.ledger.models import Account
from carbon_market.trading import market as market_service
from carbon_market.trading import service as trading
from carbon_market.trading.intake import trade_file as bulk
from carbon_market.trading.models import Trade, TradeKind, TradeStatus
from carbon_market.trading.rules import stats
from tests.trading.conftest import ALPHA_ALLOCATION, BETA_ALLOCATION, DAY1, SYSTEM, Market, next_day

JUNE1 = date(2026, 6, 1)


@pytest.fixture
def beijing(config: Config) -> Config:
    return dataclasses.replace(config, trading_rulebook="beijing")


def test_under_t1_trades_wait_for_the_end_of_day_run(
    beijing: Config, market: Market, session: object
) -> None:
    market.session.info["config"] = beijing
    kept = market.trade(quantity=100)
    refused = market.trade(quantity=50)
    assert kept.status is TradeStatus.RECORDED
    assert market.held(market.beta) == BETA_ALLOCATION  # nothing moved yet
    # the seller's units are promised: 400,000 - 150 remain sellable today
    accounts.set_account_status(market.session, SYSTEM, market.alpha, status=AccountStatus.BLOCKED)
    # ... and the block came before the close: alpha's trades cannot settle
    assert trading.settle_due(market.session, SYSTEM, through=JUNE1) == {
        "settled": 0,
        "rejected": 2,
    }
    market.session.expire_all()
    assert refused.status is TradeStatus.REJECTED
    assert "blocked" in (refused.rejection_reason or "")
    assert market.held(market.alpha) == ALPHA_ALLOCATION


def test_under_t1_the_run_settles_through_the_ledger(beijing: Config, market: Market) -> None:
    market.session.info["config"] = beijing
    # Beijing: public trading ±20 % → 120.00 is in the band of 100.00
    trade = market.trade(quantity=100, price=D("120.00"))
    assert trading.settle_due(market.session, SYSTEM, through=JUNE1) == {
        "settled": 1,
        "rejected": 0,
    }
    market.session.expire_all()
    assert trade.status is TradeStatus.SETTLED
    assert market.held(market.beta) == BETA_ALLOCATION + 100
    assert trading.settle_due(market.session, SYSTEM, through=JUNE1) == {
        "settled": 0,
        "rejected": 0,
    }


def test_daily_statistics_by_hand() -> None:
    # day 1: listed 100 @ 100.00, listed 300 @ 104.00, block 100,000 @ 95.00
    #   open 100.00, high 104.00, low 95.00, volume 100,400,
    #   turnover 10,000 + 31,200 + 9,500,000 = 9,541,200.00,
    #   vwap 9,541,200 ÷ 100,400 = 95.0318… → 95.03, close (listed VWAP) 103.00
    # day 2: block only 200,000 @ 90.00: close carries 103.00
    trades = pd.DataFrame(
        {
            "trade_date": pd.to_datetime(["2026-06-01"] * 3 + ["2026-06-02"]),
            "kind": ["listed", "listed", "block", "block"],
            "quantity": [100, 300, 100_000, 200_000],
            "price_fen": [10_000, 10_400, 9_500, 9_000],
        }
    )
    days = stats.daily_stats(trades).to_dict(orient="records")
    assert [(d["open"], d["high"], d["low"], d["close"], d["vwap"]) for d in days] == [
        (10_000, 10_400, 9_500, 10_300, 9_503),
        (9_000, 9_000, 9_000, 10_300, 9_000),
    ]
    assert days[0]["turnover"] == 954_120_000
    assert (days[0]["volume"], days[0]["trades"]) == (100_400, 3)


def test_market_stats_and_average_price_through_the_service(market: Market) -> None:
    # three listed trades: 100 @ 100.00, 200 @ 101.00, 300 @ 102.50
    # VWAP = (10,000 + 20,200 + 30,750) ÷ 600 = 60,950 ÷ 600 = 101.5833… → 101.58
    for quantity, price in ((100, "100.00"), (200, "101.00"), (300, "102.50")):
        market.trade(quantity=quantity, price=D(price))
    rows = market_service.market_stats(
        market.session, market.regulator, unit_kind="allowance", start=JUNE1, end=JUNE1
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["date"], row["open"], row["high"], row["low"]) == (
        JUNE1, D("100.00"), D("102.50"), D("100.00"),
    )  # fmt: skip
    assert (row["close"], row["vwap"], row["volume"], row["trades"]) == (
        D("101.58"), D("101.58"), 600, 3,
    )  # fmt: skip
    assert row["turnover"] == D("60950.00")
    assert market_service.average_price(market.session, "allowance", JUNE1, JUNE1) == D("101.58")
    assert market_service.average_price(market.session, "ccer", JUNE1, JUNE1) is None


def test_surveillance_flags_prices_pinned_at_the_limit_and_same_enterprise(
    market: Market,
) -> None:
    pinned = market.trade(price=D("110.00"))
    market.trade(price=D("100.00"))
    flags = market_service.surveillance(
        market.session, market.regulator, unit_kind="allowance", start=JUNE1, end=JUNE1
    )
    assert [(f.reason, f.trade.id if f.trade else None) for f in flags] == [
        ("price_at_limit", pinned.id)
    ]
    assert DAY1.date() == JUNE1
    assert TradeKind.LISTED.value == "listed"


def test_rolling_figures_do_not_depend_on_the_range_asked_for(market: Market) -> None:
    # A thin market: 20 trading days four calendar days apart with 10 t each, then 100 t
    # on day 81. Asked for day 81 alone, the 20 trading days before it must still be
    # counted (they span 80 calendar days): volume_ma20 = (19 × 10 + 100) ÷ 20 = 14.5 → 15,
    # and 100 t is more than 3 × the 10 t average of the 20 trading days before.
    for i in range(20):
        market.trade(quantity=10, traded_at=next_day(DAY1, 4 * i))
    last = market.trade(quantity=100, traded_at=next_day(DAY1, 80)).trade_date

    def stats_from(start: date) -> dict[str, object]:
        rows = market_service.market_stats(
            market.session, market.regulator, unit_kind="allowance", start=start, end=last
        )
        return rows[-1]

    def unusual_from(start: date) -> list[date]:
        flags = market_service.surveillance(
            market.session, market.regulator, unit_kind="allowance", start=start, end=last
        )
        return [f.date for f in flags if f.reason == "unusual_volume"]

    whole, alone = stats_from(JUNE1), stats_from(last)
    assert (whole["volume_ma20"], whole["close_ma20"]) == (15, D("100.00"))
    assert alone == whole
    assert unusual_from(JUNE1) == unusual_from(last) == [last]


@pytest.mark.parametrize("path", ["single", "file"])
def test_trading_days_are_days_in_shanghai(market: Market, path: str) -> None:
    # 15:59:59 UTC is 23:59:59 on 1 June in Beijing; 16:00 and 23:30 UTC are 2 June. Day 1's
    # close (104.00) is the reference of the 23:30 UTC trade: band 93.60–114.40.
    trades = [
        ("B1", "104.00", "2026-06-01T15:59:59+00:00"),
        ("B2", "104.00", "2026-06-01T16:00:00+00:00"),
        ("B3", "114.40", "2026-06-01T23:30:00Z"),
    ]
    if path == "file":
        lines = [",".join(bulk.COLUMNS)] + [
            f"listed,{market.alpha},{market.beta},allowance,2025,100,{p},{at},{ref}"
            for ref, p, at in trades
        ]
        table = bulk.read_table(io.BytesIO("\n".join(lines).encode()), "t.csv")
        bulk.import_trades(market.session, market.exchange, table)
    else:
        for ref, p, at in trades:
            market.trade(external_ref=ref, price=D(p), traded_at=datetime.fromisoformat(at))
    found = {
        t.external_ref: (t.trade_date, t.reference_price)
        for t in market.session.scalars(select(Trade))
    }
    june2 = date(2026, 6, 2)
    assert found == {
        "B1": (JUNE1, D("100.00")), "B2": (june2, D("104.00")), "B3": (june2, D("104.00")),
    }  # fmt: skip
    with pytest.raises(RuleViolation):
        market.trade(price=D("114.41"), traded_at=datetime(2026, 6, 1, 23, 31, tzinfo=UTC))
    rows = market_service.market_stats(
        market.session, market.regulator, unit_kind="allowance", start=JUNE1, end=june2
    )
    assert [(r["date"], r["volume"]) for r in rows] == [(JUNE1, 100), (june2, 200)]


def test_surveillance_flags_a_trade_between_accounts_of_one_enterprise(market: Market) -> None:
    # the trading account is made alpha's own: alpha → its trading account is a wash trade
    own = market.session.scalar(select(Account).where(Account.number == market.trader))
    alpha = market.session.scalar(select(Account).where(Account.number == market.alpha))
    assert own is not None
    assert alpha is not None
    own.enterprise_id = alpha.enterprise_id
    market.session.commit()
    wash = market.trade(buyer_account=market.trader)
    market.trade()  # alpha → beta: two enterprises
    flags = market_service.surveillance(
        market.session, market.regulator, unit_kind="allowance", start=JUNE1, end=JUNE1
    )
    assert [(f.reason, f.trade.id if f.trade else None) for f in flags] == [
        ("same_enterprise", wash.id)
    ]
