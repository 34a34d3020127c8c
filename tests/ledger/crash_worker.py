"""A worker process for the crash-safety test: posts transfers until it is killed.

Usage: python -m tests.ledger.crash_worker DATABASE_URL FROM TO PAUSE_AT

After each commit it prints ``committed <n>``. At transfer number PAUSE_AT it pauses inside
the unit of work, after its postings and holdings are written but before COMMIT, and prints
``in-flight <n>``: the test kills it with SIGKILL right there.
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.config import Config
from carbon_market.kernel.db import make_engine, make_session_factory
from carbon_market.ledger import transactions as ledger


def main() -> None:
    url, source, destination, pause_at = sys.argv[1:5]
    engine = make_engine(url)
    factory = make_session_factory(engine, config=Config(database_url=url, secret_key="x" * 40))
    actor = Actor.system(name="system:crash-worker")
    count = 0
    with factory() as session:

        @event.listens_for(session, "before_commit")
        def pause(_session: Session) -> None:
            if count + 1 == int(pause_at):
                print(f"in-flight {count + 1}", flush=True)  # noqa: T201
                time.sleep(30)  # the test kills us here, mid-transaction

        while True:
            a, b = (source, destination) if count % 2 == 0 else (destination, source)
            ledger.request_transfer(
                session,
                actor,
                from_account=a,
                to_account=b,
                unit_kind="allowance",
                vintage=2025,
                quantity=7,
            )
            count += 1
            print(f"committed {count}", flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
