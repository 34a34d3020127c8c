"""The hash chain over completed transactions (pure): tamper evidence.

Each completed transaction gets the next sequence number and a SHA-256 over its content and
the previous transaction's hash. Changing any posting, quantity, account or time of a
completed transaction behind the platform's back changes its digest, and every digest after
it; ``carbon-market ledger verify`` recomputes the chain and names the first that differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainedPosting:
    account_number: str
    unit_kind: str
    vintage: int
    quantity: int


@dataclass(frozen=True)
class ChainEntry:
    seq: int
    uuid: str
    kind: str
    completed_at: datetime
    postings: tuple[ChainedPosting, ...]


def canonical(entry: ChainEntry, prev_hash: str) -> bytes:
    """The exact bytes hashed: sorted keys, sorted postings, UTC ISO time, no whitespace."""
    document = {
        "seq": entry.seq,
        "uuid": entry.uuid,
        "kind": entry.kind,
        "completed_at": entry.completed_at.isoformat(timespec="microseconds"),
        "postings": sorted(
            [p.account_number, p.unit_kind, p.vintage, p.quantity] for p in entry.postings
        ),
        "prev": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(entry: ChainEntry, prev_hash: str) -> str:
    return hashlib.sha256(canonical(entry, prev_hash)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    uuid: str
    reason: str


def first_break(entries: Iterable[tuple[ChainEntry, str, str]]) -> ChainBreak | None:
    """Walk ``(entry, stored prev_hash, stored hash)`` in sequence order; the first entry whose
    stored hashes do not follow from its content and its predecessor, or None."""
    expected_prev = GENESIS
    expected_seq = 1
    for entry, stored_prev, stored_hash in entries:
        if entry.seq != expected_seq:
            return ChainBreak(entry.seq, entry.uuid, f"sequence gap: expected {expected_seq}")
        if stored_prev != expected_prev:
            return ChainBreak(entry.seq, entry.uuid, "previous hash does not match the chain")
        if digest(entry, stored_prev) != stored_hash:
            return ChainBreak(entry.seq, entry.uuid, "content does not match its hash")
        expected_prev = stored_hash
        expected_seq += 1
    return None
