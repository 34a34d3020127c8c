"""Auctions and the reserve under concurrency (PostgreSQL): the per-bidder limit holds when
one bidder's bids race, settlement racing itself moves each award once, new entrants
racing for the last of the reserve never take more than it has, and approvals of one
record racing each other move its units once; auctions racing for a plan's auctioned
share, plans racing for one name, and a plan issued whole while it is pre-allocated."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from threading import Lock

import pytest
from sqlalchemy import func, select

from allocation import auctions, service
from allocation.models import AllocationAdjustment, AllocationPlan, Auction, AuctionBid, Stage
from allocation.reserve import decisions, entrants
from allocation.rules.inputs import BenchmarkInputs
from carbon_market.emitters import service as emitters
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import LedgerTransaction
from carbon_market.ledger.verify import verify_ledger
from tests.factories import make_enterprise, make_user
from tests.postgres.test_concurrency import WORKERS, _race

pytestmark = pytest.mark.postgres
SYSTEM = Actor.system(name="system:race")
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
AUCTION = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
JULY = date(2025, 7, 1)


def _auction(session, **terms):
    return auctions.open_auction(
        session, SYSTEM, year=2025, volume=100, reserve_price=D("50.00"),
        opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(hours=1), **terms,
    )  # fmt: skip


def test_racing_bids_of_one_bidder_stay_within_its_limit(app, session):
    firm = make_enterprise(session, name="北京竞价有限公司")
    bidder = actor_for(make_user(session, role=Role.ENTERPRISE, name="bidder", enterprise=firm))
    auction = _auction(session, bidder_limit=30)
    session.commit()

    outcomes = _race(app, lambda s: auctions.submit_bid(
        s, bidder, auction.id, price=D("60.00"), quantity=10))  # fmt: skip

    # 8 bids of 10 against a limit of 30: three fit, the rest are refused.
    assert outcomes == Counter({"ok": 3, "RuleViolation": WORKERS - 3})
    asked = session.scalar(select(func.sum(AuctionBid.quantity)))
    assert asked == 30


def test_settlement_racing_itself_moves_each_award_once(app, session, clock):
    firm = make_enterprise(session, name="北京竞价有限公司")
    bidder = actor_for(make_user(session, role=Role.ENTERPRISE, name="bidder", enterprise=firm))
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=2025, quantity=1000)
    ledger.request_transfer(session, SYSTEM, from_account=RESERVE, to_account=AUCTION,
                            unit_kind="allowance", vintage=2025, quantity=100)  # fmt: skip
    auction = _auction(session, bidder_limit=100)
    auctions.submit_bid(session, bidder, auction.id, price=D("60.00"), quantity=70)
    clock.advance(timedelta(hours=2))
    auctions.clear(session, SYSTEM, auction.id)
    session.commit()

    outcomes = _race(app, lambda s: auctions.settle(s, SYSTEM, auction.id))

    assert outcomes == Counter({"ok": WORKERS})
    session.expire_all()
    settled = session.scalars(select(AuctionBid.settlement_tx_id)).all()
    assert len(settled) == 1
    assert settled[0] is not None
    assert verify_ledger(session) == []


def test_new_entrants_racing_for_the_last_of_the_reserve_take_no_more_than_it_has(app, session):
    # Reserve: floor(10,000 × 0.05) = 500. Each entrant: 1,000 MWh of gas × 0.3305 = 330.5 t
    # a year, from July: 6 months → 165.25 → 165. Three fit (495), the other five do not:
    # pending records count against the reserve as soon as they are recorded.
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=2025, quantity=10000)
    document = {
        "year": 2025, "cap": 10000, "reserve_share": "0.05", "auction_share": "0.03",
        "base_years": [2022, 2023, 2024],
        "sectors": {"power": {"method": "benchmark", "benchmarks": {"gas": "0.3305"}}},
    }  # fmt: skip
    plan = service.create_plan(session, SYSTEM, document=document)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    units = []
    for n in range(WORKERS):
        firm = make_enterprise(session, name=f"北京新燃机{n}有限公司", sector="power")
        facility = emitters.add_facility(session, SYSTEM, firm.id, name="燃机", facility_type="gas")
        units.append(facility.id)
    session.commit()
    queue, lock = iter(units), Lock()

    def record(s):
        with lock:
            facility_id = next(queue)
        entrants.record_entrant(
            s,
            SYSTEM,
            plan.id,
            inputs=BenchmarkInputs(facility_id=facility_id, output=D("1000")),
            start_date=JULY,
        )

    outcomes = _race(app, record)

    assert outcomes == Counter({"ok": 3, "RuleViolation": WORKERS - 3})
    issued = session.scalar(select(func.sum(AllocationAdjustment.quantity)))
    assert issued == 495
    assert verify_ledger(session) == []


def test_approvals_of_one_record_racing_each_other_move_its_units_once(app, session):
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=2025, quantity=10000)
    document = {
        "year": 2025, "cap": 10000, "reserve_share": "0.05", "auction_share": "0.03",
        "base_years": [2022, 2023, 2024],
        "sectors": {"power": {"method": "benchmark", "benchmarks": {"gas": "0.3305"}}},
    }  # fmt: skip
    plan = service.create_plan(session, SYSTEM, document=document)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    firm = make_enterprise(session, name="北京新燃机有限公司", sector="power")
    facility = emitters.add_facility(session, SYSTEM, firm.id, name="燃机", facility_type="gas")
    # 1,000 MWh × 0.3305 = 330.5 t a year, from July → 165.
    pending = entrants.record_entrant(
        session,
        SYSTEM,
        plan.id,
        inputs=BenchmarkInputs(facility_id=facility.id, output=D("1000")),
        start_date=JULY,
    )
    session.commit()
    approver = Actor.system(name="system:second")

    outcomes = _race(app, lambda s: decisions.approve_record(
        s, approver, plan.id, pending.id, stage=Stage.NEW_ENTRANT))  # fmt: skip

    # Every approval answers (the later ones find it approved and move nothing).
    assert outcomes == Counter({"ok": WORKERS})
    session.expire_all()
    row = session.get_one(AllocationAdjustment, pending.id)
    assert (row.status, row.tx_id is not None) == ("approved", True)
    moved = session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(
            LedgerTransaction.memo.like(f"allocation plan {plan.id}, new_entrant {pending.id},%")
        )
    )
    assert moved == 1
    assert verify_ledger(session) == []


def _approved_plan(session):
    document = {
        "year": 2025, "cap": 10000, "reserve_share": "0.05", "auction_share": "0.03",
        "base_years": [2022, 2023, 2024],
        "sectors": {"power": {"method": "benchmark", "benchmarks": {"gas": "0.3305"}}},
    }  # fmt: skip
    plan = service.create_plan(session, SYSTEM, document=document)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    return plan


def test_auctions_of_one_plan_opened_at_once_stay_within_its_auctioned_share(app, session):
    # floor(10,000 × 0.03) = 300 units for auction: three auctions of 100 fit. Each opening
    # once read the volumes so far without a lock, so all eight passed the check.
    plan = _approved_plan(session)
    session.commit()

    outcomes = _race(app, lambda s: auctions.open_auction(
        s, SYSTEM, plan_id=plan.id, volume=100, reserve_price=D("50.00"), bidder_limit=100,
        opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(hours=1),
    ))  # fmt: skip

    assert outcomes == Counter({"ok": 3, "RuleViolation": WORKERS - 3})
    assert session.scalar(select(func.sum(Auction.volume))) == 300


def test_plans_of_one_name_created_at_once_are_one_plan_and_conflicts(app, session):
    # The name check read before the insert: the losers hit the unique index (a 500).
    document = {
        "year": 2025, "cap": 10000, "reserve_share": "0.05", "auction_share": "0.03",
        "base_years": [2022, 2023, 2024],
        "sectors": {"power": {"method": "benchmark", "benchmarks": {"gas": "0.3305"}}},
    }  # fmt: skip
    session.commit()

    outcomes = _race(app, lambda s: service.create_plan(s, SYSTEM, document=document))

    assert outcomes == Counter({"ok": 1, "Conflict": WORKERS - 1})
    assert session.scalar(select(func.count()).select_from(AllocationPlan)) == 1


def test_issuing_a_plan_whole_and_pre_allocating_it_at_once_never_do_both(app, session):
    # Issuing checked "no pre-allocation" in its first unit of work, then moved results in
    # later ones without looking again: a pre-allocation started in between went ahead too,
    # and the kiln received its allocation and 70% of it again.
    from allocation.issuing import stages
    from allocation.issuing import whole as issuing
    from tests.api.allocation.test_plans import approved_reports

    kiln = make_enterprise(session, name="北京乙水泥有限公司", sector="cement")
    emitters.add_facility(session, SYSTEM, kiln.id, name="1号回转窑", facility_type="kiln")
    make_user(session, role=Role.VERIFIER, name="verifier")
    approved_reports(session, kiln.credit_code, [2022, 2023, 2024])
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=2025, quantity=10000)
    document = {
        "year": 2025, "cap": 10000, "reserve_share": "0.05", "auction_share": "0.03",
        "base_years": [2022, 2023, 2024], "pre_allocation_share": "0.7",
        "sectors": {"cement": {"method": "historical_emissions", "control_factor": "0.97"}},
    }  # fmt: skip
    plan = service.create_plan(session, SYSTEM, document=document)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    session.commit()
    turn, lock = iter(range(WORKERS)), Lock()

    def issue_or_pre_allocate(s):
        with lock:
            n = next(turn)
        if n % 2:
            issuing.issue_plan(s, SYSTEM, plan.id)
        else:
            stages.pre_allocate(s, SYSTEM, plan.id)

    outcomes = _race(app, issue_or_pre_allocate)

    assert set(outcomes) <= {"ok", "Conflict"}
    moved = session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.memo.like(f"allocation plan {plan.id}%"))
    )
    # 268.3 × 0.97 = 260.251 → 260 whole, or floor(0.7 × 260) = 182 pre-allocated: one
    # movement either way, never both.
    assert moved == 1, outcomes
    assert verify_ledger(session) == []
