"""Allocation auctions (issue 6): the auctions regulators open and the sealed bids.

``allocation_auction`` holds the terms (volume, reserve price in fen, per-bidder limit,
the bid window in UTC) and, once cleared, the clearing price (never below the reserve: a
CHECK) and the units sold. ``allocation_auction_bid`` holds each bid, its award and the
amount due (fen), and the ledger transaction that settled it (UNIQUE: one transaction
settles one bid). ``allocation_plan`` gains the instants its pre-allocation and true-up
froze their figures. ``allocation_adjustment`` holds the pre-allocation, true-up and
new-entrant movements of a plan, one per facility and stage (a partial unique index: new
entrants may come back for a capacity change), signed only for the true-up, each with the
ledger transaction that moved it. Self-contained: it only refers to tables of earlier revisions.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 18:19:46.235950
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no CHECK): SQLite adds it in place, without the table
    # rebuild that would trip allocation_result's foreign key (see 0011).
    op.add_column(
        "allocation_plan", sa.Column("pre_allocated_at", carbon_market.kernel.types.UTCDateTime())
    )
    op.add_column(
        "allocation_plan", sa.Column("trued_up_at", carbon_market.kernel.types.UTCDateTime())
    )
    op.create_table(
        "allocation_auction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_kind", sa.String(length=32), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("reserve_price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("bidder_limit", sa.BigInteger(), nullable=False),
        sa.Column("opens_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("closes_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "cleared",
                "settled",
                name="auctionstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("clearing_price", carbon_market.kernel.types.Money(), nullable=True),
        sa.Column("sold", sa.BigInteger(), nullable=True),
        sa.Column("created_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("cleared_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.Column("cleared_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'open') = (cleared_at IS NULL)",
            name=op.f("ck_allocation_auction_cleared_unless_open"),
        ),
        sa.CheckConstraint(
            "(status = 'settled') = (settled_at IS NOT NULL)",
            name=op.f("ck_allocation_auction_settled_when_settled"),
        ),
        sa.CheckConstraint(
            "(sold IS NULL) = (cleared_at IS NULL)",
            name=op.f("ck_allocation_auction_sold_when_cleared"),
        ),
        sa.CheckConstraint(
            "bidder_limit > 0 AND bidder_limit <= volume",
            name=op.f("ck_allocation_auction_limit_within_volume"),
        ),
        sa.CheckConstraint(
            "clearing_price IS NULL OR clearing_price >= reserve_price",
            name=op.f("ck_allocation_auction_never_below_reserve"),
        ),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_allocation_auction_window_ordered")
        ),
        sa.CheckConstraint(
            "reserve_price > 0", name=op.f("ck_allocation_auction_reserve_price_positive")
        ),
        sa.CheckConstraint(
            "sold IS NULL OR (sold >= 0 AND sold <= volume)",
            name=op.f("ck_allocation_auction_sold_within_volume"),
        ),
        sa.CheckConstraint(
            "vintage BETWEEN 2000 AND 2100", name=op.f("ck_allocation_auction_vintage_range")
        ),
        sa.CheckConstraint("volume > 0", name=op.f("ck_allocation_auction_volume_positive")),
        sa.CheckConstraint(
            "year BETWEEN 2001 AND 2100", name=op.f("ck_allocation_auction_year_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_allocation_auction_created_by_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["allocation_plan.id"],
            name=op.f("fk_allocation_auction_plan_id_allocation_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_kind"],
            ["unit_kind.code"],
            name=op.f("fk_allocation_auction_unit_kind_unit_kind"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_auction")),
    )
    with op.batch_alter_table("allocation_auction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_auction_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "allocation_auction_bid",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "auction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column(
            "submitted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("awarded", sa.BigInteger(), nullable=True),
        sa.Column("amount_due", carbon_market.kernel.types.Money(), nullable=True),
        sa.Column(
            "settlement_tx_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "(awarded IS NULL) = (amount_due IS NULL)",
            name=op.f("ck_allocation_auction_bid_due_with_award"),
        ),
        sa.CheckConstraint(
            "amount_due IS NULL OR amount_due >= 0",
            name=op.f("ck_allocation_auction_bid_due_non_negative"),
        ),
        sa.CheckConstraint(
            "awarded IS NULL OR (awarded >= 0 AND awarded <= quantity)",
            name=op.f("ck_allocation_auction_bid_awarded_within_bid"),
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_allocation_auction_bid_price_positive")),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_allocation_auction_bid_quantity_positive")
        ),
        sa.CheckConstraint(
            "settlement_tx_id IS NULL OR awarded > 0",
            name=op.f("ck_allocation_auction_bid_settled_only_awards"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_allocation_auction_bid_account_id_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["auction_id"],
            ["allocation_auction.id"],
            name=op.f("fk_allocation_auction_bid_auction_id_allocation_auction"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_allocation_auction_bid_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_tx_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_allocation_auction_bid_settlement_tx_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_allocation_auction_bid_submitted_by_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_auction_bid")),
        sa.UniqueConstraint(
            "settlement_tx_id", name=op.f("uq_allocation_auction_bid_settlement_tx_id")
        ),
    )
    with op.batch_alter_table("allocation_auction_bid", schema=None) as batch_op:
        batch_op.create_index(
            "ix_allocation_auction_bid_auction_enterprise",
            ["auction_id", "enterprise_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_allocation_auction_bid_enterprise_id"), ["enterprise_id"], unique=False
        )
    op.create_table(
        "allocation_adjustment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "pre_allocation",
                "true_up",
                "new_entrant",
                name="stage",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "facility_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("basis", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("created_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("tx_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "stage = 'true_up' OR quantity >= 0",
            name=op.f("ck_allocation_adjustment_only_true_up_claws_back"),
        ),
        sa.CheckConstraint(
            "basis IS NULL OR basis >= 0", name=op.f("ck_allocation_adjustment_basis_non_negative")
        ),
        sa.CheckConstraint(
            "tx_id IS NULL OR quantity <> 0", name=op.f("ck_allocation_adjustment_moved_only_units")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_allocation_adjustment_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_allocation_adjustment_facility_id_facility"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["allocation_plan.id"],
            name=op.f("fk_allocation_adjustment_plan_id_allocation_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_allocation_adjustment_tx_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_adjustment")),
        sa.UniqueConstraint("tx_id", name=op.f("uq_allocation_adjustment_tx_id")),
    )
    with op.batch_alter_table("allocation_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_adjustment_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_allocation_adjustment_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(
            "uq_allocation_adjustment_stage_facility",
            ["plan_id", "stage", "facility_id"],
            unique=True,
            sqlite_where=sa.text("stage <> 'new_entrant'"),
            postgresql_where=sa.text("stage <> 'new_entrant'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("allocation_adjustment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_allocation_adjustment_stage_facility",
            sqlite_where=sa.text("stage <> 'new_entrant'"),
            postgresql_where=sa.text("stage <> 'new_entrant'"),
        )
        batch_op.drop_index(batch_op.f("ix_allocation_adjustment_facility_id"))
        batch_op.drop_index(batch_op.f("ix_allocation_adjustment_enterprise_id"))

    op.drop_table("allocation_adjustment")
    with op.batch_alter_table("allocation_auction_bid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_auction_bid_enterprise_id"))
        batch_op.drop_index("ix_allocation_auction_bid_auction_enterprise")

    op.drop_table("allocation_auction_bid")
    with op.batch_alter_table("allocation_auction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_auction_plan_id"))

    op.drop_table("allocation_auction")
    with op.batch_alter_table("allocation_plan") as batch:
        batch.drop_column("trued_up_at")
        batch.drop_column("pre_allocated_at")
