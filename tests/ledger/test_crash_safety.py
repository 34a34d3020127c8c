"""Crash safety: a worker killed with SIGKILL in the middle of a unit of work leaves no
partly posted transaction, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from carbon_market.ledger.enums import TransactionStatus
from carbon_market.ledger.models import LedgerTransaction, Posting
from carbon_market.ledger.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_mid_transaction_leaves_no_partial_postings_and_verify_clean(
    world, database_url, session
):
    world.fund(world.alpha, 100)
    before = session.scalar(select(func.count()).select_from(LedgerTransaction))
    session.rollback()  # hold no snapshot or lock while the worker writes
    committed = 0
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ledger.crash_worker",
            database_url,
            world.alpha.account,
            world.beta.account,
            "30",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as worker:
        for line in worker.stdout:  # type: ignore[union-attr]
            word, n = line.split()
            if word == "committed":
                committed = int(n)
            elif word == "in-flight":
                # Its 30th transfer has written holdings and postings, not yet committed.
                worker.send_signal(signal.SIGKILL)
                break
        worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL
    assert committed == 29

    session.rollback()  # a fresh snapshot: see what the worker committed
    after = session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert after - before == committed  # the in-flight one left no transaction row
    completed_ids = select(LedgerTransaction.id).where(
        LedgerTransaction.status == TransactionStatus.COMPLETED
    )
    postings = session.scalar(select(func.count()).select_from(Posting))
    assert postings == 2 * session.scalar(
        select(func.count()).select_from(completed_ids.subquery())
    )
    # 29 transfers of 7 alternating alpha→beta, beta→alpha: 15 out, 14 back, alpha −7.
    assert world.holding(world.alpha.account) == (100 - 7, 0)
    assert world.holding(world.beta.account) == (7, 0)
    assert verify_ledger(session) == []
