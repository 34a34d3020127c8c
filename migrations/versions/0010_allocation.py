"""Allocation plans and their per-facility results (issue 6).

``allocation_plan`` keeps the plan document and, as guarded columns, its year, cap, shares
(millionths; together at most 100%), status and who created and approved it (never the same
user: the four-eyes CHECK). ``allocation_result`` holds one row per facility of an approved
plan, with the ledger transaction that issued it (UNIQUE: one transaction issues one row).
Self-contained: it only refers to tables of earlier revisions (``user_account``,
``facility``, ``enterprise``, ``ledger_transaction``); renumber freely at merge.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 16:37:31.947540
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_plan",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "approved",
                "issued",
                name="planstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("cap", sa.BigInteger(), nullable=False),
        sa.Column("reserve_share", carbon_market.kernel.types.ScaledDecimal(6), nullable=False),
        sa.Column("auction_share", carbon_market.kernel.types.ScaledDecimal(6), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("scale_factor", carbon_market.kernel.types.ScaledDecimal(12), nullable=True),
        sa.Column("total_allocation", sa.BigInteger(), nullable=True),
        sa.Column("created_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("updated_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("approved_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column(
            "approved_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("issued_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'draft') = (approved_at IS NULL)",
            name=op.f("ck_allocation_plan_approved_unless_draft"),
        ),
        sa.CheckConstraint(
            "(status = 'issued') = (issued_at IS NOT NULL)",
            name=op.f("ck_allocation_plan_issued_when_issued"),
        ),
        sa.CheckConstraint(
            "approved_by_user_id IS NULL OR created_by_user_id IS NULL "
            "OR approved_by_user_id <> created_by_user_id",
            name=op.f("ck_allocation_plan_four_eyes"),
        ),
        sa.CheckConstraint("cap > 0", name=op.f("ck_allocation_plan_cap_positive")),
        sa.CheckConstraint(
            "reserve_share + auction_share <= 1000000",
            name=op.f("ck_allocation_plan_shares_within_cap"),
        ),
        sa.CheckConstraint(
            "reserve_share >= 0 AND auction_share >= 0",
            name=op.f("ck_allocation_plan_shares_non_negative"),
        ),
        sa.CheckConstraint(
            "total_allocation >= 0", name=op.f("ck_allocation_plan_total_non_negative")
        ),
        sa.CheckConstraint(
            "year BETWEEN 2001 AND 2100", name=op.f("ck_allocation_plan_year_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_allocation_plan_approved_by_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_allocation_plan_created_by_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_plan")),
        sa.UniqueConstraint("year", "name", name=op.f("uq_allocation_plan_year_name")),
    )
    with op.batch_alter_table("allocation_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_plan_year"), ["year"], unique=False)
        batch_op.create_index(
            "uq_allocation_plan_adopted_year",
            ["year"],
            unique=True,
            sqlite_where=sa.text("status <> 'draft'"),
            postgresql_where=sa.text("status <> 'draft'"),
        )

    op.create_table(
        "allocation_result",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "facility_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("free_allocation", carbon_market.kernel.types.ScaledDecimal(6), nullable=True),
        sa.Column("allocation", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column(
            "issued_tx_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "(allocation IS NULL) = (free_allocation IS NULL)",
            name=op.f("ck_allocation_result_allocated_with_free"),
        ),
        sa.CheckConstraint(
            "allocation >= 0", name=op.f("ck_allocation_result_allocation_non_negative")
        ),
        sa.CheckConstraint(
            "free_allocation >= 0", name=op.f("ck_allocation_result_free_non_negative")
        ),
        sa.CheckConstraint(
            "issued_tx_id IS NULL OR allocation > 0",
            name=op.f("ck_allocation_result_issued_only_units"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_allocation_result_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_allocation_result_facility_id_facility"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issued_tx_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_allocation_result_issued_tx_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["allocation_plan.id"],
            name=op.f("fk_allocation_result_plan_id_allocation_plan"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_result")),
        sa.UniqueConstraint("issued_tx_id", name=op.f("uq_allocation_result_issued_tx_id")),
        sa.UniqueConstraint(
            "plan_id", "facility_id", name=op.f("uq_allocation_result_plan_id_facility_id")
        ),
    )
    with op.batch_alter_table("allocation_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_result_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_allocation_result_facility_id"), ["facility_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("allocation_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_result_facility_id"))
        batch_op.drop_index(batch_op.f("ix_allocation_result_enterprise_id"))

    op.drop_table("allocation_result")
    with op.batch_alter_table("allocation_plan", schema=None) as batch_op:
        batch_op.drop_index("uq_allocation_plan_adopted_year")
        batch_op.drop_index(batch_op.f("ix_allocation_plan_year"))

    op.drop_table("allocation_plan")
