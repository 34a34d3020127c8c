"""The ledger's hash chain becomes eight chains, so transactions commit in parallel.

A transaction appending to a chain holds its head until it commits; with one chain, the
commits of all transactions queued behind one another. The existing chain becomes chain 1
(its sequence numbers and hashes unchanged); chains 2-8 start empty, chain ``c`` numbering
its entries from ``(c - 1) × 10**15 + 1``. Downgrading is refused once another chain has
entries: they cannot be folded into one chain without rehashing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIPES = 8
SPAN = 10**15
GENESIS = "0" * 64
HEAD = sa.table("ledger_chain_head", sa.column("id"), sa.column("seq"), sa.column("hash"))


def upgrade() -> None:
    with op.batch_alter_table("ledger_chain_head") as batch:
        batch.drop_constraint(op.f("ck_ledger_chain_head_single_row"), type_="check")
        batch.create_check_constraint(
            op.f("ck_ledger_chain_head_stripe_in_range"), f"id BETWEEN 1 AND {STRIPES}"
        )
    op.bulk_insert(
        HEAD,
        [{"id": c, "seq": (c - 1) * SPAN, "hash": GENESIS} for c in range(2, STRIPES + 1)],
    )


def downgrade() -> None:
    used = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM ledger_transaction WHERE seq > :span"), {"span": SPAN}
    )
    if used:
        raise RuntimeError(
            f"{used} transactions are in chains 2-{STRIPES}; a single chain cannot hold them"
        )
    op.execute(HEAD.delete().where(HEAD.c.id > 1))
    with op.batch_alter_table("ledger_chain_head") as batch:
        batch.drop_constraint(op.f("ck_ledger_chain_head_stripe_in_range"), type_="check")
        batch.create_check_constraint(op.f("ck_ledger_chain_head_single_row"), "id = 1")
