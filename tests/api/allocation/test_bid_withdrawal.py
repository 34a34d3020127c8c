"""Withdrawing a sealed bid while the window is open: kept as ``withdrawn``, out of the
per-bidder limit and the clearing, sealed in the audit log; firm after the close."""

from __future__ import annotations

from datetime import timedelta

from tests.api.allocation.test_auctions import AU, TERMS, bid
from tests.api.helpers import assert_problem, moves_nothing


def withdraw(client, headers, auction: int, bid_id: int):
    return client.post(f"{AU}/{auction}/bids/{bid_id}/withdraw", headers=headers)


def test_a_withdrawn_bid_frees_the_limit_stays_out_of_the_clearing_and_may_be_replaced(
    client, tenants, bearer, clock
):
    aid = client.post(AU, json=TERMS, headers=bearer["regulator"]).get_json()["id"]
    own, other = bearer["enterprise_own"], bearer["enterprise_other"]
    first = bid(client, own, aid, "70.00", 60).get_json()  # own's whole limit of 60
    assert_problem(bid(client, own, aid, "65.00", 1), 422, "rule-violation")

    withdrawn = withdraw(client, own, aid, first["id"])
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert withdrawn.get_json()["withdrawn_at"] is not None
    with moves_nothing(client.application):
        twice = withdraw(client, own, aid, first["id"])
    assert_problem(twice, 409, "conflict")
    # Bidding again after withdrawing: the limit counts submitted bids only (50 + 10 = 60).
    assert bid(client, own, aid, "55.00", 50).status_code == 201
    assert bid(client, own, aid, "54.00", 10).status_code == 201
    assert bid(client, other, aid, "60.00", 60).status_code == 201
    # The withdrawn bid is kept: its bidder still sees it, marked.
    mine = client.get(f"{AU}/{aid}/bids", headers=own).get_json()["items"]
    assert [(b["quantity"], b["status"]) for b in mine] == [
        (60, "withdrawn"), (50, "submitted"), (10, "submitted"),
    ]  # fmt: skip

    clock.advance(timedelta(hours=1))  # 11:00 in Beijing: the window has closed
    with moves_nothing(client.application):
        late = withdraw(client, own, aid, mine[1]["id"])
    assert_problem(late, 422, "rule-violation")
    cleared = client.post(f"{AU}/{aid}/clear", headers=bearer["regulator"]).get_json()
    # By hand, without the withdrawn 70.00 × 60: other's 60.00 × 60 fills 60 of 100; own's
    # 55.00 × 50 fills 40 of its 50 (the 40 left); 54.00 × 10 gets nothing. Price 55.00.
    # Had the withdrawn bid counted, it would have won 60 at the top and the price would
    # have been 60.00.
    assert (cleared["clearing_price"], cleared["sold"]) == ("55.00", 100)
    bids = client.get(f"{AU}/{aid}/bids", headers=bearer["auditor"]).get_json()["items"]
    assert [(b["status"], b["awarded"]) for b in bids] == [
        ("withdrawn", None), ("submitted", 40), ("submitted", 0), ("submitted", 60),
    ]  # fmt: skip
    with moves_nothing(client.application):
        after_clearing = withdraw(client, own, aid, mine[2]["id"])
    assert_problem(after_clearing, 409, "conflict")


def test_only_the_bidder_may_withdraw_its_bid(client, tenants, bearer):
    aid = client.post(AU, json=TERMS, headers=bearer["regulator"]).get_json()["id"]
    placed = bid(client, bearer["enterprise_own"], aid, "61.37", 17).get_json()
    other_aid = client.post(AU, json=TERMS, headers=bearer["regulator"]).get_json()["id"]
    with moves_nothing(client.application):
        theirs = withdraw(client, bearer["enterprise_other"], aid, placed["id"])
        missing = withdraw(client, bearer["enterprise_own"], aid, 999999)
        elsewhere = withdraw(client, bearer["enterprise_own"], other_aid, placed["id"])
        regulator = withdraw(client, bearer["regulator"], aid, placed["id"])
    # Another enterprise's bid answers exactly like a missing one.
    assert_problem(theirs, 404, "not-found")
    assert_problem(missing, 404, "not-found")
    assert_problem(elsewhere, 404, "not-found")
    assert_problem(regulator, 403, "permission-denied")


def test_a_withdrawal_stays_sealed_in_the_audit_log(client, tenants, bearer):
    aid = client.post(AU, json=TERMS, headers=bearer["regulator"]).get_json()["id"]
    placed = bid(client, bearer["enterprise_own"], aid, "61.37", 17).get_json()
    assert withdraw(client, bearer["enterprise_own"], aid, placed["id"]).status_code == 200

    events = client.get(
        "/api/v1/audit-events?entity_type=allocation_auction", headers=bearer["regulator"]
    ).get_json()["items"]
    [event] = [e for e in events if e["action"] == "auction:withdraw_bid"]
    assert "61.37" not in str(event)
    assert set(event["after"]) == {"bid", "enterprise_id", "status"}
