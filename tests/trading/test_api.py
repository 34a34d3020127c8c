"""The trading API: record, list, reference prices, statistics, surveillance and the
trade-file import, with problem+json refusals that move nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import assert_problem, csv_text, moves_nothing, multipart
from tests.conftest import AuthActions
from tests.trading.conftest import ALPHA_ALLOCATION, BETA_ALLOCATION, Market

TRADES = "/api/v1/trades"
COLUMNS = [
    "external_ref", "kind", "seller_account", "buyer_account", "unit_kind", "vintage",
    "quantity", "price", "traded_at",
]  # fmt: skip


@pytest.fixture
def headers(auth: AuthActions, market: Market) -> dict[str, dict[str, str]]:
    return {name: auth.headers(SimpleNamespace(name=name)) for name in ("exchange", "regulator")}


def body(market: Market, **overrides: object) -> dict[str, object]:
    return {
        "kind": "listed",
        "seller_account": market.alpha,
        "buyer_account": market.beta,
        "unit_kind": "allowance",
        "vintage": 2025,
        "quantity": 100,
        "price": "100.00",
        "traded_at": "2026-06-01T10:00:00+08:00",
        "external_ref": "EX-1",
        **overrides,
    }


def test_record_then_replay_then_conflict(
    client: FlaskClient, app: Flask, market: Market, headers: dict[str, dict[str, str]]
) -> None:
    first = client.post(TRADES, json=body(market), headers=headers["exchange"])
    assert first.status_code == 201, first.get_json()
    trade = first.get_json()
    assert (trade["status"], trade["price"], trade["amount"]) == ("settled", "100.00", "10000.00")
    assert trade["seller_account"] == market.alpha
    with moves_nothing(app):
        again = client.post(TRADES, json=body(market), headers=headers["exchange"])
        assert (again.status_code, again.get_json()["id"]) == (200, trade["id"])
        clash = client.post(TRADES, json=body(market, price="101.00"), headers=headers["exchange"])
    assert_problem(clash, 409, "conflict", pointers={"#/price"})
    listed = client.get(TRADES, headers=headers["regulator"]).get_json()
    assert [t["external_ref"] for t in listed["items"]] == ["EX-1"]


@pytest.mark.parametrize(
    ("overrides", "status", "slug", "pointer"),
    [
        ({"price": "110.01"}, 422, "rule-violation", "#/price"),
        ({"price": "89.99"}, 422, "rule-violation", "#/price"),
        ({"quantity": 0}, 422, "validation-failed", "#/quantity"),
        ({"quantity": 1.5}, 422, "validation-failed", "#/quantity"),
        ({"price": "100.001"}, 422, "validation-failed", "#/price"),
        ({"seller_account": "BJ20000000000019"}, 422, "validation-failed", "#/seller_account"),
        ({"quantity": 5000}, 422, "insufficient-holding", "#/quantity"),
    ],
)
def test_bad_trades_are_problems_and_move_nothing(
    client: FlaskClient,
    app: Flask,
    market: Market,
    headers: dict[str, dict[str, str]],
    overrides: dict[str, object],
    status: int,
    slug: str,
    pointer: str,
) -> None:
    sender = market.beta if "quantity" in overrides and overrides["quantity"] == 5000 else None
    extra = {"seller_account": sender, "buyer_account": market.alpha} if sender else {}
    with moves_nothing(app):
        response = client.post(
            TRADES, json=body(market, **{**overrides, **extra}), headers=headers["exchange"]
        )
    assert_problem(response, status, slug, pointers={pointer})


def test_reference_price_stats_and_csv(
    client: FlaskClient, market: Market, headers: dict[str, dict[str, str]]
) -> None:
    reset = client.post(
        "/api/v1/market/reference-prices",
        json={"unit_kind": "allowance", "date": "2026-06-01", "price": "50.00"},
        headers=headers["regulator"],
    )
    assert reset.status_code == 200, reset.get_json()  # replaces the fixture's 100.00
    assert reset.get_json()["price"] == "50.00"
    client.post(TRADES, json=body(market, price="55.00"), headers=headers["exchange"])
    query = "unit_kind=allowance&from=2026-06-01&to=2026-06-30"
    rows = client.get(f"/api/v1/market/stats?{query}", headers=headers["exchange"]).get_json()
    assert rows[0] | {"close_ma5": None} == {
        "date": "2026-06-01", "open": "55.00", "high": "55.00", "low": "55.00",
        "close": "55.00", "vwap": "55.00", "volume": 100, "turnover": "5500.00", "trades": 1,
        "close_ma5": None, "close_ma20": None, "volume_ma20": None,
    }  # fmt: skip
    as_csv = client.get(f"/api/v1/market/stats?{query}&format=csv", headers=headers["regulator"])
    assert as_csv.mimetype == "text/csv"
    assert as_csv.get_data(as_text=True).splitlines()[1].startswith("2026-06-01,55.00,")
    flags = client.get(f"/api/v1/market/surveillance?{query}", headers=headers["regulator"])
    assert flags.status_code == 200
    # 55.00 is the top of the listed band around 50.00 (45.00 .. 55.00)
    assert [(f["reason"], f["trade"]["external_ref"]) for f in flags.get_json()] == [
        ("price_at_limit", "EX-1")
    ]


def _file(market: Market, rows: list[list[str]]) -> dict[str, object]:
    return multipart(file=("trades.csv", csv_text(COLUMNS, rows)))


def _row(market: Market, ref: str, quantity: str = "100", price: str = "100.00") -> list[str]:
    return [ref, "listed", market.alpha, market.beta, "allowance", "2025", quantity, price,
            "2026-06-01T10:00:00+08:00"]  # fmt: skip


def test_import_is_all_or_nothing_and_a_second_import_changes_nothing(
    client: FlaskClient, app: Flask, market: Market, headers: dict[str, dict[str, str]]
) -> None:
    bad = [_row(market, "F1"), _row(market, "F2", price="120.00"), _row(market, "F3", "1.5")]
    with moves_nothing(app):
        refused = client.post(f"{TRADES}/import", headers=headers["exchange"], **_file(market, bad))
    assert_problem(
        refused, 422, "validation-failed", pointers={"#/trades/rows/4/quantity"}
    )  # shape errors first: row 4 (header = 1) has a fractional quantity
    bad[2] = _row(market, "F3")
    with moves_nothing(app):
        refused = client.post(f"{TRADES}/import", headers=headers["exchange"], **_file(market, bad))
    assert_problem(refused, 422, "validation-failed", pointers={"#/trades/rows/3/price"})
    good = [_row(market, "F1"), _row(market, "F2", price="101.00"), _row(market, "F3")]
    done = client.post(f"{TRADES}/import", headers=headers["exchange"], **_file(market, good))
    assert done.status_code == 201, done.get_json()
    assert done.get_json() == {"rows": 3, "recorded": 3, "unchanged": 0}
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 300
    with moves_nothing(app):
        again = client.post(f"{TRADES}/import", headers=headers["exchange"], **_file(market, good))
    assert again.get_json() == {"rows": 3, "recorded": 0, "unchanged": 3}
    assert market.held(market.beta) == BETA_ALLOCATION + 300
