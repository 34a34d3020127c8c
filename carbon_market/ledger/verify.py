"""``ledger verify``: prove the ledger is what its postings say, built as a list of checks.

Each check returns the problems it found (beancount's ``ops/validation.py`` shape); an empty
list everywhere means: every holding equals the sum of its postings, reservations equal the
open transfers, every transaction balances and matches its postings, units are conserved, no
holding outside the issuance account is negative, and the hash chain is unbroken. It reads
the database only; it never repairs anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.ledger.enums import OPEN_STATUSES, AccountKind, TransactionStatus
from carbon_market.ledger.models import Account, ChainHead, Holding, LedgerTransaction, Posting
from carbon_market.ledger.posting.chain import (
    CHAIN_STRIPES,
    GENESIS,
    ChainedPosting,
    ChainEntry,
    first_break,
    first_seq,
)

BATCH = 5000


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str
    transaction_id: int | None = None


def check_holdings_match_postings(session: Session) -> list[Problem]:
    sums = {
        (a, k, v): q
        for a, k, v, q in session.execute(
            select(
                Posting.account_id, Posting.unit_kind, Posting.vintage, func.sum(Posting.quantity)
            ).group_by(Posting.account_id, Posting.unit_kind, Posting.vintage)
        )
    }
    problems = []
    held = {
        (h.account_id, h.unit_kind, h.vintage): h.quantity for h in session.scalars(select(Holding))
    }
    for key in sorted(set(sums) | set(held)):
        if sums.get(key, 0) != held.get(key, 0):
            problems.append(
                Problem(
                    "holdings",
                    f"account {key[0]} {key[1]} {key[2]}: holding "
                    f"{held.get(key, 0)} but postings sum to {sums.get(key, 0)}",
                )
            )
    return problems


def check_reservations(session: Session) -> list[Problem]:
    expected: dict[tuple[int, str, int], int] = defaultdict(int)
    rows = session.execute(
        select(
            LedgerTransaction.from_account_id,
            LedgerTransaction.unit_kind,
            LedgerTransaction.vintage,
            LedgerTransaction.quantity,
        )
        .join(Account, Account.id == LedgerTransaction.from_account_id)
        .where(
            LedgerTransaction.status.in_(list(OPEN_STATUSES)),
            Account.kind != AccountKind.GOVERNMENT_ISSUANCE,
        )
    )
    for account_id, kind, vintage, quantity in rows:
        expected[(account_id, kind, vintage)] += quantity
    held = {
        (h.account_id, h.unit_kind, h.vintage): h.reserved
        for h in session.scalars(select(Holding).where(Holding.reserved != 0))
    }
    return [
        Problem(
            "reservations",
            f"account {key[0]} {key[1]} {key[2]}: reserved "
            f"{held.get(key, 0)} but open transfers hold {expected.get(key, 0)}",
        )
        for key in sorted(set(expected) | set(held))
        if expected.get(key, 0) != held.get(key, 0)
    ]


def check_transactions_balance(session: Session) -> list[Problem]:
    rows = session.execute(
        select(
            Posting.transaction_id, Posting.unit_kind, Posting.vintage, func.sum(Posting.quantity)
        )
        .group_by(Posting.transaction_id, Posting.unit_kind, Posting.vintage)
        .having(func.sum(Posting.quantity) != 0)
        .order_by(Posting.transaction_id)
    )
    return [
        Problem("balance", f"transaction {tx} {kind} {vintage} sums to {total}", tx)
        for tx, kind, vintage, total in rows
    ]


def check_postings_match_transactions(session: Session) -> list[Problem]:
    """A completed transaction has exactly its two legs; nothing else has postings."""
    legs: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for tx_id, account_id, quantity in session.execute(
        select(Posting.transaction_id, Posting.account_id, Posting.quantity)
    ):
        legs[tx_id].add((account_id, quantity))
    problems = []
    for tx in session.execute(
        select(
            LedgerTransaction.id,
            LedgerTransaction.status,
            LedgerTransaction.from_account_id,
            LedgerTransaction.to_account_id,
            LedgerTransaction.quantity,
        ).order_by(LedgerTransaction.id)
    ):
        tx_id, status, source, destination, quantity = tx
        expected = (
            {(source, -quantity), (destination, quantity)}
            if status is TransactionStatus.COMPLETED
            else set()
        )
        if legs.pop(tx_id, set()) != expected:
            problems.append(
                Problem(
                    "postings",
                    f"transaction {tx_id}: postings do not match its accounts and quantity",
                    tx_id,
                )
            )
    problems.extend(
        Problem("postings", f"postings for unknown transaction {tx_id}", tx_id)
        for tx_id in sorted(legs)
    )
    return problems


def check_conservation(session: Session) -> list[Problem]:
    rows = session.execute(
        select(Holding.unit_kind, Holding.vintage, func.sum(Holding.quantity))
        .group_by(Holding.unit_kind, Holding.vintage)
        .having(func.sum(Holding.quantity) != 0)
    )
    return [
        Problem("conservation", f"{kind} {vintage}: holdings sum to {total}, not 0")
        for kind, vintage, total in rows
    ]


def check_no_negative_holdings(session: Session) -> list[Problem]:
    rows = session.execute(
        select(Holding.account_id, Holding.unit_kind, Holding.vintage, Holding.quantity).where(
            Holding.is_issuance.is_(False), Holding.quantity < 0
        )
    )
    return [Problem("negative", f"account {a} {k} {v} holds {q}") for a, k, v, q in rows]


def _chain_entries(session: Session, chain: int) -> Iterator[tuple[ChainEntry, str, str, int]]:
    """One chain's entries in sequence order, read in batches."""
    numbers = dict(session.execute(select(Account.id, Account.number)).all())
    last, end = first_seq(chain) - 1, first_seq(chain + 1)
    while True:
        batch = (
            session.execute(
                select(LedgerTransaction)
                .where(LedgerTransaction.seq > last, LedgerTransaction.seq < end)
                .order_by(LedgerTransaction.seq)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        postings: dict[int, list[ChainedPosting]] = defaultdict(list)
        for p in session.scalars(
            select(Posting).where(Posting.transaction_id.in_([t.id for t in batch]))
        ):
            postings[p.transaction_id].append(
                ChainedPosting(numbers[p.account_id], p.unit_kind, p.vintage, p.quantity)
            )
        for tx in batch:
            # A completed_at erased behind our back must fail the hash, not crash the check.
            completed_at = tx.completed_at or datetime.min.replace(tzinfo=UTC)
            entry = ChainEntry(
                tx.seq or 0, tx.uuid, tx.kind.value, completed_at, tuple(postings[tx.id])
            )
            yield entry, tx.prev_hash or "", tx.hash or "", tx.id
        last = batch[-1].seq or last


def _check_chain(session: Session, chain: int) -> list[Problem]:
    ids: dict[int, int] = {}

    def entries() -> Iterator[tuple[ChainEntry, str, str]]:
        for entry, prev_hash, stored, tx_id in _chain_entries(session, chain):
            ids[entry.seq] = tx_id
            yield entry, prev_hash, stored

    broken = first_break(entries(), start=first_seq(chain))
    if broken is not None:
        return [
            Problem(
                "chain",
                f"transaction {ids.get(broken.seq)} (chain {chain}, seq {broken.seq}, "
                f"{broken.uuid}): {broken.reason}",
                ids.get(broken.seq),
            )
        ]
    head = session.get(ChainHead, chain)
    last = session.execute(
        select(LedgerTransaction.seq, LedgerTransaction.hash)
        .where(
            LedgerTransaction.seq >= first_seq(chain), LedgerTransaction.seq < first_seq(chain + 1)
        )
        .order_by(LedgerTransaction.seq.desc())
        .limit(1)
    ).first()
    expected = (first_seq(chain) - 1, GENESIS) if last is None else tuple(last)
    if head is None or (head.seq, head.hash) != expected:
        return [
            Problem("chain", f"the head of chain {chain} does not point at its last transaction")
        ]
    return []


def check_hash_chain(session: Session) -> list[Problem]:
    """Every chain unbroken, and no sequence number outside the chains."""
    problems: list[Problem] = []
    for chain in range(1, CHAIN_STRIPES + 1):
        problems += _check_chain(session, chain)
    stray = session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.seq >= first_seq(CHAIN_STRIPES + 1))
    )
    if stray is not None:
        problems.append(Problem("chain", f"transaction {stray} is in no chain", stray))
    return problems


CHECKS: list[Callable[[Session], list[Problem]]] = [
    check_transactions_balance,
    check_postings_match_transactions,
    check_holdings_match_postings,
    check_reservations,
    check_conservation,
    check_no_negative_holdings,
    check_hash_chain,
]


def verify_ledger(session: Session) -> list[Problem]:
    """Run every check; the problems found, in check order (empty: the ledger is sound)."""
    return [problem for check in CHECKS for problem in check(session)]
