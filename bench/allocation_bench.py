"""Allocation benchmark: compute a plan over N facilities, and issue M allocations.

Prints figures (never asserted). ``docs/performance.md`` records them.

    .venv/bin/python bench/allocation_bench.py --facilities 100000 --issue 10000
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from allocation.files import read_facilities, write_results
from allocation.rules.engine import compute
from allocation.rules.plan import parse_plan
from carbon_market.entrypoints.features import load_models, wire

# As every entry point does: every model mapped, and the features wired to each other's
# events (registering an enterprise opens its compliance account through the ledger).
load_models()
wire()

PLAN = {
    "year": 2025,
    "cap": 45_000_000,
    "reserve_share": "0.05",
    "auction_share": "0.03",
    "base_years": [2022, 2023, 2024],
    "sectors": {
        "cement": {"method": "historical_emissions", "control_factor": "0.97"},
        "services": {"method": "historical_intensity", "control_factor": "0.98"},
        "power": {
            "method": "benchmark",
            "benchmarks": {
                "coal_300mw_plus": "0.7950",
                "coal_300mw_below": "0.8218",
                "gas": "0.3305",
            },
            "heat_benchmark": "0.1260",
        },
    },
}
SECTORS = ["cement", "services", "power"]
CATEGORIES = ["coal_300mw_plus", "coal_300mw_below", "gas"]


def facilities_csv(count: int, seed: int = 1) -> str:
    """A facilities file of ``count`` rows: a third in each sector."""
    rng = random.Random(seed)
    header = (
        "facility_id,enterprise,sector,category,emissions_2022,emissions_2023,emissions_2024,"
        "output_2022,output_2023,output_2024,output_2025,cooling,heat_supply_ratio,load_rate,"
        "heat_supplied_gj"
    )
    lines = [header]
    for i in range(1, count + 1):
        sector = SECTORS[i % 3]
        e = [f"{rng.uniform(100, 900):.3f}" for _ in range(3)]
        o = [f"{rng.uniform(10, 90):.2f}" for _ in range(4)]
        if sector == "power":
            category = CATEGORIES[i % 3]
            ratio = "0" if i % 2 else f"{rng.uniform(0, 0.5):.4f}"
            lines.append(
                f"{i},E{i // 3},{sector},{category},,,,,,,{rng.uniform(1000, 9000):.3f},"
                f"{'air' if i % 5 == 0 else 'water'},{ratio},{rng.uniform(0.6, 0.95):.4f},"
                f"{rng.uniform(0, 500):.1f}"
            )
        else:
            lines.append(f"{i},E{i // 3},{sector},,{','.join(e)},{','.join(o)},,,,")
    return "\n".join(lines) + "\n"


def bench_compute(count: int) -> None:
    plan = parse_plan(PLAN)
    text = facilities_csv(count)
    started = time.perf_counter()
    frame = read_facilities(io.BytesIO(text.encode()))
    read = time.perf_counter() - started
    started = time.perf_counter()
    outcome = compute(plan, frame)
    computed = time.perf_counter() - started
    started = time.perf_counter()
    write_results(outcome.results, io.StringIO())
    written = time.perf_counter() - started
    print(
        f"compute {count:,} facilities: read CSV {read:.2f} s, compute {computed:.2f} s, "
        f"write CSV {written:.2f} s; scale factor {outcome.scale_factor}, "
        f"allocated {outcome.total_allocated:,} of budget {outcome.free_budget}"
    )


def bench_issue(count: int) -> None:
    """Issue ``count`` allocations of an approved plan on a fresh SQLite database, then
    issue again (nothing moves)."""
    import tempfile

    from sqlalchemy import insert, update

    from allocation import service
    from allocation.issuing import whole as issuing
    from allocation.models import AllocationPlan, AllocationResult, PlanStatus
    from carbon_market.emitters import bulk, importing
    from carbon_market.emitters.models import Facility
    from carbon_market.kernel import migrate
    from carbon_market.kernel.access.roles import Actor
    from carbon_market.kernel.db import make_engine, make_session_factory
    from carbon_market.ledger import transactions as ledger

    sys.path.append(str(Path(__file__).parent))
    from bench_import import credit_codes, enterprises_csv, facilities_csv

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/issue.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        system = Actor.system(name="system:bench")
        codes = credit_codes(count)
        batch = importing.read_batch(
            io.BytesIO(enterprises_csv(codes, rng)), "e.csv",
            io.BytesIO(facilities_csv(codes, count, rng)), "f.csv",
        )  # fmt: skip
        bulk.import_enterprises(session, system, batch=batch)
        plan = service.create_plan(
            session, system, document=PLAN | {"sectors": {"cement": PLAN["sectors"]["cement"]}}
        )  # type: ignore[operator]
        facilities = session.execute(
            __import__("sqlalchemy").select(Facility.id, Facility.enterprise_id)
        ).all()
        rows = [
            {"plan_id": plan.id, "facility_id": f, "enterprise_id": e, "sector": "cement",
             "category": "", "method": "historical_emissions", "free_allocation": q,
             "allocation": q, "note": "", "breakdown": {}}
            for f, e in facilities for q in [rng.randrange(100, 1000)]
        ]  # fmt: skip
        session.execute(insert(AllocationResult), rows)
        session.execute(
            update(AllocationPlan).values(status=PlanStatus.APPROVED, approved_at=plan.created_at)
        )
        session.commit()
        ledger.issue(session, system, unit_kind="allowance", vintage=2025, quantity=10**9)
        started = time.perf_counter()
        summary = issuing.issue_plan(session, system, plan.id)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = issuing.issue_plan(session, system, plan.id)
        second = time.perf_counter() - started
        session.close()
        engine.dispose()
    print(
        f"issue {summary.issued:,} allocations ({summary.units:,} units) on SQLite in "
        f"{first:.2f} s ({summary.issued / first:,.0f}/s, {summary.batches} batches); "
        f"issuing again moved {again.issued} in {second:.2f} s"
    )


def bench_auction(bidders: int, bids_each: int = 5) -> None:
    """Open an auction, submit ``bidders × bids_each`` sealed bids (one unit of work each),
    clear it and settle it through the ledger on a fresh SQLite database, then settle
    again (nothing moves)."""
    import tempfile
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from sqlalchemy import select, update

    from allocation import auctions
    from allocation.models import Auction
    from carbon_market.emitters import bulk, importing
    from carbon_market.emitters.models import Enterprise
    from carbon_market.kernel import migrate
    from carbon_market.kernel.access.roles import Actor, Role
    from carbon_market.kernel.db import make_engine, make_session_factory
    from carbon_market.ledger import transactions as ledger
    from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
    from carbon_market.ledger.enums import AccountKind

    sys.path.append(str(Path(__file__).parent))
    from bench_import import credit_codes, enterprises_csv, facilities_csv

    rng = random.Random(11)
    volume = bidders * bids_each * 10  # about a fifth of what is asked for
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/auction.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        system = Actor.system(name="system:bench")
        codes = credit_codes(bidders)
        batch = importing.read_batch(
            io.BytesIO(enterprises_csv(codes, rng)), "e.csv",
            io.BytesIO(facilities_csv(codes, bidders, rng)), "f.csv",
        )  # fmt: skip
        bulk.import_enterprises(session, system, batch=batch)
        ledger.issue(session, system, unit_kind="allowance", vintage=2025, quantity=volume)
        ledger.request_transfer(
            session, system, from_account=GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE],
            to_account=GOVERNMENT_ACCOUNTS[AccountKind.AUCTION], unit_kind="allowance",
            vintage=2025, quantity=volume,
        )  # fmt: skip
        now = datetime.now(UTC)
        auction = auctions.open_auction(
            session, system, year=2025, volume=volume, reserve_price=Decimal("40.00"),
            bidder_limit=volume, opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(hours=1),
        )  # fmt: skip
        firms = session.scalars(select(Enterprise.id)).all()
        started = time.perf_counter()
        for firm in firms:
            bidder = Actor(f"bidder-{firm}", Role.ENTERPRISE, enterprise_id=firm, can_initiate=True)
            for _ in range(bids_each):
                price = Decimal(rng.randrange(4000, 8000)).scaleb(-2)
                quantity = rng.randrange(10, 100)
                auctions.submit_bid(session, bidder, auction.id, price=price, quantity=quantity)
        bid = time.perf_counter() - started
        session.execute(update(Auction).values(closes_at=now))  # the window is over
        session.commit()
        started = time.perf_counter()
        cleared = auctions.clear(session, system, auction.id)
        clear = time.perf_counter() - started
        started = time.perf_counter()
        summary = auctions.settle(session, system, auction.id)
        settle = time.perf_counter() - started
        started = time.perf_counter()
        again = auctions.settle(session, system, auction.id)
        repeat = time.perf_counter() - started
        session.close()
        engine.dispose()
    count = len(firms) * bids_each
    print(
        f"auction of {volume:,} units, {count:,} bids on SQLite: bidding {bid:.2f} s "
        f"({count / bid:,.0f} bids/s), clear {clear:.2f} s (price {cleared.clearing_price}, "
        f"{cleared.sold:,} sold), settle {summary.settled:,} winning bids in {settle:.2f} s; "
        f"settling again moved {again.units} in {repeat:.2f} s"
    )


def bench_registry(enterprises: int, database: Path | None = None) -> None:
    """Compute a plan on the registry (``service.compute_on_registry``): ``enterprises``
    enterprises with 1.5 facilities each on average, approved reports for the three base
    years, with per-facility lines where an enterprise has two facilities. The path a dry
    run, an approval and the true-up take. ``database`` keeps the seeded SQLite file (and
    reuses it when it exists)."""
    import tempfile

    from sqlalchemy import func, select

    from allocation import service
    from carbon_market.emitters.models import Facility
    from carbon_market.kernel import migrate
    from carbon_market.kernel.db import make_engine, make_session_factory
    from carbon_market.mrv.reports.models import EmissionReport, ReportFacility

    sys.path.append(str(Path(__file__).parent))
    from bench_import import SECTORS as ALL_SECTORS

    method = PLAN["sectors"]["cement"]  # type: ignore[index]
    plan = parse_plan(PLAN | {"sectors": {code: method for code in ALL_SECTORS}})
    with tempfile.TemporaryDirectory() as workdir:
        path = database or Path(workdir) / "registry.db"
        seeded = path.exists()
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        if not seeded:
            _seed_registry(session, enterprises, plan.base_years)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            outcome = service.compute_on_registry(session, plan)
            times.append(time.perf_counter() - started)
        facilities = session.scalar(select(func.count()).select_from(Facility))
        reports = session.scalar(select(func.count()).select_from(EmissionReport))
        lines = session.scalar(select(func.count()).select_from(ReportFacility))
        session.close()
        engine.dispose()
    print(
        f"compute on the registry: {facilities:,} facilities, {reports:,} approved reports, "
        f"{lines:,} facility lines: {', '.join(f'{t:.2f}' for t in times)} s; "
        f"{outcome.allocated:,} allocated, {outcome.not_allocated:,} not"
    )


def _seed_registry(session: Any, enterprises: int, base_years: Sequence[int]) -> None:
    """Enterprises and facilities through the bulk importer, then approved reports (and
    facility lines) written as rows."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from bench_import import credit_codes, enterprises_csv, facilities_csv
    from sqlalchemy import insert, select

    from carbon_market.emitters import bulk, importing
    from carbon_market.emitters.models import Facility
    from carbon_market.kernel.access.roles import Actor
    from carbon_market.mrv.factors.models import EmissionFactorSet
    from carbon_market.mrv.reports.models import EmissionReport, ReportFacility

    rng = random.Random(11)
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    codes = credit_codes(enterprises)
    batch = importing.read_batch(
        io.BytesIO(enterprises_csv(codes, rng)), "e.csv",
        io.BytesIO(facilities_csv(codes, enterprises * 3 // 2, rng)), "f.csv",
    )  # fmt: skip
    bulk.import_enterprises(session, Actor.system(name="system:bench"), batch=batch)
    factor_set = session.scalar(select(EmissionFactorSet.id).limit(1))
    owners: dict[int, list[int]] = {}
    for facility, owner in session.execute(select(Facility.id, Facility.enterprise_id)):
        owners.setdefault(owner, []).append(facility)
    reports, lines = [], []
    for owner, units in owners.items():
        for year in base_years:
            figures = [rng.randrange(1_000, 100_000) for _ in units]
            reports.append({
                "id": len(reports) + 1, "enterprise_id": owner, "year": year, "version": 1,
                "status": "approved", "factor_set_id": factor_set,
                "co2_t": Decimal(sum(figures)), "verified_co2_t": Decimal(sum(figures)),
                "output_quantity": Decimal(rng.randrange(1_000, 50_000)), "output_unit": "t",
                "breakdown": {}, "flags": [], "flag_count": 0, "return_reasons": [],
                "created_at": now, "created_by": "bench", "updated_at": now,
            })  # fmt: skip
            if len(units) > 1:
                lines += [
                    {"report_id": len(reports), "facility_id": unit,
                     "verified_co2_t": Decimal(figure), "output_quantity": Decimal(1000)}
                    for unit, figure in zip(units, figures, strict=True)
                ]  # fmt: skip
    session.execute(insert(EmissionReport), reports)
    if lines:
        session.execute(insert(ReportFacility), lines)
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--issue", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bidders", type=int, default=200, help="auction bidders, 5 bids each")
    parser.add_argument(
        "--registry", type=int, default=0, help="enterprises for a compute on the registry"
    )
    parser.add_argument("--registry-database", type=Path, help="keep (or reuse) that registry")
    args = parser.parse_args()
    for _ in range(args.repeat):
        bench_compute(args.facilities)
    if args.issue:
        bench_issue(args.issue)
    if args.bidders:
        bench_auction(args.bidders)
    if args.registry:
        bench_registry(args.registry, args.registry_database)


if __name__ == "__main__":
    main()
