"""Position-limit disclosure: holders above allocation + 500,000 t (covered enterprises)
or 500,000 t (others) are listed for the regulator, unsettled purchases counted."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from types import SimpleNamespace

from flask.testing import FlaskClient

from carbon_market.kernel.config import Config
from carbon_market.ledger import transactions as ledger
from carbon_market.trading import disclosure
from carbon_market.trading.models import TradeKind
from tests.conftest import AuthActions
from tests.trading.conftest import RESERVE, SYSTEM, Market, allocate


def _t1_market_with_a_large_trader(market: Market, config: Config) -> None:
    """trader: 600,000 held (a transfer, not an allocation) + 100,000 bought and not yet
    settled (Beijing, T+1) = 700,000 > 500,000: 200,000 above its threshold. alpha:
    400,000 − 100,000 sold (still held until settlement) = 400,000 ≤ 400,000 + 500,000;
    beta 1,000 ≤ 1,000 + 500,000."""
    market.session.info["config"] = dataclasses.replace(config, trading_rulebook="beijing")
    allocate(market.session, market.trader, 600_000)
    market.trade(
        kind=TradeKind.BLOCK, buyer_account=market.trader, quantity=100_000, price=D("100.00")
    )


def test_holders_above_the_threshold_are_listed_with_their_excess(
    market: Market, config: Config
) -> None:
    _t1_market_with_a_large_trader(market, config)
    found = disclosure.large_holders(market.session, market.regulator, unit_kind="allowance")
    assert [(h.account, h.position, h.threshold, h.limit, h.excess) for h in found] == [
        (market.trader, 700_000, 500_000, 1_000_000, 200_000)
    ]
    assert found[0].vintage == 2025
    # CCERs have no position limit in the rulebook: nobody is listed.
    assert disclosure.large_holders(market.session, market.regulator, unit_kind="ccer") == []


def test_a_covered_enterprise_counts_its_allocation(market: Market) -> None:
    """alpha (allocation 400,000 of 2025) is allocated 500,001 of 2026: 900,001 held.
    Counting the 2026 allocation (the latest, the default) its threshold is 500,001 +
    500,000 = 1,000,001: not listed; counting 2025's, 400,000 + 500,000 = 900,000: listed,
    1 unit above."""
    ledger.issue(market.session, SYSTEM, unit_kind="allowance", vintage=2026, quantity=500_001)
    ledger.request_transfer(
        market.session, SYSTEM, from_account=RESERVE, to_account=market.alpha,
        unit_kind="allowance", vintage=2026, quantity=500_001,
    )  # fmt: skip
    regulator = market.regulator
    assert disclosure.large_holders(market.session, regulator, unit_kind="allowance") == []
    found = disclosure.large_holders(market.session, regulator, unit_kind="allowance", vintage=2025)
    assert [(h.account, h.position, h.allocation, h.threshold, h.excess) for h in found] == [
        (market.alpha, 900_001, 400_000, 900_000, 1)
    ]


def test_the_endpoint_answers_json_and_csv_to_regulators(
    client: FlaskClient, auth: AuthActions, market: Market, config: Config
) -> None:
    _t1_market_with_a_large_trader(market, config)
    headers = auth.headers(SimpleNamespace(name="regulator"))
    url = "/api/v1/market/large-holders?unit_kind=allowance"
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    (row,) = answer.get_json()
    assert (row["account"], row["position"], row["excess"]) == (market.trader, 700_000, 200_000)
    as_csv = client.get(url + "&format=csv", headers=headers)
    assert as_csv.mimetype == "text/csv"
    lines = as_csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("account,holder_name,account_kind,position")
    assert lines[1].startswith(f"{market.trader},")
