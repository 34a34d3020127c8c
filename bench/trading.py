"""Trading figures: market statistics over many trades, and the trade-file import.

* statistics: ``trading.stats.daily_stats`` over N synthetic trades (a year of trading days,
  listed and block) already in memory, the "after loading" figure of the issue;
* import: an end-of-day CSV of M trades among 50 funded compliance accounts through
  ``trading.bulk.import_trades`` (shape checks, every trade's rules, and under the national
  rulebook its T+0 settlement through the ledger), on a fresh SQLite database; then the same
  file again (nothing changes). ``--rulebook beijing`` records without settling (T+1).
  ``--cli`` times what a user waits for instead: the whole ``carbon-market trades import
  FILE`` process (start-up, the progress bar and the summary included), wall clock only.

The CPU figure (this process: Python and SQLite) is the one to compare on a shared
machine, where the wall clock also counts the other processes' turns. Usage::

    .venv/bin/python bench/trading.py --trades 1000000 --import-rows 10000
    .venv/bin/python bench/trading.py --trades 1000 --import-rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

# The folder's allocation.py would shadow the ``allocation`` package (imported by the
# models): drop the script's folder from the path before importing the platform.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from carbon_market.emitters import service as emitters  # noqa: E402
from carbon_market.emitters.credit_code import make_credit_code  # noqa: E402
from carbon_market.entrypoints.features import load_models, wire  # noqa: E402
from carbon_market.kernel import migrate  # noqa: E402
from carbon_market.kernel.access.roles import Actor, Role  # noqa: E402
from carbon_market.kernel.auth import service as auth  # noqa: E402
from carbon_market.kernel.config import Config  # noqa: E402
from carbon_market.kernel.db import make_engine, make_session_factory  # noqa: E402
from carbon_market.ledger import transactions as ledger  # noqa: E402
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS  # noqa: E402
from carbon_market.ledger.enums import AccountKind  # noqa: E402
from carbon_market.trading import service as trading  # noqa: E402
from carbon_market.trading.intake import trade_file as bulk  # noqa: E402
from carbon_market.trading.rules import stats  # noqa: E402

# As every entry point does: every model mapped, and the features wired to each other's
# events (registering an enterprise opens its compliance account through the ledger).
load_models()
wire()

ACCOUNTS = 50
EXCHANGE_USER = "exchange-bench"
BALANCE = 10_000_000


def bench_stats(n: int) -> None:
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2025-01-01", periods=250)
    frame = pd.DataFrame(
        {
            "trade_date": np.sort(rng.choice(days.values, n)),
            "kind": np.where(rng.random(n) < 0.9, "listed", "block"),
            "quantity": rng.integers(1, 100_000, n),
            "price_fen": rng.integers(9_000, 11_000, n),
        }
    )
    best = min(_timed(lambda: stats.daily_stats(frame, 10_000)) for _ in range(3))
    print(f"statistics over {n:,} trades ({len(days)} days): {best:.3f} s (best of 3)")


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _prepare(url: str, config: Config) -> list[str]:
    migrate.upgrade(url)
    engine = make_engine(url)
    system = Actor.system(name="system:bench")
    reserve = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
    numbers = []
    with make_session_factory(engine, config=config)() as session:
        ledger.issue(session, system, unit_kind="allowance", vintage=2025,
                     quantity=ACCOUNTS * BALANCE)  # fmt: skip
        for n in range(ACCOUNTS):
            enterprise = emitters.register_enterprise(
                session, system, credit_code=make_credit_code(f"91110000{n:09d}"),
                name=f"基准企业{n}", sector="power", district="chaoyang",
            )  # fmt: skip
            number = enterprise.compliance_account.number
            ledger.request_transfer(
                session, system, from_account=reserve, to_account=number,
                unit_kind="allowance", vintage=2025, quantity=BALANCE,
            )  # fmt: skip
            numbers.append(number)
        trading.set_reference_price(session, system, unit_kind="allowance",
                                    day=date(2026, 6, 1), price=Decimal("100.00"))  # fmt: skip
        auth.create_user(session, system, name=EXCHANGE_USER, role=Role.EXCHANGE,
                         password="bench-exchange-password")  # noqa: S106  # fmt: skip
        session.commit()
    engine.dispose()
    return numbers


def _file(numbers: list[str], rows: int) -> bytes:
    rng = random.Random(7)
    start = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)
    lines = ["external_ref,kind,seller_account,buyer_account,unit_kind,vintage,quantity,price,"
             "traded_at"]  # fmt: skip
    for n in range(rows):
        seller, buyer = rng.sample(numbers, 2)
        at = (start + timedelta(seconds=n % 20_000)).isoformat()
        price = f"{rng.randint(9_500, 10_500) / 100:.2f}"
        lines.append(f"B{n:07d},listed,{seller},{buyer},allowance,2025,{rng.randint(1, 100)},"
                     f"{price},{at}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def bench_import(rows: int, rulebook: str, repeat: int = 1, cli: bool = False) -> None:
    """Import the file into ``repeat`` fresh databases (then again into each); the best
    first import is the figure to quote on a shared machine."""
    once = _cli_once if cli else _import_once
    best = min(once(rows, rulebook) for _ in range(repeat))
    if repeat > 1:
        print(f"best of {repeat} first imports ({rulebook}): {best:.2f} s")


def _import_once(rows: int, rulebook: str) -> float:
    first = 0.0
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        config = dataclasses.replace(Config(url, "x" * 40), trading_rulebook=rulebook)
        numbers = _prepare(url, config)
        content = _file(numbers, rows)
        engine = make_engine(url)
        actor = Actor.system(name="system:bench")
        for attempt in ("first", "again"):
            with make_session_factory(engine, config=config)() as session:
                start, cpu = time.perf_counter(), time.process_time()
                table = bulk.read_table(io.BytesIO(content), "trades.csv")
                result = bulk.import_trades(session, actor, table)
                took, cpu = time.perf_counter() - start, time.process_time() - cpu
            first = first or took
            print(f"import {rows:,} rows ({rulebook}, {attempt}): {took:.2f} s "
                  f"({cpu:.2f} s CPU in this process), {rows / took:,.0f} rows/s, "
                  f"{result.recorded:,} recorded")  # fmt: skip
        engine.dispose()
    return first


def _cli_once(rows: int, rulebook: str) -> float:
    """Run ``carbon-market trades import`` as a user would, against a prepared database."""
    first = 0.0
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        config = dataclasses.replace(Config(url, "x" * 40), trading_rulebook=rulebook)
        file = Path(folder) / "trades.csv"
        file.write_bytes(_file(_prepare(url, config), rows))
        env = {**os.environ, "DATABASE_URL": url, "TRADING_RULEBOOK": rulebook,
               "CARBON_MARKET_INSTANCE": folder, "SECRET_KEY": "x" * 40,
               "CARBON_MARKET_USER": EXCHANGE_USER}  # fmt: skip
        command = [str(Path(sys.executable).with_name("carbon-market")), "trades", "import",
                   str(file)]  # fmt: skip
        for attempt in ("first", "again"):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
            took = time.perf_counter() - start
            first = first or took
            print(f"carbon-market trades import, {rows:,} rows ({rulebook}, {attempt}): "
                  f"{took:.2f} s: {done.stdout.strip()}")  # fmt: skip
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--rulebook", default="national", choices=["national", "beijing"])
    parser.add_argument("--repeat", type=int, default=1, help="fresh databases to import into")
    parser.add_argument("--cli", action="store_true",
                        help="time the carbon-market trades import process instead")  # fmt: skip
    args = parser.parse_args()
    bench_stats(args.trades)
    if args.import_rows:
        bench_import(args.import_rows, args.rulebook, args.repeat, args.cli)


if __name__ == "__main__":
    main()
