"""The set-based trade-file import agrees with recording the same rows one by one.

One file exercises every rule whose outcome depends on the rows before it: the price band
of day 2 comes from day 1's close, sellers' units move through the file, units bought today
may not be sold again today, and a buyer's position limit. Each path (``bulk`` imports the
file; ``single`` records its rows in trade-time order through ``service.record_trade``, as
``POST /api/v1/trades`` does) must refuse the same rows for the same reasons and leave the
same holdings, trades and a sound ledger. The expected figures are worked out by hand below.
"""

from __future__ import annotations

import dataclasses
import io
import sqlite3
from datetime import datetime
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.config import Config
from carbon_market.kernel.errors import Conflict, DomainError, ValidationFailed
from carbon_market.ledger.enums import TransactionKind
from carbon_market.ledger.models import LedgerTransaction
from carbon_market.ledger.verify import verify_ledger
from carbon_market.trading import service as trading
from carbon_market.trading.intake import trade_file as bulk
from carbon_market.trading.models import Trade, TradeKind, TradeStatus
from tests.trading.conftest import ALPHA_ALLOCATION, BETA_ALLOCATION, Market, allocate

HEADER = "external_ref,kind,seller_account,buyer_account,unit_kind,vintage,quantity,price,traded_at"
#: The trading account starts with this many units (a transfer, not an allocation): its
#: position limit is 1,000,000, so it may buy 1,000 + 1,000 more in all.
TRADER_START = 998_000


def _rows(m: Market) -> list[tuple[str, str, str, str, int, str, str]]:
    """(ref, kind, seller, buyer, quantity, price, Beijing time), in file order: day 2
    first, so only trade-time order gets the reference prices right."""
    a, b, t = m.alpha, m.beta, m.trader
    return [
        # Day 2. Reference = day 1's close (below) 104.43: listed band ±10 % = 93.99–114.87
        # (104.43 × 0.9 = 93.987 → 93.99; × 1.1 = 114.873 → 114.87); block ±30 % =
        # 73.10–135.76 (73.101 → 73.10; 135.759 → 135.76).
        ("D2A", "listed", t, a, 500, "94.00", "2026-06-02T10:00:00+08:00"),  # ok: bought day 1
        ("D2B", "listed", t, a, 100, "93.98", "2026-06-02T10:01:00+08:00"),  # price
        # trader holds 998,000 + 1,000 − 500 = 998,500; + 1,501 = 1,000,001 > 1,000,000
        ("D2C", "listed", a, t, 1_501, "100.00", "2026-06-02T10:02:00+08:00"),  # position
        ("D2D", "listed", a, t, 1_500, "100.00", "2026-06-02T10:03:00+08:00"),  # = the limit
        ("D2E", "block", a, b, 100_000, "73.10", "2026-06-02T10:04:00+08:00"),  # band edge
        ("D2F", "listed", t, t, 10, "100.00", "2026-06-02T10:05:00+08:00"),  # same account
        # Day 1. Reference 100.00 (set by the regulator): listed band 90.00–110.00.
        ("D1A", "listed", a, b, 100, "100.00", "2026-06-01T10:00:00+08:00"),
        ("D1B", "listed", a, b, 100, "110.01", "2026-06-01T10:01:00+08:00"),  # price
        # beta holds 1,000 + 100 but bought the 100 today: it may sell 1,000
        ("D1C", "listed", b, t, 1_100, "100.00", "2026-06-01T10:02:00+08:00"),  # units
        ("D1D", "listed", b, t, 1_000, "105.00", "2026-06-01T10:03:00+08:00"),
        ("D1E", "listed", a, b, 300, "104.00", "2026-06-01T10:04:00+08:00"),
        # Day 1's close = VWAP of its listed trades D1A, D1D, D1E:
        # (100 × 100.00 + 1,000 × 105.00 + 300 × 104.00) / 1,400 = 146,200 / 1,400
        # = 104.428… → 104.43.
    ]


