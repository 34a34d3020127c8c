"""Auctions over HTTP: open, sealed bids inside the window and the limit, clearing and
settlement through the ledger, each step idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allocation.models import AuctionBid
from carbon_market.kernel.access.roles import Actor
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from tests.api.allocation.test_plans import PLAN
from tests.api.helpers import (
    OTHER_FUNDED,
    OWN_FUNDED,
    allowances,
    assert_problem,
    ledger_state,
    moves_nothing,
)

AU = "/api/v1/allocation/auctions"
SYSTEM = Actor.system(name="system:test")
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
AUCTION = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
#: 100 allowances of 2025 at 50.00 or more, 60 at most per bidder; the window is
#: 09:00–11:00 in Beijing on 2026-06-01, and the test clock stands at 10:00.
TERMS = {
    "year": 2025,
    "volume": 100,
    "reserve_price": "50.00",
    "bidder_limit": 60,
    "opens_at": "2026-06-01T09:00:00+08:00",
    "closes_at": "2026-06-01T11:00:00+08:00",
}


def bid(client: Any, headers: dict[str, str], auction: int, price: str, quantity: int) -> Any:
    return client.post(
        f"{AU}/{auction}/bids", json={"price": price, "quantity": quantity}, headers=headers
    )


def test_sealed_bids_clear_at_the_uniform_price_and_settle_once_through_the_ledger(
    client, session, tenants, bearer, clock
):
    created = client.post(AU, json=TERMS, headers=bearer["regulator"])
    assert created.status_code == 201, created.get_data(as_text=True)
    auction = created.get_json()
    assert (auction["status"], auction["vintage"], auction["clearing_price"]) == (
        "open",
        2025,
        None,
    )
    aid = auction["id"]
    own, other = bearer["enterprise_own"], bearer["enterprise_other"]

    for headers, price, quantity in [
        (own, "60.00", 40),  # bid 1
        (other, "55.00", 50),  # bid 2
        (own, "55.00", 20),  # bid 3: own asks for 60, its limit
        (other, "52.00", 10),  # bid 4
    ]:
        response = bid(client, headers, aid, price, quantity)
        assert response.status_code == 201, response.get_data(as_text=True)

    with moves_nothing(client.application):
        over = bid(client, own, aid, "70.00", 1)
        below = bid(client, other, aid, "49.99", 5)
        cents = bid(client, other, aid, "55.001", 5)
        float_qty = bid(client, other, aid, "55.00", 1.5)
        early_clear = client.post(f"{AU}/{aid}/clear", headers=bearer["regulator"])
        sealed = client.get(f"{AU}/{aid}/bids", headers=bearer["regulator"])
    assert_problem(over, 422, "rule-violation", pointers={"#/quantity"})
    assert_problem(below, 422, "rule-violation", pointers={"#/price"})
    assert_problem(cents, 422, "validation-failed", pointers={"#/price"})
    assert_problem(float_qty, 422, "validation-failed", pointers={"#/quantity"})
    assert_problem(early_clear, 409, "conflict")
    assert_problem(sealed, 409, "conflict")
    # A bidder sees its own bids and nobody else's.
    mine = client.get(f"{AU}/{aid}/bids", headers=own).get_json()["items"]
    assert [(b["price"], b["quantity"]) for b in mine] == [("60.00", 40), ("55.00", 20)]

    clock.advance(timedelta(hours=1))  # 11:00 in Beijing: the window has closed
    assert_problem(bid(client, other, aid, "80.00", 1), 422, "rule-violation")

    cleared = client.post(f"{AU}/{aid}/clear", headers=bearer["regulator"])
    assert cleared.status_code == 200, cleared.get_data(as_text=True)
    # By hand: 60.00 fills bid 1 (40), 60 left. At 55.00 bids 2 and 3 ask 70 > 60: pro rata
    # 60 × 50/70 = 42.857 and 60 × 20/70 = 17.142; floors 42 + 17 = 59, the unit left goes
    # to the larger remainder (.857, bid 2): 43 and 17. Bid 4 (52.00) gets nothing. Everyone
    # pays 55.00: own 40 × 55 + 17 × 55 = 2,200 + 935; other 43 × 55 = 2,365; 5,500 in all.
    assert (cleared.get_json()["clearing_price"], cleared.get_json()["sold"]) == ("55.00", 100)
    with moves_nothing(client.application):
        again = client.post(f"{AU}/{aid}/clear", headers=bearer["regulator"])
    assert again.get_json() == cleared.get_json()
    bids = client.get(f"{AU}/{aid}/bids", headers=bearer["auditor"]).get_json()["items"]
    assert [(b["awarded"], b["amount_due"]) for b in bids] == [
        (40, "2200.00"),
        (43, "2365.00"),
        (17, "935.00"),
        (0, "0.00"),
    ]

    # The auction account is empty: settling is refused and moves nothing.
    with moves_nothing(client.application):
        short = client.post(f"{AU}/{aid}/settle", headers=bearer["regulator"])
    assert_problem(short, 422, "insufficient-holding")
    ledger.request_transfer(
        session, SYSTEM, from_account=RESERVE, to_account=AUCTION, unit_kind="allowance",
        vintage=2025, quantity=100,
    )  # fmt: skip
    settled = client.post(f"{AU}/{aid}/settle", headers=bearer["regulator"])
    assert settled.status_code == 200, settled.get_data(as_text=True)
    assert settled.get_json() == {
        "auction_id": aid, "settled": 3, "units": 100, "amount_due": "5500.00",
        "already_settled": 0,
    }  # fmt: skip
    with moves_nothing(client.application):
        repeat = client.post(f"{AU}/{aid}/settle", headers=bearer["regulator"])
    assert repeat.get_json()["settled"] == 0
    assert repeat.get_json()["already_settled"] == 3
    assert allowances(client, bearer["regulator"], tenants.own_account)[0] == OWN_FUNDED + 57
    assert allowances(client, bearer["regulator"], tenants.other_account)[0] == OTHER_FUNDED + 43
    assert allowances(client, bearer["regulator"], AUCTION)[0] == 0
    assert client.get(f"{AU}/{aid}", headers=own).get_json()["status"] == "settled"
    kinds = {
        client.get(
            f"/api/v1/transactions/{b.settlement_tx_id}", headers=bearer["regulator"]
        ).get_json()["kind"]
        for b in session.query(AuctionBid).filter(AuctionBid.awarded > 0)
    }
    assert kinds == {"auction_settlement"}


def test_bids_before_the_window_are_refused_and_nothing_is_written(client, tenants, bearer):
    later = {
        **TERMS,
        "opens_at": "2026-06-02T09:00:00+08:00",
        "closes_at": "2026-06-02T11:00+08:00",
    }
    aid = client.post(AU, json=later, headers=bearer["regulator"]).get_json()["id"]
    with moves_nothing(client.application):
        early = bid(client, bearer["enterprise_own"], aid, "60.00", 1)
    problem = assert_problem(early, 422, "rule-violation")
    assert "2026-06-02 09:00 CST" in problem["detail"]


def test_bad_terms_are_reported_together_and_nothing_is_opened(client, tenants, bearer):
    bad = {
        **TERMS,
        "bidder_limit": 101,
        "unit_kind": "gold",
        "closes_at": "2026-06-01T08:00:00+08:00",
    }
    with moves_nothing(client.application):
        response = client.post(AU, json=bad, headers=bearer["regulator"])
    assert_problem(
        response,
        422,
        "validation-failed",
        pointers={"#/bidder_limit", "#/unit_kind", "#/closes_at"},
    )
    no_year = {k: v for k, v in TERMS.items() if k != "year"}
    assert_problem(
        client.post(AU, json=no_year, headers=bearer["regulator"]),
        422,
        "validation-failed",
        pointers={"#/year"},
    )


def test_a_plans_auctions_stay_within_its_auctioned_share(client, tenants, bearer):
    # PLAN: cap 1,000 × auction share 0.03 = 30 units for auction in all.
    plan_id = client.post("/api/v1/allocation/plans", json=PLAN, headers=bearer["regulator"])
    plan_id = plan_id.get_json()["id"]
    terms = {k: v for k, v in TERMS.items() if k != "year"} | {"plan_id": plan_id}
    terms |= {"volume": 20, "bidder_limit": 20}
    draft = client.post(AU, json=terms, headers=bearer["regulator"])
    assert_problem(draft, 409, "conflict")
    client.post(f"/api/v1/allocation/plans/{plan_id}/approve", headers=bearer["regulator_second"])

    first = client.post(AU, json=terms, headers=bearer["regulator"])
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["year"] == 2025
    with moves_nothing(client.application):
        over = client.post(
            AU, json=terms | {"volume": 11, "bidder_limit": 10}, headers=bearer["regulator"]
        )
    assert_problem(over, 422, "rule-violation", pointers={"#/volume"})
    last = client.post(
        AU, json=terms | {"volume": 10, "bidder_limit": 10}, headers=bearer["regulator"]
    )
    assert last.status_code == 201, last.get_data(as_text=True)


def test_an_auction_nobody_bid_in_clears_with_no_price_and_settles_nothing(
    client, tenants, bearer, clock
):
    aid = client.post(AU, json=TERMS, headers=bearer["regulator"]).get_json()["id"]
    clock.advance(timedelta(hours=2))
    cleared = client.post(f"{AU}/{aid}/clear", headers=bearer["regulator"]).get_json()
    assert (cleared["status"], cleared["clearing_price"], cleared["sold"]) == ("cleared", None, 0)
    before = ledger_state(client.application)
    settled = client.post(f"{AU}/{aid}/settle", headers=bearer["regulator"])
    # Nothing to move: the auction is marked settled and no transaction is posted.
    assert ledger_state(client.application) == before
    assert settled.get_json()["units"] == 0
    assert client.get(f"{AU}/{aid}", headers=bearer["auditor"]).get_json()["status"] == "settled"


def test_a_sealed_bid_stays_sealed_in_the_audit_log(client, tenants, bearer):
    created = client.post(AU, json=TERMS, headers=bearer["regulator"])
    aid = created.get_json()["id"]
    placed = bid(client, bearer["enterprise_own"], aid, "61.37", 17)
    assert placed.status_code == 201, placed.get_data(as_text=True)

    # The window is open: the regulator cannot read the bid, directly or through the audit
    # log, which records that a bid was placed and by whom, not its price or quantity.
    events = client.get(
        "/api/v1/audit-events?entity_type=allocation_auction", headers=bearer["regulator"]
    )
    assert events.status_code == 200, events.get_data(as_text=True)
    bids = [e for e in events.get_json()["items"] if e["action"] == "auction:bid"]
    assert len(bids) == 1
    text = str(bids[0])
    assert "61.37" not in text
    assert set(bids[0]["after"]) == {"bid", "enterprise_id"}
    assert bids[0]["after"]["bid"] == placed.get_json()["id"]


def test_terms_and_bids_beyond_what_the_columns_hold_are_refused_and_change_nothing(
    client, tenants, bearer
):
    # Prices are stored in fen and amounts due are awarded × price, in 64-bit columns: a
    # volume or a price past the bounds once reached the database and overflowed (a 500).
    regulator = bearer["regulator"]
    with moves_nothing(client.application):
        huge = client.post(
            AU,
            json=TERMS | {"volume": 2**63, "bidder_limit": 2**63, "reserve_price": "1e30"},
            headers=regulator,
        )
        over = client.post(
            AU,
            json=TERMS | {"volume": 10**10 + 1, "reserve_price": "1000000.00"},
            headers=regulator,
        )
        no_plan = client.post(AU, json=TERMS | {"plan_id": 2**63}, headers=regulator)
    assert_problem(
        huge, 422, "validation-failed", pointers={"#/volume", "#/bidder_limit", "#/reserve_price"}
    )
    assert_problem(over, 422, "validation-failed", pointers={"#/volume", "#/reserve_price"})
    assert_problem(no_plan, 422, "validation-failed", pointers={"#/plan_id"})
    # At the bounds: 10,000,000,000 units at 999,999.99 owe 9,999,999,900,000,000.00 CNY.
    most = TERMS | {"volume": 10**10, "bidder_limit": 10**10, "reserve_price": "999999.99"}
    opened = client.post(AU, json=most, headers=regulator)
    assert opened.status_code == 201, opened.get_data(as_text=True)
    aid = client.post(AU, json=TERMS, headers=regulator).get_json()["id"]
    own = bearer["enterprise_own"]
    with moves_nothing(client.application):
        dear = bid(client, own, aid, "1e30", 1)
        dearer = bid(client, own, aid, "1000000.00", 1)
    assert_problem(dear, 422, "validation-failed", pointers={"#/price"})
    assert_problem(dearer, 422, "validation-failed", pointers={"#/price"})
