"""Uniform-price sealed-bid clearing, against examples worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

from allocation.rules.clearing import Bid, clear_auction


def bid(bidder: str, price: str, quantity: int, sequence: int) -> Bid:
    return Bid(bidder, D(price), quantity, sequence)


def test_bids_fill_from_the_highest_price_and_everyone_pays_the_lowest_accepted():
    # Volume 100: A 60 @ 80 and B 30 @ 75 fill 90; C asks 50 @ 70 and gets the last 10.
    # D bids 65, below C: nothing. Clearing price = 70 (C's, the lowest accepted).
    clearing = clear_auction(
        [bid("A", "80", 60, 1), bid("B", "75", 30, 2), bid("C", "70", 50, 3), bid("D", "65", 9, 4)],
        volume=100,
        reserve_price=D("50"),
    )
    assert clearing.price == D("70")
    assert [(a.bid.bidder, a.quantity) for a in clearing.awards] == [
        ("A", 60),
        ("B", 30),
        ("C", 10),
    ]


def test_ties_at_the_margin_share_pro_rata_by_largest_remainder_then_earliest_bid():
    # 10 units left for three bids at 70 asking 10, 10 and 10 (30): 10 × 10/30 = 3.33… each:
    # floors 3 + 3 + 3 = 9; one unit left, equal remainders: the earliest bid (sequence 1).
    clearing = clear_auction(
        [bid("late", "70", 10, 3), bid("early", "70", 10, 1), bid("mid", "70", 10, 2)],
        volume=10,
        reserve_price=D("1"),
    )
    assert {a.bid.bidder: a.quantity for a in clearing.awards} == {"early": 4, "mid": 3, "late": 3}
    assert clearing.sold == 10


def test_nothing_clears_below_the_reserve_price():
    clearing = clear_auction([bid("A", "40", 10, 1)], volume=10, reserve_price=D("50"))
    assert (clearing.price, clearing.sold, clearing.awards) == (None, 0, ())
    # Undersubscribed above the reserve: all bids win at the lowest one's price.
    clearing = clear_auction(
        [bid("A", "60", 3, 1), bid("B", "55", 2, 2)], volume=10, reserve_price=D("50")
    )
    assert (clearing.price, clearing.sold) == (D("55"), 5)
