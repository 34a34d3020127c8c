"""Ledger throughput: transfers per second through the service layer beside a raw-SQL
transfer loop measured in the same run, and their ratio.

The service path is ``ledger.service.request_transfer`` as the system actor (posted at once,
the path settlement takes): validation, account look-ups, both holdings, the transaction,
both postings, the hash chain and the audit event, in one unit of work. The raw loop is the
least a transfer can be (DESIGN.md's measure): BEGIN, a checked debit, a credit, one
transaction row and two posting rows, COMMIT, through the DB-API with no ORM at all.

Usage::

    .venv/bin/python bench/ledger.py                        # SQLite, 1 worker
    .venv/bin/python bench/ledger.py --workers 1 4 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/cm_bench_ledger
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The folder's allocation.py would shadow the ``allocation`` package (imported by the
# models): drop the script's folder from the path before importing the platform.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import make_url, select  # noqa: E402  (after the path fix above)

from carbon_market.emitters import service as emitters  # noqa: E402
from carbon_market.emitters.credit_code import make_credit_code  # noqa: E402
from carbon_market.entrypoints.features import load_models, wire  # noqa: E402
from carbon_market.kernel import migrate  # noqa: E402
from carbon_market.kernel.access.roles import Actor  # noqa: E402
from carbon_market.kernel.config import Config  # noqa: E402
from carbon_market.kernel.db import make_engine, make_session_factory  # noqa: E402
from carbon_market.ledger import transactions as ledger  # noqa: E402
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS  # noqa: E402
from carbon_market.ledger.enums import AccountKind  # noqa: E402
from carbon_market.ledger.models import Account  # noqa: E402

# As every entry point does: every model mapped, and the features wired to each other's
# events (registering an enterprise opens its compliance account through the ledger).
load_models()
wire()

ACCOUNTS = 50
BALANCE = 10_000_000


def prepare(url: str) -> list[tuple[int, str]]:
    """Migrate, register ACCOUNTS enterprises and fund their accounts; (id, number) each."""
    if url.startswith("postgresql"):
        migrate.create_postgres_database(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    system = Actor.system(name="system:bench")
    reserve = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
    with make_session_factory(engine, config=Config(url, "x" * 40))() as session:
        ledger.issue(
            session, system, unit_kind="allowance", vintage=2025, quantity=ACCOUNTS * BALANCE
        )
        for n in range(ACCOUNTS):
            enterprise = emitters.register_enterprise(
                session,
                system,
                credit_code=make_credit_code(f"91110000{n:09d}"),
                name=f"基准企业{n}",
                sector="power",
                district="bda",
            )
            ledger.request_transfer(
                session,
                system,
                from_account=reserve,
                to_account=enterprise.compliance_account.number,
                unit_kind="allowance",
                vintage=2025,
                quantity=BALANCE,
            )
        accounts = session.execute(
            select(Account.id, Account.number)
            .where(Account.kind == AccountKind.ENTERPRISE_COMPLIANCE)
            .order_by(Account.id)
        ).all()
    engine.dispose()
    return [(a, n) for a, n in accounts]


def service_loop(url: str, accounts: list[tuple[int, str]], count: int, seed: int) -> float:
    rng = random.Random(seed)
    engine = make_engine(url)
    actor = Actor.system(name=f"system:bench{seed}")
    with make_session_factory(engine, config=Config(url, "x" * 40))() as session:
        start = time.perf_counter()
        for _ in range(count):
            (_, a), (_, b) = rng.sample(accounts, 2)
            ledger.request_transfer(
                session,
                actor,
                from_account=a,
                to_account=b,
                unit_kind="allowance",
                vintage=2025,
                quantity=1,
            )
        elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


RAW_STATEMENTS = [
    "UPDATE holding SET quantity = quantity - {p} WHERE account_id = {p} AND unit_kind = "
    "'allowance' AND vintage = 2025 AND quantity - reserved >= {p}",
    "UPDATE holding SET quantity = quantity + {p} WHERE account_id = {p} AND unit_kind = "
    "'allowance' AND vintage = 2025",
]
RAW_TX = (
    "INSERT INTO ledger_transaction (uuid, kind, status, from_account_id, to_account_id, "
    "unit_kind, vintage, quantity, memo, initiated_by, created_at, completed_at, seq, hash) "
    "VALUES ({p}, 'transfer', 'completed', {p}, {p}, 'allowance', 2025, 1, '', 'raw', {p}, {p}, "
    "{p}, 'raw') RETURNING id"
)
RAW_POSTING = (
    "INSERT INTO posting (transaction_id, account_id, unit_kind, vintage, quantity) "
    "VALUES ({p}, {p}, 'allowance', 2025, {p})"
)


def raw_loop(url: str, accounts: list[tuple[int, str]], count: int, seed: int) -> float:
    rng = random.Random(seed)
    is_pg = url.startswith("postgresql")
    if is_pg:
        import psycopg

        conn = psycopg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        p = "%s"
    else:
        import sqlite3

        conn = sqlite3.connect(make_url(url).database, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 30000")
        p = "?"
    debit, credit = (s.format(p=p) for s in RAW_STATEMENTS)
    insert_tx, insert_posting = RAW_TX.format(p=p), RAW_POSTING.format(p=p)
    # Raw rows need distinct sequence numbers: a random block far above the service's.
    seq = 10**12 + random.Random().randrange(10**9) * 10**4
    start = time.perf_counter()
    for _ in range(count):
        (a, _), (b, _) = rng.sample(accounts, 2)
        now = datetime.now(UTC).replace(tzinfo=None)
        seq += 1
        cur = conn.cursor()
        cur.execute("BEGIN" if is_pg else "BEGIN IMMEDIATE")
        first, second = sorted([(a, debit, (1, a, 1)), (b, credit, (1, b))])
        for _account, statement, params in (first, second):
            cur.execute(statement, params)
        cur.execute(insert_tx, (str(uuid.uuid4()), a, b, now, now, seq))
        tx_id = cur.fetchone()[0]
        cur.executemany(insert_posting, [(tx_id, a, -1), (tx_id, b, 1)])
        cur.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def same_rows_loop(url: str, accounts: list[tuple[int, str]], count: int, seed: int) -> float:
    """The rows the service writes (look-up, holdings, chain head, transaction, postings,
    audit event), sent as the engine's own SQL straight through the DB-API: what the
    database itself costs for a transfer with the platform's guarantees."""
    from carbon_market.ledger.posting.chain import GENESIS, stripe_of
    from carbon_market.ledger.posting.engine import Statements

    rng = random.Random(seed)
    is_pg = url.startswith("postgresql")
    sql = Statements.for_dialect("postgresql" if is_pg else "sqlite")
    conn = _raw_connection(url)
    numbers = dict(accounts)
    start = time.perf_counter()
    for _ in range(count):
        (a, _), (b, _) = rng.sample(accounts, 2)
        now = datetime.now(UTC).replace(tzinfo=None)
        when = now if is_pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        tx_uuid = str(uuid.uuid4())
        cur = conn.cursor()
        cur.execute("BEGIN" if is_pg else "BEGIN IMMEDIATE")
        cur.execute(sql.find_accounts, (numbers[a], numbers[b]))
        cur.fetchall()
        key = ("allowance", 2025)
        first, second = sorted([(a, "debit"), (b, "credit")])
        for account, leg in (first, second):
            if leg == "debit":
                cur.execute(sql.debit_available, (1, account, *key, 1))
            else:
                cur.execute(sql.credit, (account, *key, 1, False))
        cur.execute(sql.chain_next, (stripe_of(tx_uuid),))
        seq, prev = cur.fetchone()
        digest = GENESIS  # the hash itself is Python's work, not the database's
        row = (tx_uuid, "transfer", "completed", a, b, *key, 1, "", "raw", None, when, when,
               None, None, seq, prev, digest)  # fmt: skip
        audit = (when, None, "raw", None, "transaction:post", "ledger_transaction")
        if is_pg:
            cur.execute(sql.fused_insert_tx, (digest, stripe_of(tx_uuid), *row))
            (tx_id,) = cur.fetchone()
            legs = (tx_id, a, *key, -1, tx_id, b, *key, 1)
            cur.execute(sql.fused_postings_audit, (*legs, *audit, str(tx_id), "{}", None))
        else:
            cur.execute(sql.chain_set, (digest, stripe_of(tx_uuid)))
            cur.execute(sql.insert_tx, row)
            (tx_id,) = cur.fetchone()
            cur.executemany(sql.insert_posting, [(tx_id, a, *key, -1), (tx_id, b, *key, 1)])
            cur.execute(sql.insert_audit, (*audit, str(tx_id), "{}", None))
        cur.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _raw_connection(url: str) -> Any:
    if url.startswith("postgresql"):
        import psycopg

        return psycopg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
    import sqlite3

    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL",
                   "busy_timeout = 30000"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _run(args: tuple[str, str, list[tuple[int, str]], int, int]) -> float:
    kind, url, accounts, count, seed = args
    loop = {"raw": raw_loop, "same_rows": same_rows_loop, "service": service_loop}[kind]
    return loop(url, accounts, count, seed)


