"""Corrections cascade: ``compliance_correction`` (one row per corrected report version
applied to its year: UNIQUE report, so applying it twice adds nothing); penalties gain a
status (``current``/``superseded``/``cancelled``), the correction that made them, the one
that ended them and the penalty they supersede (UNIQUE), and the unique (year, enterprise)
becomes a partial unique index over current penalties only; surrenders gain the correction
that made them (the smaller re-surrender after a reversal). The two altered tables are
referenced by no other table, so SQLite's batch rebuild of them is safe.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 19:31:45
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT = sa.text("status = 'current'")


def upgrade() -> None:
    op.create_table(
        "compliance_correction",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("previous_obligation_t", sa.BigInteger(), nullable=False),
        sa.Column("obligation_t", sa.BigInteger(), nullable=False),
        sa.Column("returned_t", sa.BigInteger(), nullable=False),
        sa.Column("status_before", sa.String(length=16), nullable=True),
        sa.Column("status_after", sa.String(length=16), nullable=False),
        sa.Column("applied_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "obligation_t >= 0", name=op.f("ck_compliance_correction_obligation_non_negative")
        ),
        sa.CheckConstraint(
            "previous_obligation_t >= 0",
            name=op.f("ck_compliance_correction_previous_non_negative"),
        ),
        sa.CheckConstraint(
            "returned_t >= 0", name=op.f("ck_compliance_correction_returned_non_negative")
        ),
        sa.CheckConstraint(
            "version >= 2", name=op.f("ck_compliance_correction_version_is_correction")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_correction_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["emission_report.id"],
            name=op.f("fk_compliance_correction_report_id_emission_report"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_correction_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_correction")),
        sa.UniqueConstraint("report_id", name=op.f("uq_compliance_correction_report_id")),
    )
    op.create_index(
        "ix_compliance_correction_year_enterprise_id",
        "compliance_correction",
        ["year", "enterprise_id"],
    )

    with op.batch_alter_table("compliance_penalty", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "current",
                    "superseded",
                    "cancelled",
                    name="penaltystatus",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=False,
                server_default="current",
            )
        )
        batch_op.add_column(sa.Column("correction_id", ID, nullable=True))
        batch_op.add_column(sa.Column("ended_by_id", ID, nullable=True))
        batch_op.add_column(sa.Column("supersedes_id", ID, nullable=True))
        batch_op.drop_constraint("uq_compliance_penalty_year_enterprise_id", type_="unique")
        batch_op.create_index("ix_compliance_penalty_correction_id", ["correction_id"])
        batch_op.create_index(
            "uq_compliance_penalty_current",
            ["year", "enterprise_id"],
            unique=True,
            sqlite_where=CURRENT,
            postgresql_where=CURRENT,
        )
        batch_op.create_unique_constraint("uq_compliance_penalty_supersedes_id", ["supersedes_id"])
        batch_op.create_check_constraint(
            "ended_names_correction", "(status = 'current') = (ended_by_id IS NULL)"
        )
        batch_op.create_foreign_key(
            "fk_compliance_penalty_supersedes_id_compliance_penalty",
            "compliance_penalty",
            ["supersedes_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_compliance_penalty_ended_by_id_compliance_correction",
            "compliance_correction",
            ["ended_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_compliance_penalty_correction_id_compliance_correction",
            "compliance_correction",
            ["correction_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    # The default only filled the rows already there; the model always writes a status.
    with op.batch_alter_table("compliance_penalty", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)

    with op.batch_alter_table("compliance_surrender", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correction_id", ID, nullable=True))
        batch_op.create_index("ix_compliance_surrender_correction_id", ["correction_id"])
        batch_op.create_foreign_key(
            "fk_compliance_surrender_correction_id_compliance_correction",
            "compliance_correction",
            ["correction_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("compliance_surrender", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_compliance_surrender_correction_id_compliance_correction", type_="foreignkey"
        )
        batch_op.drop_index("ix_compliance_surrender_correction_id")
        batch_op.drop_column("correction_id")

    with op.batch_alter_table("compliance_penalty", schema=None) as batch_op:
        for name in (
            "fk_compliance_penalty_correction_id_compliance_correction",
            "fk_compliance_penalty_ended_by_id_compliance_correction",
            "fk_compliance_penalty_supersedes_id_compliance_penalty",
        ):
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.drop_constraint(
            op.f("ck_compliance_penalty_ended_names_correction"), type_="check"
        )
        batch_op.drop_constraint("uq_compliance_penalty_supersedes_id", type_="unique")
        batch_op.drop_constraint(op.f("ck_compliance_penalty_penaltystatus"), type_="check")
        batch_op.drop_index("uq_compliance_penalty_current")
        batch_op.drop_index("ix_compliance_penalty_correction_id")
        batch_op.create_unique_constraint(
            "uq_compliance_penalty_year_enterprise_id", ["year", "enterprise_id"]
        )
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("ended_by_id")
        batch_op.drop_column("correction_id")
        batch_op.drop_column("status")

    op.drop_index("ix_compliance_correction_year_enterprise_id", "compliance_correction")
    op.drop_table("compliance_correction")
