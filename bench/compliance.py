"""Compliance figures: the set-based sweep over N covered enterprises on SQLite.

The database is migrated, then seeded directly with bulk inserts (fast, and not through the
services: only the rows the sweep reads): N enterprises, each with a compliance account, an
approved 2025 report, a completed 2025 allocation and, for most, completed surrenders
(70 % surrender everything, 20 % part, 10 % file no report; 5 % of the surrenders are CCERs).
The ledger's holdings and postings are not seeded: the sweep reads transactions, not
balances. Then ``sweep()`` runs three times (the first writes every status row, the next
replace them) and the times are printed, with the part spent reading and deciding.

Usage::

    .venv/bin/python bench/compliance.py --enterprises 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

# This folder holds allocation.py, which would shadow the allocation package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import insert, select  # noqa: E402

from carbon_market.compliance import service, sweep  # noqa: E402
from carbon_market.compliance.models import ComplianceSurrender  # noqa: E402
from carbon_market.emitters.models import Enterprise  # noqa: E402
from carbon_market.entrypoints.features import load_models, wire  # noqa: E402
from carbon_market.kernel import migrate  # noqa: E402
from carbon_market.kernel.access.roles import Actor  # noqa: E402
from carbon_market.kernel.config import Config  # noqa: E402
from carbon_market.kernel.db import make_engine, make_session_factory  # noqa: E402
from carbon_market.ledger.models import Account, LedgerTransaction  # noqa: E402
from carbon_market.mrv.factors.models import EmissionFactorSet  # noqa: E402
from carbon_market.mrv.reports.models import EmissionReport  # noqa: E402

# As every entry point does: every model mapped, and the features wired to each other's
# events (registering an enterprise opens its compliance account through the ledger).
load_models()
wire()

YEAR = 2025
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
SYSTEM = Actor.system(name="system:bench")
RETIREMENT_ID_QUERY = select(Account.id).where(Account.number == "BJ90000000000117")
RESERVE_ID_QUERY = select(Account.id).where(Account.number == "BJ02000000000152")


def _tx(seq: int, kind: str, source: int, target: int, unit: str, quantity: int) -> dict[str, Any]:
    return {
        "id": seq,
        "uuid": str(uuid.UUID(int=seq)),
        "kind": kind,
        "status": "completed",
        "from_account_id": source,
        "to_account_id": target,
        "unit_kind": unit,
        "vintage": YEAR,
        "quantity": quantity,
        "memo": "",
        "initiated_by": "bench",
        "created_at": NOW,
        "completed_at": NOW,
        "seq": seq,
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }


def seed(session: Any, n: int) -> None:
    rng = random.Random(8)
    factor_set = session.scalar(select(EmissionFactorSet.id).limit(1))
    retirement, reserve = session.scalar(RETIREMENT_ID_QUERY), session.scalar(RESERVE_ID_QUERY)
    enterprises, accounts, reports, transactions, surrenders = [], [], [], [], []
    base = 1_000_000
    seq = 10**9
    for i in range(n):
        eid, aid = base + i, base + i
        enterprises.append({
            "id": eid, "credit_code": f"91110000{i:010d}", "name": f"基准企业{i}",
            "sector": "power" if i % 3 else "cement", "district": "chaoyang",
            "status": "active", "status_effective_from": date(2020, 1, 1), "contacts": [],
            "created_at": NOW, "updated_at": NOW,
        })  # fmt: skip
        accounts.append({
            "id": aid, "number": f"BJ10{i:012d}", "kind": "enterprise_compliance",
            "enterprise_id": eid, "status": "open", "opened_at": NOW,
        })  # fmt: skip
        share = rng.random()
        if share < 0.10:
            continue  # files nothing
        verified = rng.randint(20_000, 2_000_000)
        reports.append({
            "enterprise_id": eid, "year": YEAR, "version": 1, "status": "approved",
            "factor_set_id": factor_set, "co2_t": Decimal(verified),
            "breakdown": {}, "flags": [], "flag_count": 0, "return_reasons": [],
            "verified_co2_t": Decimal(verified), "obligation_t": verified,
            "created_at": NOW, "created_by": "bench", "updated_at": NOW,
        })  # fmt: skip
        seq += 1
        transactions.append(_tx(seq, "allocation", reserve, aid, "allowance", verified))
        surrendered = verified if share < 0.80 else verified // 2
        offsets = surrendered // 20
        for unit, quantity in (("allowance", surrendered - offsets), ("ccer", offsets)):
            if quantity <= 0:
                continue
            seq += 1
            transactions.append(_tx(seq, "surrender", aid, retirement, unit, quantity))
            surrenders.append({
                "year": YEAR, "enterprise_id": eid, "transaction_id": seq, "unit_kind": unit,
                "vintage": YEAR, "quantity": quantity,
                "counts_as": "allowance" if unit == "allowance" else "offset",
                "is_outside": False, "requested_at": NOW, "requested_by": "bench",
            })  # fmt: skip
    for model, rows in (
        (Enterprise, enterprises),
        (Account, accounts),
        (EmissionReport, reports),
        (LedgerTransaction, transactions),
        (ComplianceSurrender, surrenders),
    ):
        session.connection().execute(insert(model.__table__), rows)
    session.commit()
    print(
        f"seeded {n:,} enterprises, {len(reports):,} approved reports, "
        f"{len(transactions):,} transactions, {len(surrenders):,} surrenders"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="keep the seeded database here (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        seeded = path.exists()
        migrate.upgrade(url)
        config = Config(database_url=url, secret_key="bench")  # noqa: S106
        sessions = make_session_factory(make_engine(url), config=config)
        with sessions() as session:
            if seeded:
                print(f"reusing {path}")
            else:
                service.open_year(session, SYSTEM, year=YEAR, rulebook="national",
                                  surrender_deadline=date(2026, 12, 31))  # fmt: skip
                started = time.perf_counter()
                seed(session, args.enterprises)
                print(f"seeding: {time.perf_counter() - started:.2f} s")
        times = []
        for _ in range(3):
            with sessions() as session:
                started = time.perf_counter()
                result = sweep.sweep(session, SYSTEM, YEAR, date(2026, 6, 1))
                times.append(time.perf_counter() - started)
        statuses = ", ".join(f"{k} {v:,}" for k, v in result["statuses"].items() if v)
        print(f"sweep of {result['enterprises']:,} enterprises ({statuses}):")
        print(f"  {', '.join(f'{t:.2f}' for t in times)} s (best {min(times):.2f} s)")
        with sessions() as session:
            started = time.perf_counter()
            found = service.get_year(session, SYSTEM, YEAR)
            rows = sweep.compute(session, found, date(2026, 6, 1))
            elapsed = time.perf_counter() - started
            print(
                f"  of which reading and deciding (no write): {elapsed:.2f} s, {len(rows):,} rows"
            )


if __name__ == "__main__":
    main()
