"""Time the all-or-nothing bulk import: 10,000 enterprises and 10,000 facilities by default.

Generates the two CSV files, migrates a fresh database (SQLite in a temporary directory unless
``--database-url`` names a PostgreSQL one), creates a regulator and runs the same path as
``carbon-market import enterprises FILE --facilities FILE``: ``importing.read_batch`` then
``bulk.import_enterprises``. Prints seconds and rows per second for each phase:

* read: parsing the CSV files into rows of text (pandas);
* check: the shape checks of every row (marshmallow, no database);
* database check: catalogues, credit codes already registered, facility owners;
* insert enterprises / insert facilities: the executemany INSERTs with their accounts,
  status history and audit events; commit: the rest of the unit of work.

Usage::

    .venv/bin/python bench/bench_import.py
    .venv/bin/python bench/bench_import.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/cm_bench --recreate
    .venv/bin/python bench/bench_import.py --profile   # and print where the time goes
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import functools
import io
import pstats
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select

from carbon_market.emitters import bulk, importing
from carbon_market.emitters.credit_code import make_credit_code
from carbon_market.emitters.models import Enterprise
from carbon_market.entrypoints.features import load_models, wire
from carbon_market.kernel import migrate
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.auth.models import User
from carbon_market.kernel.db import make_engine, make_session_factory

# As every entry point does: every model mapped, and the features wired to each other's
# events (registering an enterprise opens its compliance account through the ledger).
load_models()
wire()

SECTORS = ["power", "heat", "cement", "petrochemical", "other_industry", "services", "transport"]
DISTRICTS = ["dongcheng", "xicheng", "chaoyang", "haidian", "fengtai", "tongzhou", "bda"]
ENTERPRISE_HEADER = [
    "credit_code",
    "name",
    "name_en",
    "sector",
    "district",
    "status_effective_from",
    "contact_name",
    "contact_title",
    "contact_phone",
    "contact_email",
]
FACILITY_HEADER = [
    "credit_code",
    "name",
    "facility_type",
    "capacity",
    "capacity_unit",
    "commissioned_on",
]


def credit_codes(count: int) -> list[str]:
    return [make_credit_code(f"91110000{n:09d}") for n in range(1, count + 1)]


def enterprises_csv(codes: list[str], rng: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ENTERPRISE_HEADER)
    for n, code in enumerate(codes, start=1):
        writer.writerow(
            [
                code,
                f"北京基准测试第{n}有限公司",
                f"Beijing Benchmark No. {n} Co., Ltd.",
                rng.choice(SECTORS),
                rng.choice(DISTRICTS),
                "2026-01-01",
                "王工",
                "能源主管",
                f"010-{rng.randrange(10**7, 10**8)}",
                f"energy{n}@example.com",
            ]
        )
    return out.getvalue().encode("utf-8")


def facilities_csv(codes: list[str], count: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FACILITY_HEADER)
    for n in range(count):
        code = codes[n % len(codes)]
        writer.writerow(
            [
                code,
                f"{n // len(codes) + 1}号机组",
                "coal_unit",
                f"{rng.randrange(1, 1_000_000) / 1000:.3f}",
                "MW",
                "2015-06-30",
            ]
        )
    return out.getvalue().encode("utf-8")


class PhaseTimer:
    """Wrap module functions so that the seconds spent in each are added up by phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: Any, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(module, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start

        setattr(module, name, timed)


def run(args: argparse.Namespace, workdir: Path) -> None:
    rng = random.Random(20260601)
    codes = credit_codes(args.enterprises)
    enterprise_data = enterprises_csv(codes, rng)
    facility_data = facilities_csv(codes, args.facilities, rng)
    (workdir / "enterprises.csv").write_bytes(enterprise_data)
    (workdir / "facilities.csv").write_bytes(facility_data)

    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("postgresql"):
        migrate.create_postgres_database(url, recreate=args.recreate)
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        if session.scalar(select(func.count()).select_from(Enterprise)) or session.scalar(
            select(User.id).where(User.name == "bench-regulator")
        ):
            sys.exit("the database holds an earlier run's data; pass --recreate (PostgreSQL)")
        regulator = auth_service.create_user(
            session,
            Actor.system(name="system:bench"),
            name="bench-regulator",
            role=Role.REGULATOR,
            password=secrets.token_urlsafe(16),
        )
    actor = auth_service.actor_for(regulator, request_id="bench")

    timer = PhaseTimer()
    timer.wrap(bulk, "check_batch", "check")
    timer.wrap(bulk, "_database_errors", "database check")
    timer.wrap(bulk, "_insert_enterprises", "insert enterprises")
    timer.wrap(bulk, "_insert_facilities", "insert facilities")
    profiler = cProfile.Profile() if args.profile else None

    with factory() as session:
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        batch = importing.read_batch(
            io.BytesIO(enterprise_data),
            "enterprises.csv",
            io.BytesIO(facility_data),
            "facilities.csv",
        )
        read_done = time.perf_counter()
        result = bulk.import_enterprises(session, actor, batch=batch)
        end = time.perf_counter()
        if profiler:
            profiler.disable()
    engine.dispose()

    rows = args.enterprises + args.facilities
    total = end - start
    phases = {"read": read_done - start, **timer.seconds}
    phases["commit and the rest"] = total - sum(phases.values())
    backend = make_url(url).get_backend_name()
    print(f"database:   {backend} ({make_url(url).render_as_string(hide_password=True)})")
    print(
        f"imported:   {result['enterprises_created']} enterprises, "
        f"{result['facilities_created']} facilities ({rows} rows)"
    )
    for phase, seconds in phases.items():
        print(f"  {phase:<22} {seconds:7.2f} s  {rows / seconds if seconds else 0:>10,.0f} rows/s")
    print(f"  {'total':<22} {total:7.2f} s  {rows / total:>10,.0f} rows/s")
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.profile_lines)
        stats.sort_stats("tottime").print_stats(args.profile_lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument(
        "--database-url", help="a PostgreSQL URL (default: SQLite in a temporary directory)"
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="PostgreSQL: drop and create the database first (it must hold only bench data)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--profile-lines", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as workdir:
        run(args, Path(workdir))


if __name__ == "__main__":
    main()
