"""The hash chain (pure): what is hashed, and that any change is found at its first entry."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

from carbon_market.ledger.posting.chain import (
    CHAIN_STRIPES,
    GENESIS,
    STRIPE_SPAN,
    ChainedPosting,
    ChainEntry,
    canonical,
    chain_of,
    digest,
    first_break,
    first_seq,
    stripe_of,
)

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _entry(seq: int, quantity: int = 250) -> ChainEntry:
    return ChainEntry(
        seq=seq,
        uuid=f"00000000-0000-0000-0000-{seq:012d}",
        kind="transfer",
        completed_at=AT,
        postings=(
            ChainedPosting("BJ10920852613507", "allowance", 2025, -quantity),
            ChainedPosting("BJ10000123456793", "allowance", 2025, quantity),
        ),
    )


def _chain(entries: list[ChainEntry]) -> list[tuple[ChainEntry, str, str]]:
    rows, prev = [], GENESIS
    for entry in entries:
        h = digest(entry, prev)
        rows.append((entry, prev, h))
        prev = h
    return rows


def test_digest_is_sha256_of_the_canonical_document():
    entry = _entry(1)
    assert digest(entry, GENESIS) == hashlib.sha256(canonical(entry, GENESIS)).hexdigest()
    assert b'"prev":"' + GENESIS.encode() + b'"' in canonical(entry, GENESIS)


def test_posting_order_does_not_change_the_digest():
    entry = _entry(1)
    swapped = replace(entry, postings=tuple(reversed(entry.postings)))
    assert digest(entry, GENESIS) == digest(swapped, GENESIS)


def test_an_intact_chain_has_no_break():
    assert first_break(_chain([_entry(n) for n in range(1, 6)])) is None


def test_a_changed_quantity_breaks_the_chain_at_that_entry():
    rows = _chain([_entry(n) for n in range(1, 6)])
    _, prev, stored = rows[2]
    rows[2] = (_entry(3, quantity=2500), prev, stored)

    broken = first_break(rows)

    assert broken is not None
    assert broken.seq == 3
    assert "content" in broken.reason


def test_a_rewritten_hash_is_caught_at_the_next_entry():
    # Someone recomputes entry 3's hash after changing it: entry 4 no longer follows it.
    rows = _chain([_entry(n) for n in range(1, 6)])
    _, prev3, _ = rows[2]
    changed = _entry(3, quantity=2500)
    rows[2] = (changed, prev3, digest(changed, prev3))

    broken = first_break(rows)

    assert broken is not None
    assert broken.seq == 4
    assert "previous hash" in broken.reason


def test_a_missing_entry_is_a_sequence_gap():
    rows = _chain([_entry(n) for n in range(1, 6)])
    del rows[1]

    broken = first_break(rows)

    assert broken is not None
    assert broken.seq == 3
    assert "gap" in broken.reason


def test_each_chain_owns_a_block_of_sequence_numbers():
    # Chain 1 keeps the numbers of the single chain before it; chain 3 starts at 2×10^15 + 1.
    assert (first_seq(1), first_seq(3)) == (1, 2 * STRIPE_SPAN + 1)
    assert chain_of(1) == chain_of(STRIPE_SPAN - 1) == 1
    assert chain_of(2 * STRIPE_SPAN + 1) == 3
    assert chain_of(first_seq(CHAIN_STRIPES) + 5) == CHAIN_STRIPES


def test_a_uuid_selects_a_chain_and_random_uuids_use_them_all():
    import uuid

    assert stripe_of("00000000-0000-0000-0000-000000000000") == 1
    assert stripe_of("00000000-0000-0000-0000-000000000003") == 4  # 1 + 3 % 8
    seen = {stripe_of(str(uuid.uuid4())) for _ in range(400)}
    assert seen == set(range(1, CHAIN_STRIPES + 1))


def test_a_later_chain_is_walked_from_its_own_first_number():
    start = first_seq(2)
    rows = _chain([_entry(n) for n in range(start, start + 4)])
    assert first_break(rows, start=start) is None
    broken = first_break(rows[1:], start=start)  # its first entry is missing
    assert broken is not None
    assert "gap" in broken.reason


def test_the_schema_has_a_head_row_for_every_chain():
    # The models may not import the pure chain module, so the head table's CHECK states the
    # number itself; the migration seeds that many rows. Both must be the chain's count.
    from carbon_market.ledger.models import CHAIN_HEADS, ChainHead

    (check,) = [
        c for c in ChainHead.__table__.constraints if str(c.name).endswith("stripe_in_range")
    ]
    assert CHAIN_HEADS == CHAIN_STRIPES == 8
    assert str(check.sqltext) == f"id BETWEEN 1 AND {CHAIN_STRIPES}"