#: (row number in the file, column) of each refused row: the header is row 1.
REFUSED = {(3, "price"), (4, "quantity"), (7, "buyer_account"), (9, "price"), (10, "quantity")}
ACCEPTED = {"D2A", "D2D", "D2E", "D1A", "D1D", "D1E"}


def _csv(m: Market, refs: set[str] | None = None) -> bytes:
    lines = [HEADER] + [
        f"{ref},{kind},{s},{b},allowance,2025,{q},{p},{at}"
        for ref, kind, s, b, q, p, at in _rows(m)
        if refs is None or ref in refs
    ]
    return ("\n".join(lines) + "\n").encode()


def _import(m: Market, content: bytes) -> bulk.ImportResult:
    return bulk.import_trades(m.session, m.exchange, bulk.read_table(io.BytesIO(content), "t.csv"))


def _bulk(m: Market) -> set[tuple[int, str]]:
    with pytest.raises(ValidationFailed) as refused:
        _import(m, _csv(m))
    assert m.counts()["trade"] == 0  # all or nothing
    found = {(e.row or 0, e.column or "") for e in refused.value.errors}
    result = _import(m, _csv(m, ACCEPTED))
    assert (result.rows, result.recorded, result.unchanged) == (6, 6, 0)
    return found


def _single(m: Market) -> set[tuple[int, str]]:
    rows = sorted(enumerate(_rows(m), start=2), key=lambda r: (r[1][6], r[0]))
    found = set()
    for number, (ref, kind, s, b, q, p, at) in rows:
        try:
            trading.record_trade(
                m.session, m.exchange, kind=TradeKind(kind), seller_account=s, buyer_account=b,
                unit_kind="allowance", vintage=2025, quantity=q, price=D(p),
                traded_at=datetime.fromisoformat(at), external_ref=ref,
            )  # fmt: skip
        except DomainError as exc:
            found |= {(number, e.pointer.removeprefix("#/")) for e in exc.errors}
    return found


def _trades(m: Market) -> dict[str, tuple[Any, ...]]:
    m.session.expire_all()
    return {
        t.external_ref: (t.status, t.reference_price, t.amount, t.trade_date.isoformat())
        for t in m.session.scalars(select(Trade))
    }


@pytest.mark.parametrize("path", ["bulk", "single"])
def test_both_paths_refuse_the_same_rows_and_leave_the_same_market(
    market: Market, path: str
) -> None:
    allocate(market.session, market.trader, TRADER_START)
    refused = _bulk(market) if path == "bulk" else _single(market)
    assert refused == REFUSED
    # alpha: 400,000 − 100 (D1A) − 300 (D1E) + 500 (D2A) − 1,500 (D2D) − 100,000 (D2E)
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 101_400 == 298_600
    # beta: 1,000 + 100 (D1A) − 1,000 (D1D) + 300 (D1E) + 100,000 (D2E)
    assert market.held(market.beta) == BETA_ALLOCATION + 99_400 == 100_400
    # trader: 998,000 + 1,000 (D1D) − 500 (D2A) + 1,500 (D2D) = the limit exactly
    assert market.held(market.trader) == 1_000_000
    settled, day1, day2 = TradeStatus.SETTLED, D("100.00"), D("104.43")
    assert _trades(market) == {
        "D1A": (settled, day1, D("10000.00"), "2026-06-01"),
        "D1D": (settled, day1, D("105000.00"), "2026-06-01"),
        "D1E": (settled, day1, D("31200.00"), "2026-06-01"),
        "D2A": (settled, day2, D("47000.00"), "2026-06-02"),
        "D2D": (settled, day2, D("150000.00"), "2026-06-02"),
        "D2E": (settled, day2, D("7310000.00"), "2026-06-02"),
    }
    settlements = market.session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.TRADE_SETTLEMENT)
    ).all()
    assert sorted(tx.memo for tx in settlements) == sorted(f"trade {r}" for r in ACCEPTED)
    actions = market.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("trade:record") == 6
    assert verify_ledger(market.session) == []


