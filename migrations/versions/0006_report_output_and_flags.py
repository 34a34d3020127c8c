"""Emission reports: the year's output (for intensity indicators) and review flags.

Existing reports get no output and no flags (``[]``, count 0); the next edit computes them.
The server defaults only fill existing rows and are dropped again: the service always
writes both.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "output_quantity_positive": "output_quantity > 0",
    "output_value_positive": "output_value_10k_cny > 0",
    "output_unit_with_quantity": "(output_quantity IS NULL) = (output_unit IS NULL)",
    "flag_count_non_negative": "flag_count >= 0",
}


def upgrade() -> None:
    with op.batch_alter_table("emission_report") as batch:
        batch.add_column(
            sa.Column("output_quantity", carbon_market.kernel.types.ScaledDecimal(6), nullable=True)
        )
        batch.add_column(sa.Column("output_unit", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column(
                "output_value_10k_cny", carbon_market.kernel.types.ScaledDecimal(6), nullable=True
            )
        )
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("flag_count", sa.Integer(), nullable=False, server_default="0"))
        for name, condition in CHECKS.items():
            batch.create_check_constraint(op.f(f"ck_emission_report_{name}"), condition)
        batch.create_index(batch.f("ix_emission_report_flag_count"), ["flag_count"], unique=False)
    with op.batch_alter_table("emission_report") as batch:
        batch.alter_column("flags", server_default=None)
        batch.alter_column("flag_count", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("emission_report") as batch:
        batch.drop_index(batch.f("ix_emission_report_flag_count"))
        for name in CHECKS:
            batch.drop_constraint(op.f(f"ck_emission_report_{name}"), type_="check")
        batch.drop_column("flag_count")
        batch.drop_column("flags")
        batch.drop_column("output_value_10k_cny")
        batch.drop_column("output_unit")
        batch.drop_column("output_quantity")
