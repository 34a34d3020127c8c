"""Four eyes on reserve records, capacity reductions, bid withdrawal.

``allocation_adjustment``: a new stage ``capacity_reduction`` (signed negative: units back
to the reserve), and for the reserve records (new entrants, capacity changes, reductions) a
``status`` (``pending``/``approved``/``rejected``; every earlier row is ``approved``), the
recorder's user id and the second regulator's decision, with a four-eyes CHECK. The partial
unique index (one pre-allocation and one true-up per facility) now leaves out both kinds of
reserve record. ``allocation_auction_bid``: a ``status`` (``submitted``/``withdrawn``) and
who withdrew it when. Neither table is referenced by another, so SQLite's batch rebuild of
them is safe.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RECORDS = "stage IN ('new_entrant', 'capacity_reduction')"
OLD_STAGES = "stage IN ('pre_allocation', 'true_up', 'new_entrant')"
NEW_STAGES = "stage IN ('pre_allocation', 'true_up', 'new_entrant', 'capacity_reduction')"
CHECKS = {
    "reduction_claws_back": "stage <> 'capacity_reduction' OR quantity < 0",
    "only_records_are_decided": f"{RECORDS} OR status = 'approved'",
    "decided_unless_pending": f"NOT ({RECORDS}) OR (status = 'pending') = (decided_at IS NULL)",
    "moved_once_approved": "tx_id IS NULL OR status = 'approved'",
    "four_eyes": "decided_by_user_id IS NULL OR created_by_user_id IS NULL "
    "OR decided_by_user_id <> created_by_user_id",
}
BID_CHECKS = {
    "withdrawn_when_withdrawn": "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)",
    "withdrawn_not_awarded": "status = 'submitted' OR awarded IS NULL",
}


def _status(*values: str, name: str, default: str) -> sa.Column[str]:
    return sa.Column(
        "status",
        sa.Enum(*values, name=name, native_enum=False, create_constraint=True),
        nullable=False,
        server_default=default,
    )


def upgrade() -> None:
    with op.batch_alter_table("allocation_adjustment", schema=None) as batch_op:
        batch_op.add_column(
            _status("pending", "approved", "rejected", name="recordstatus", default="approved")
        )
        batch_op.add_column(sa.Column("created_by_user_id", ID, nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", carbon_market.kernel.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decided_by_user_id", ID, nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f("ck_allocation_adjustment_stage"), type_="check")
        batch_op.alter_column(
            "stage", existing_type=sa.String(length=14), type_=sa.String(length=18)
        )
        batch_op.create_check_constraint("stage", NEW_STAGES)
        batch_op.drop_constraint(
            op.f("ck_allocation_adjustment_only_true_up_claws_back"), type_="check"
        )
        batch_op.create_check_constraint(
            "only_true_up_claws_back",
            "stage IN ('true_up', 'capacity_reduction') OR quantity >= 0",
        )
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(name, condition)
        batch_op.drop_index("uq_allocation_adjustment_stage_facility")
        batch_op.create_index(
            "uq_allocation_adjustment_stage_facility",
            ["plan_id", "stage", "facility_id"],
            unique=True,
            sqlite_where=sa.text(f"NOT ({RECORDS})"),
            postgresql_where=sa.text(f"NOT ({RECORDS})"),
        )
        for column in ("created_by_user_id", "decided_by_user_id"):
            batch_op.create_foreign_key(
                f"fk_allocation_adjustment_{column}_user_account",
                "user_account",
                [column],
                ["id"],
                ondelete="RESTRICT",
            )
    # The default only filled the rows already there; the model always writes a status.
    with op.batch_alter_table("allocation_adjustment", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)

    with op.batch_alter_table("allocation_auction_bid", schema=None) as batch_op:
        batch_op.add_column(
            _status("submitted", "withdrawn", name="bidstatus", default="submitted")
        )
        batch_op.add_column(
            sa.Column("withdrawn_at", carbon_market.kernel.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=64), nullable=True))
        for name, condition in BID_CHECKS.items():
            batch_op.create_check_constraint(name, condition)
    with op.batch_alter_table("allocation_auction_bid", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("allocation_auction_bid", schema=None) as batch_op:
        for name in BID_CHECKS:
            batch_op.drop_constraint(op.f(f"ck_allocation_auction_bid_{name}"), type_="check")
        batch_op.drop_constraint(op.f("ck_allocation_auction_bid_bidstatus"), type_="check")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("status")

    # Rows the old schema cannot hold: reductions, and records never approved.
    op.execute(
        "DELETE FROM allocation_adjustment WHERE stage = 'capacity_reduction' "
        "OR status <> 'approved'"
    )
    with op.batch_alter_table("allocation_adjustment", schema=None) as batch_op:
        for column in ("created_by_user_id", "decided_by_user_id"):
            batch_op.drop_constraint(
                f"fk_allocation_adjustment_{column}_user_account", type_="foreignkey"
            )
        batch_op.drop_index("uq_allocation_adjustment_stage_facility")
        batch_op.create_index(
            "uq_allocation_adjustment_stage_facility",
            ["plan_id", "stage", "facility_id"],
            unique=True,
            sqlite_where=sa.text("stage <> 'new_entrant'"),
            postgresql_where=sa.text("stage <> 'new_entrant'"),
        )
        for name in CHECKS:
            batch_op.drop_constraint(op.f(f"ck_allocation_adjustment_{name}"), type_="check")
        batch_op.drop_constraint(
            op.f("ck_allocation_adjustment_only_true_up_claws_back"), type_="check"
        )
        batch_op.create_check_constraint(
            "only_true_up_claws_back", "stage = 'true_up' OR quantity >= 0"
        )
        batch_op.drop_constraint(op.f("ck_allocation_adjustment_stage"), type_="check")
        batch_op.alter_column(
            "stage", existing_type=sa.String(length=18), type_=sa.String(length=14)
        )
        batch_op.create_check_constraint("stage", OLD_STAGES)
        batch_op.drop_constraint(op.f("ck_allocation_adjustment_recordstatus"), type_="check")
        for column in ("reason", "decided_by_user_id", "decided_by", "decided_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("created_by_user_id")
        batch_op.drop_column("status")