def test_the_bulk_audit_events_read_as_the_single_paths(market: Market) -> None:
    """The JSON the bulk path writes itself is what ``audit.service.record`` would."""
    _import(market, _csv(market, {"D1A"}))
    market.trade(external_ref="ONE", quantity=100, price=D("100.5"))
    events = {
        e.action + ":" + (e.after or {}).get("memo", (e.after or {}).get("external_ref", "")): e
        for e in market.session.scalars(select(AuditEvent))
    }
    bulk_trade, single_trade = events["trade:record:D1A"].after, events["trade:record:ONE"].after
    assert bulk_trade is not None
    assert single_trade is not None
    assert set(bulk_trade) == set(single_trade)
    assert bulk_trade["price"] == "100.00"
    assert bulk_trade["amount"] == "10000.00"
    assert single_trade["price"] == "100.5"
    assert single_trade["amount"] == "10050.00"
    bulk_tx = events["transaction:post:trade D1A"]
    single_tx = events["transaction:post:trade ONE"]
    assert set(bulk_tx.after or {}) == set(single_tx.after or {})
    assert bulk_tx.actor_name == single_tx.actor_name == "system:trade-settlement"
    assert (bulk_tx.after or {})["quantity"] == 100


def test_a_reimport_changes_nothing_and_other_content_is_refused(market: Market) -> None:
    allocate(market.session, market.trader, TRADER_START)
    _import(market, _csv(market, ACCEPTED))
    before = (market.counts(), market.held(market.alpha))
    again = _import(market, _csv(market, ACCEPTED))
    assert (again.recorded, again.unchanged) == (0, 6)
    assert (market.counts(), market.held(market.alpha)) == before
    changed = _csv(market, ACCEPTED).replace(b"D1E,listed", b"D1E,block", 1)
    with pytest.raises(ValidationFailed) as refused:
        _import(market, changed)
    assert {(e.row, e.column) for e in refused.value.errors} == {(7, "kind")}  # D1E
    assert (market.counts(), market.held(market.alpha)) == before
    assert verify_ledger(market.session) == []


def test_under_t1_the_file_is_recorded_and_settled_by_the_end_of_day_run(
    market: Market, config: Config
) -> None:
    """Beijing (T+1): nothing moves at import; units promised by a recorded sale may not
    be sold twice: alpha holds 400,000, sells 300,000 then 100,001 (refused)."""
    market.session.info["config"] = dataclasses.replace(config, trading_rulebook="beijing")
    a, b, t = market.alpha, market.beta, market.trader
    rows = [
        f"P1,block,{a},{t},allowance,2025,300000,100.00,2026-06-01T10:00:00+08:00",
        f"P2,block,{a},{b},allowance,2025,100001,100.00,2026-06-01T10:01:00+08:00",
    ]
    with pytest.raises(ValidationFailed) as refused:
        _import(market, ("\n".join([HEADER, *rows]) + "\n").encode())
    assert {(e.row, e.column) for e in refused.value.errors} == {(3, "quantity")}
    rows[1] = rows[1].replace("100001", "100000")
    _import(market, ("\n".join([HEADER, *rows]) + "\n").encode())
    assert market.held(a) == ALPHA_ALLOCATION  # recorded, not settled
    assert {t.status for t in market.session.scalars(select(Trade))} == {TradeStatus.RECORDED}
    done = trading.settle_due(market.session, market.regulator, through=None)
    assert done == {"settled": 2, "rejected": 0}
    assert market.held(a) == 0
    assert verify_ledger(market.session) == []


def test_a_reference_recorded_concurrently_is_a_conflict_and_keeps_nothing(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UNIQUE(external_ref) of a trade another recorder wrote between the look-up and
    the insert: the driver's IntegrityError becomes a 409, and the unit of work rolls back."""

    def racing(*_args: object) -> None:
        raise sqlite3.IntegrityError("UNIQUE constraint failed: trade.external_ref")

    monkeypatch.setattr(bulk.batch, "write", racing)
    before = market.counts()
    with pytest.raises(Conflict):
        _import(market, _csv(market, {"D1A"}))
    assert market.counts() == before
