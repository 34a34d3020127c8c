"""The compliance arithmetic, on worked examples computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from carbon_market.compliance.rules.obligations import (
    ObligationInput,
    OffsetCaps,
    Surrendered,
    SurrenderLot,
    SurrenderRequest,
    kept_after_correction,
    obligation,
    offset_caps,
    penalty,
    price_window,
    surrender_problems,
)
from carbon_market.compliance.rules.rulebook import parse_rulebook, shipped

NATIONAL, BEIJING = shipped("national"), shipped("beijing")


def test_the_published_national_penalty_case():
    # 865 300 t short × 5 × 98.00 CNY/t = 423 997 000.00 CNY; the shortfall comes off next
    # year's allocation if left uncorrected.
    found = penalty(NATIONAL, shortfall_t=865_300, multiple=D("5"), average_price=D("98.00"))
    assert found.amount == D("423997000.00")
    assert found.allocation_deduction_t == 865_300


def test_a_beijing_penalty_rounds_once_to_the_fen_half_up():
    # 1 001 t × 3.5 = 3 503.5; × 71.235 = 249 571.8225 → 249 571.82; Beijing deducts nothing.
    found = penalty(BEIJING, shortfall_t=1001, multiple=D("3.5"), average_price=D("71.235"))
    assert found.amount == D("249571.82")
    assert found.allocation_deduction_t == 0
    # 5 t × 3 × 0.003 = 0.045 → 0.05 half up (banker's rounding would give 0.04).
    tiny = penalty(BEIJING, shortfall_t=5, multiple=D("3"), average_price=D("0.003"))
    assert tiny.amount == D("0.05")


@pytest.mark.parametrize(("book", "multiple"), [(NATIONAL, "4.99"), (NATIONAL, "10.01"),
                                                 (BEIJING, "2"), (BEIJING, "5.5")])  # fmt: skip
def test_a_multiple_outside_the_rulebooks_range_is_refused(book, multiple):
    with pytest.raises(ValueError, match="between"):
        penalty(book, shortfall_t=10, multiple=D(multiple), average_price=D("80"))


def test_national_power_caps_on_the_obligation():
    # A gas unit with 120 000 t verified and 100 000 t allocated owes 100 000 t.
    gas = ObligationInput(2022, verified_t=120_000, allocation_t=100_000, is_gas_unit=True)
    assert obligation(gas, NATIONAL).obligation_t == 100_000
    # A coal unit in 2022: 1 000 000 t verified, 850 000 t allocated: cap = 850 000 +
    # floor(10 % × 1 000 000) = 950 000 t, so it owes 950 000, not 1 000 000.
    coal = ObligationInput(2022, verified_t=1_000_000, allocation_t=850_000)
    capped = obligation(coal, NATIONAL)
    assert capped.obligation_t == 950_000
    assert capped.adjustment is not None
    # 10 % of 1 000 005 t is 100 000.5 t: the cap rounds down, 850 000 + 100 000.
    odd = replace(coal, verified_t=1_000_005)
    assert obligation(odd, NATIONAL).obligation_t == 950_000
    # In 2023 the shortfall cap does not apply; in Beijing neither cap does.
    assert obligation(replace(coal, year=2023), NATIONAL).obligation_t == 1_000_000
    assert obligation(gas, BEIJING).obligation_t == 120_000


def test_offset_caps():
    # National: 5 % of the units due: 123 457 t due → floor(6 172.85) = 6 172 t.
    assert offset_caps(NATIONAL, obligation_t=123_457, allocation_t=None) == OffsetCaps(6172, None)
    # Beijing: 5 % of the allocation, 2.5 % of it from outside Beijing: 80 001 t allocated →
    # floor(4 000.05) = 4 000 and floor(2 000.025) = 2 000.
    assert offset_caps(BEIJING, obligation_t=90_000, allocation_t=80_001) == OffsetCaps(4000, 2000)
    # No allocation known in Beijing: no offsets.
    assert offset_caps(BEIJING, obligation_t=90_000, allocation_t=None) == OffsetCaps(0, 0)


NOTHING_YET, CAPS = Surrendered(), OffsetCaps(500, 250)


def _problems(book, request, *, done=NOTHING_YET, caps=CAPS, due=10_000):
    return surrender_problems(
        book, year=2025, request=request, obligation_t=due, done=done, caps=caps
    )


def test_surrender_rules():
    ok = SurrenderRequest("allowance", 2025, 1_000)
    assert _problems(BEIJING, ok) == []
    assert _problems(BEIJING, replace(ok, vintage=2024)) == []  # banking is allowed
    assert [f for f, _ in _problems(BEIJING, replace(ok, vintage=2026))] == ["vintage"]
    no_banking = replace(BEIJING, banking=False)
    assert [f for f, _ in _problems(no_banking, replace(ok, vintage=2024))] == ["vintage"]
    # Local offsets count in Beijing, not in the national market.
    assert _problems(BEIJING, SurrenderRequest("local_offset", 2025, 10)) == []
    assert [f for f, _ in _problems(NATIONAL, SurrenderRequest("local_offset", 2025, 10))] == [
        "unit_kind"
    ]
    # More than is still due: 10 000 due, 9 500 surrendered, 501 asked.
    done = Surrendered(allowances_t=9_500)
    assert _problems(BEIJING, replace(ok, quantity=501), done=done) == [
        ("quantity", "more than the 500 t still due")
    ]
    assert [f for f, _ in _problems(BEIJING, replace(ok, quantity=0))] == ["quantity"]


def test_offset_surrenders_stay_within_both_caps():
    ccer = SurrenderRequest("ccer", 2025, 100, outside=True)
    # Cap 500, 450 surrendered: 100 more is over the cap, 50 left.
    assert _problems(BEIJING, ccer, done=Surrendered(offsets_t=450)) == [
        ("quantity", "over the offset cap: 50 t of offsets left")
    ]
    # Outside cap 250, 200 outside offsets so far: 100 more outside is over, 50 left;
    # the same 100 from a Beijing project is fine.
    done = Surrendered(offsets_t=200, outside_offsets_t=200)
    assert _problems(BEIJING, ccer, done=done) == [
        ("quantity", "over the cap on outside offsets: 50 t left")
    ]
    assert _problems(BEIJING, replace(ccer, outside=False), done=done) == []


def test_deadlines_and_price_windows():
    assert NATIONAL.deadline("surrender", 2025) == date(2026, 12, 31)
    assert BEIJING.deadline("surrender", 2025) == date(2026, 6, 30)
    # National: the month before the deadline; Beijing: the six months before.
    assert price_window(NATIONAL, 2025) == (date(2026, 12, 1), date(2026, 12, 31))
    assert price_window(BEIJING, 2025) == (date(2026, 1, 1), date(2026, 6, 30))
    # A deadline on 31 May 2024 is a month's end: six whole months, December to May.
    may = replace(BEIJING, deadlines={**BEIJING.deadlines, "surrender": "05-31"})
    assert price_window(may, 2023) == (date(2023, 12, 1), date(2024, 5, 31))
    # A mid-month deadline: 2026-06-15, one month back → 2026-05-16 to 2026-06-15.
    mid = replace(NATIONAL, deadlines={**NATIONAL.deadlines, "surrender": "06-15"})
    assert price_window(mid, 2025) == (date(2026, 5, 16), date(2026, 6, 15))


def test_a_malformed_rulebook_is_refused():
    good = {
        "name": "x", "title": "x", "deadlines": {"reporting": "03-31", "verification": "06-30",
        "surrender": "12-31"}, "surrenderable": {"allowance": "allowance"}, "banking": True,
        "offsets": {"basis": "obligation", "share_cap": "0.05", "outside_share_cap": None},
        "penalty": {"multiple_min": "5", "multiple_max": "10",
                    "price_window": "month_before_deadline", "deduct_uncorrected": True},
        "obligation_caps": {"gas_capped_at_allocation": False, "shortfall_share_cap": None,
                            "shortfall_cap_years": []},
    }  # fmt: skip
    assert parse_rulebook(good).name == "x"
    for broken in (
        {**good, "deadlines": {**good["deadlines"], "surrender": "02-30"}},
        {**good, "surrenderable": {"ccer": "bonus"}},
        {**good, "penalty": {**good["penalty"], "multiple_min": "11"}},
        {**good, "penalty": {**good["penalty"], "price_window": "forever"}},
        {k: v for k, v in good.items() if k != "offsets"},
    ):
        with pytest.raises(ValueError, match="malformed rulebook"):
            parse_rulebook(broken)
    with pytest.raises(KeyError, match="shipped: national, beijing"):
        shipped("shanghai")


# --- what a correction keeps surrendered (lots newest first) ---------------------------------

ALLOWANCES = False
CCER = True


def test_a_correction_returns_offsets_over_the_smaller_cap_and_keeps_allowances_instead():
    # National, cap 5 % of the obligation. 500 t CCER surrendered first (cap floor(5 % ×
    # 10 000) = 500), then 9 500 allowances. Corrected to 6 000 t: cap floor(5 % × 6 000)
    # = 300. Excess 10 000 − 6 000 = 4 000 off the newest (allowances): 5 500 kept. Offsets
    # 500 > 300: 200 CCER back, 300 kept. Those 200 t are kept in allowances instead:
    # 5 500 + 200 = 5 700. Kept 5 700 + 300 = 6 000; back 3 800 allowances + 200 CCER.
    lots = [SurrenderLot(9_500, ALLOWANCES), SurrenderLot(500, CCER)]
    caps = offset_caps(NATIONAL, obligation_t=6_000, allocation_t=None)
    assert caps.total_t == 300
    assert kept_after_correction(lots, obligation_t=6_000, caps=caps) == [5_700, 300]


def test_offsets_surrendered_last_go_back_first_and_nothing_more_is_returned():
    # Same figures, the CCER surrendered last: the 4 000 t excess takes the 500 CCER (newest)
    # and 3 500 allowances; no offsets kept, under any cap. Kept [0, 6 000].
    lots = [SurrenderLot(500, CCER), SurrenderLot(9_500, ALLOWANCES)]
    caps = offset_caps(NATIONAL, obligation_t=6_000, allocation_t=None)
    assert kept_after_correction(lots, obligation_t=6_000, caps=caps) == [0, 6_000]


def test_offsets_over_the_cap_go_back_even_with_nothing_surrendered_beyond_the_obligation():
    # 500 t CCER surrendered, nothing else yet; 10 000 → 6 000 t, cap 300: 200 CCER back.
    # No allowance was on its way back, so nothing makes up for them: 5 700 t still due.
    caps = offset_caps(NATIONAL, obligation_t=6_000, allocation_t=None)
    assert kept_after_correction([SurrenderLot(500, CCER)], obligation_t=6_000, caps=caps) == [300]


def test_a_small_correction_downwards_never_leaves_a_shortfall():
    # 10 000 → 9 990 t, cap floor(5 % × 9 990) = floor(499.5) = 499. CCER 500 first, then
    # 9 500 allowances. Excess 10 off the allowances: 9 490. Offsets 500 > 499: 1 CCER back,
    # 499 kept; 1 allowance kept instead: 9 491. Kept 9 491 + 499 = 9 990 = due.
    lots = [SurrenderLot(9_500, ALLOWANCES), SurrenderLot(500, CCER)]
    caps = offset_caps(NATIONAL, obligation_t=9_990, allocation_t=None)
    assert kept_after_correction(lots, obligation_t=9_990, caps=caps) == [9_491, 499]


def test_outside_offsets_over_their_cap_go_back_before_the_total_cap_is_applied():
    # Caps 300 t of offsets, of which 100 t from outside. Newest first: 5 000 allowances,
    # 200 t outside CCER, 300 t local CCER; obligation 5 300 (5 500 surrendered). Excess 200
    # off the allowances: 4 800. Outside 200 > 100: 100 back (100 kept). Offsets 100 + 300 =
    # 400 > 300: 100 more from the newest offset, the outside CCER: 0 kept. 200 t of offsets
    # back, made up by the 200 allowances: 5 000. Kept 5 000 + 0 + 300 = 5 300.
    lots = [
        SurrenderLot(5_000, ALLOWANCES),
        SurrenderLot(200, CCER, is_outside=True),
        SurrenderLot(300, CCER),
    ]
    caps = OffsetCaps(total_t=300, outside_t=100)
    assert kept_after_correction(lots, obligation_t=5_300, caps=caps) == [5_000, 0, 300]


def test_nothing_is_returned_when_the_corrected_obligation_admits_everything():
    lots = [SurrenderLot(9_500, ALLOWANCES), SurrenderLot(500, CCER)]
    caps = offset_caps(NATIONAL, obligation_t=12_000, allocation_t=None)  # cap 600
    assert kept_after_correction(lots, obligation_t=12_000, caps=caps) == [9_500, 500]
