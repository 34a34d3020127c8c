"""The hash chains over completed transactions (pure): tamper evidence.

Each completed transaction gets the next sequence number of its chain and a SHA-256 over its
content and the previous transaction's hash in that chain. Changing any posting, quantity,
account or time of a completed transaction behind the platform's back changes its digest,
and every digest after it; ``carbon-market ledger verify`` recomputes the chains and names
the first entry that differs.

There are ``CHAIN_STRIPES`` chains, not one: appending to a chain locks its head until the
transaction commits, so a single chain lets only one transaction commit at a time (one WAL
flush each, about 1.7 ms on the reference machine: ~550 a second whatever the number of
workers). A transaction joins the chain its random UUID selects, so concurrent transactions
rarely wait for each other. Chain ``c`` numbers its entries from ``(c - 1) × STRIPE_SPAN + 1``,
so sequence numbers stay unique across chains and a number says which chain it is in; the
first chain's numbers are those of the single chain that came before (migration 0009).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from carbon_market.kernel.text import json_name, json_text

GENESIS = "0" * 64
#: How many chains there are (rows of ``ledger_chain_head``, seeded by migration 0009).
CHAIN_STRIPES = 8
#: The block of sequence numbers each chain owns.
STRIPE_SPAN = 10**15


def stripe_of(tx_uuid: str) -> int:
    """The chain (1..CHAIN_STRIPES) a transaction joins: chosen by its random UUID."""
    return 1 + int(tx_uuid.replace("-", ""), 16) % CHAIN_STRIPES


def chain_of(seq: int) -> int:
    """The chain a sequence number belongs to."""
    return seq // STRIPE_SPAN + 1


def first_seq(chain: int) -> int:
    """The sequence number of a chain's first entry."""
    return (chain - 1) * STRIPE_SPAN + 1


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


def transfer_digest(
    seq: int, tx_uuid: str, kind: str, completed_at: str, postings: str, prev_hash: str
) -> str:
    """:func:`digest` of a transaction for the bulk path, from pre-encoded parts: its
    time as ``json_text(at.isoformat(timespec="microseconds"))`` and its postings as
    :func:`postings_text`, so a file of 100,000 transfers encodes each time once. The
    bytes are :func:`canonical`'s (a test compares them)."""
    text = (
        f'{{"completed_at":{completed_at},"kind":{json_name(kind)},"postings":{postings},'
        f'"prev":"{prev_hash}","seq":{seq},"uuid":"{tx_uuid}"}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def postings_text(postings: Iterable[ChainedPosting]) -> str:
    """The ``postings`` member of :func:`canonical`, encoded."""
    parts = sorted((p.account_number, p.unit_kind, p.vintage, p.quantity) for p in postings)
    return "[" + ",".join(f"[{json_text(n)},{json_text(u)},{v},{q}]" for n, u, v, q in parts) + "]"


def transfer_postings_text(
    source: str, destination: str, unit_kind: str, vintage: int, quantity: int
) -> str:
    """:func:`postings_text` of a transfer's two postings (``-quantity`` from ``source``,
    ``quantity`` to ``destination``) without building them: the bulk path's hot loop."""
    a, b = (source, -quantity), (destination, quantity)
    first, second = (a, b) if a <= b else (b, a)
    kind = json_name(unit_kind)
    return (
        f"[[{json_name(first[0])},{kind},{vintage},{first[1]}],"
        f"[{json_name(second[0])},{kind},{vintage},{second[1]}]]"
    )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    uuid: str
    reason: str


def first_break(
    entries: Iterable[tuple[ChainEntry, str, str]], start: int = 1
) -> ChainBreak | None:
    """Walk one chain's ``(entry, stored prev_hash, stored hash)`` in sequence order from
    sequence number ``start``; the first entry whose stored hashes do not follow from its
    content and its predecessor, or None."""
    expected_prev = GENESIS
    expected_seq = start
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
