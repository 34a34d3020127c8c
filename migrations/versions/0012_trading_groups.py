"""Trading: the regulator's register of enterprise groups (集团), for the ``same_group``
surveillance flag. An enterprise is in at most one group (the member table's primary key
is the enterprise).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 18:46:29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "enterprise_group",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", carbon_market.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("code <> '' AND name <> ''", name=op.f("ck_enterprise_group_named")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_group")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_group_code")),
    )
    op.create_table(
        "enterprise_group_member",
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("added_at", carbon_market.types.UTCDateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"],
            name=op.f("fk_enterprise_group_member_enterprise_id_enterprise"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["enterprise_group.id"],
            name=op.f("fk_enterprise_group_member_group_id_enterprise_group"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_enterprise_group_member")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_enterprise_group_member_group_id"), "enterprise_group_member", ["group_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_enterprise_group_member_group_id"), "enterprise_group_member")
    op.drop_table("enterprise_group_member")
    op.drop_table("enterprise_group")
