"""Compliance: years (the rulebook as opened and edited), extensions, exemptions, the link
from a ledger surrender to the year it counts for, the status table the sweep fills, and
penalties (one per enterprise and year: assessing twice adds nothing). Adds the unit kind
``ccer_outside`` (a CCER from a project outside the jurisdiction) so that the Beijing cap on
outside offsets can be applied to what the registry holds.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 18:20:26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UNIT_KIND = sa.table(
    "unit_kind",
    sa.column("code", sa.String),
    sa.column("label_zh", sa.String),
    sa.column("label_en", sa.String),
    sa.column("is_offset", sa.Boolean),
    sa.column("is_active", sa.Boolean),
)


def upgrade() -> None:
    op.create_table(
        "compliance_year",
        sa.Column("id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rulebook_name", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("reporting_deadline", sa.Date(), nullable=False),
        sa.Column("verification_deadline", sa.Date(), nullable=False),
        sa.Column("surrender_deadline", sa.Date(), nullable=False),
        sa.Column("penalty_multiple", carbon_market.kernel.types.ScaledDecimal(2), nullable=False),
        sa.Column("opened_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "penalty_multiple > 0", name=op.f("ck_compliance_year_multiple_positive")
        ),
        sa.CheckConstraint(
            "reporting_deadline <= verification_deadline "
            "AND verification_deadline <= surrender_deadline",
            name=op.f("ck_compliance_year_deadlines_in_order"),
        ),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_compliance_year_year_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_year")),
        sa.UniqueConstraint("year", name=op.f("uq_compliance_year_year")),
    )
    op.create_table(
        "compliance_exemption",
        sa.Column("id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_exemption_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_exemption_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_exemption")),
        sa.UniqueConstraint(
            "year", "enterprise_id", name=op.f("uq_compliance_exemption_year_enterprise_id")
        ),
    )
    with op.batch_alter_table("compliance_exemption") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_exemption_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "compliance_extension",
        sa.Column("id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_extension_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_extension_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_extension")),
        sa.UniqueConstraint(
            "year", "enterprise_id", name=op.f("uq_compliance_extension_year_enterprise_id")
        ),
    )
    with op.batch_alter_table("compliance_extension") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_extension_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "compliance_penalty",
        sa.Column("id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("shortfall_t", sa.BigInteger(), nullable=False),
        sa.Column("multiple", carbon_market.kernel.types.ScaledDecimal(2), nullable=False),
        sa.Column("average_price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("amount", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("allocation_deduction_t", sa.BigInteger(), nullable=False),
        sa.Column("price_from", sa.Date(), nullable=False),
        sa.Column("price_to", sa.Date(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessed_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("assessed_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "allocation_deduction_t >= 0", name=op.f("ck_compliance_penalty_deduction_non_negative")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_compliance_penalty_amount_non_negative")),
        sa.CheckConstraint("average_price > 0", name=op.f("ck_compliance_penalty_price_positive")),
        sa.CheckConstraint("multiple > 0", name=op.f("ck_compliance_penalty_multiple_positive")),
        sa.CheckConstraint(
            "shortfall_t > 0", name=op.f("ck_compliance_penalty_shortfall_positive")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_penalty_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_penalty_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_penalty")),
        sa.UniqueConstraint(
            "year", "enterprise_id", name=op.f("uq_compliance_penalty_year_enterprise_id")
        ),
    )
    with op.batch_alter_table("compliance_penalty") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_penalty_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "compliance_status",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("obligation_t", sa.BigInteger(), nullable=False),
        sa.Column("surrendered_t", sa.BigInteger(), nullable=False),
        sa.Column("offsets_surrendered_t", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_t", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_reported",
                "reported",
                "verified",
                "in_progress",
                "compliant",
                "shortfall",
                "late",
                "exempt",
                name="compliancestatuskind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("adjustment", sa.String(length=200), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(status = 'shortfall') = (shortfall_t > 0)",
            name=op.f("ck_compliance_status_shortfall_status"),
        ),
        sa.CheckConstraint(
            "obligation_t >= 0", name=op.f("ck_compliance_status_obligation_non_negative")
        ),
        sa.CheckConstraint(
            "offsets_surrendered_t <= surrendered_t",
            name=op.f("ck_compliance_status_offsets_within_total"),
        ),
        sa.CheckConstraint(
            "offsets_surrendered_t >= 0", name=op.f("ck_compliance_status_offsets_non_negative")
        ),
        sa.CheckConstraint(
            "shortfall_t >= 0", name=op.f("ck_compliance_status_shortfall_non_negative")
        ),
        sa.CheckConstraint(
            "surrendered_t >= 0", name=op.f("ck_compliance_status_surrendered_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_status_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_status_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("year", "enterprise_id", name=op.f("pk_compliance_status")),
    )
    with op.batch_alter_table("compliance_status") as batch_op:
        batch_op.create_index("ix_compliance_status_year_status", ["year", "status"], unique=False)

    op.create_table(
        "compliance_surrender",
        sa.Column("id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("unit_kind", sa.String(length=32), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("counts_as", sa.String(length=16), nullable=False),
        sa.Column("is_outside", sa.Boolean(), nullable=False),
        sa.Column("requested_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "counts_as IN ('allowance', 'offset')",
            name=op.f("ck_compliance_surrender_counts_as_known"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_compliance_surrender_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compliance_surrender_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_compliance_surrender_transaction_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_kind"],
            ["unit_kind.code"],
            name=op.f("fk_compliance_surrender_unit_kind_unit_kind"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["compliance_year.year"],
            name=op.f("fk_compliance_surrender_year_compliance_year"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_surrender")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_compliance_surrender_transaction_id")),
    )
    with op.batch_alter_table("compliance_surrender") as batch_op:
        batch_op.create_index(
            "ix_compliance_surrender_year_enterprise_id", ["year", "enterprise_id"], unique=False
        )

    op.bulk_insert(
        UNIT_KIND,
        [
            {
                "code": "ccer_outside",
                "label_zh": "国家核证自愿减排量（京外项目）",
                "label_en": "CCER, project outside the jurisdiction",
                "is_offset": True,
                "is_active": True,
            }
        ],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM unit_kind WHERE code = 'ccer_outside'"))
    with op.batch_alter_table("compliance_surrender") as batch_op:
        batch_op.drop_index("ix_compliance_surrender_year_enterprise_id")

    op.drop_table("compliance_surrender")
    with op.batch_alter_table("compliance_status") as batch_op:
        batch_op.drop_index("ix_compliance_status_year_status")

    op.drop_table("compliance_status")
    with op.batch_alter_table("compliance_penalty") as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_penalty_enterprise_id"))

    op.drop_table("compliance_penalty")
    with op.batch_alter_table("compliance_extension") as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_extension_enterprise_id"))

    op.drop_table("compliance_extension")
    with op.batch_alter_table("compliance_exemption") as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_exemption_enterprise_id"))

    op.drop_table("compliance_exemption")
    op.drop_table("compliance_year")