def measure(
    kind: str, url: str, accounts: list[tuple[int, str]], workers: int, per_worker: int
) -> float:
    """Transfers per second with ``workers`` processes, each making ``per_worker``."""
    jobs = [(kind, url, accounts, per_worker, seed) for seed in range(workers)]
    start = time.perf_counter()
    if workers == 1:
        _run(jobs[0])
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            pool.map(_run, jobs)
    return workers * per_worker / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--transfers", type=int, default=2000, help="per worker")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'ledger-bench.db'}"
    accounts = prepare(url)
    print(
        f"database: {make_url(url).get_backend_name()}  accounts: {len(accounts)}  "
        f"transfers per worker: {args.transfers}"
    )
    print(
        f"{'workers':>7}  {'raw SQL /s':>11}  {'same rows /s':>12}  {'service /s':>11}  "
        f"{'ratio':>6}  {'of same rows':>12}"
    )
    for workers in args.workers:
        # Warm every path (imports, caches) before timing.
        for kind in ("raw", "same_rows", "service"):
            measure(kind, url, accounts, 1, 50)
        raw = measure("raw", url, accounts, workers, args.transfers)
        same = measure("same_rows", url, accounts, workers, args.transfers)
        service = measure("service", url, accounts, workers, args.transfers)
        print(
            f"{workers:>7}  {raw:>11,.0f}  {same:>12,.0f}  {service:>11,.0f}  "
            f"{service / raw:>6.2f}  {service / same:>12.2f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
