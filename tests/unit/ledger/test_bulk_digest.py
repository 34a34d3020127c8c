"""The bulk path's digest (pre-encoded parts) hashes exactly the bytes of ``canonical``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbon_market.ledger.chain import (
    ChainedPosting,
    ChainEntry,
    digest,
    json_text,
    postings_text,
    transfer_digest,
)


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
