"""The bulk path's digest (pre-encoded parts) hashes exactly the bytes of ``canonical``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from carbon_market.kernel.text import json_text
from carbon_market.ledger.posting.chain import (
    ChainedPosting,
    ChainEntry,
    digest,
    postings_text,
    transfer_digest,
    transfer_postings_text,
)
from carbon_market.ledger.posting.engine import _random_uuids


@pytest.mark.parametrize(
    ("seller", "unit_kind"),
    [
        ("BJ10920852613507", "allowance"),
        ("BJ10342286671949", "ccer"),
        ('odd "quoted" \\ name', "local_offset"),  # escaped by json.dumps
        ("中文账户", "allowance"),  # \\u escapes, as canonical's ensure_ascii
    ],
)
def test_transfer_digest_is_the_canonical_digest(seller: str, unit_kind: str) -> None:
    at = datetime(2026, 6, 1, 2, 0, 0, 120, tzinfo=UTC) + timedelta(days=1)
    postings = (
        ChainedPosting(seller, unit_kind, 2025, -70),
        ChainedPosting("BJ10342286671949", unit_kind, 2025, 70),
    )
    entry = ChainEntry(10**15 + 7, "6f1c1d3e-0000-4000-8000-000000000001", "trade_settlement",
                       at, postings)  # fmt: skip
    expected = digest(entry, "ab" * 32)
    fast = transfer_digest(
        entry.seq, entry.uuid, entry.kind, json_text(at.isoformat(timespec="microseconds")),
        postings_text(postings), "ab" * 32,
    )  # fmt: skip
    assert fast == expected


@pytest.mark.parametrize(
    ("source", "destination", "quantity"),
    [
        ("BJ10920852613507", "BJ10342286671949", 70),  # the destination sorts first
        ("BJ10342286671949", "BJ10920852613507", 70),  # the source sorts first
        ("BJ10342286671949", "BJ10342286671949", 5),  # one account: -5 before 5
        ('odd "quoted"', "中文账户", 1),  # escaped as json.dumps escapes them
    ],
)
def test_transfer_postings_text_is_postings_text_of_the_two_postings(
    source: str, destination: str, quantity: int
) -> None:
    postings = (
        ChainedPosting(source, "allowance", 2025, -quantity),
        ChainedPosting(destination, "allowance", 2025, quantity),
    )
    fast = transfer_postings_text(source, destination, "allowance", 2025, quantity)
    assert fast == postings_text(postings)


def test_bulk_uuids_are_random_version_4_uuids_written_as_str_uuid4_writes_them() -> None:
    made = _random_uuids(500)
    parsed = [uuid.UUID(text) for text in made]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert [str(u) for u in parsed] == made
    assert len(set(made)) == 500
