"""Allocation from the registry: per-facility figures and power-correction inputs (issue 6).

``facility`` gains ``category`` (the benchmark category of the rulebook; the schema checks
it, since the rulebook is data) and ``cooling`` (air/water, a CHECK). A new table,
``emission_report_facility``, holds one line per facility of a report: its output, its
heat-supply ratio and load rate (fractions of 1, CHECKed 0–1 on the scaled integers),
heat supplied (GJ) and the verifier's per-facility emissions. Existing facilities get no
category or cooling and existing reports no lines: allocation reads them as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: A fraction of 1 at 6 stored places (``ScaledDecimal(6)``): 1 is 1,000,000.
ONE = 10**6
LINE_CHECKS = {
    "output_non_negative": "output_quantity >= 0",
    "heat_supply_ratio_fraction": f"heat_supply_ratio >= 0 AND heat_supply_ratio <= {ONE}",
    "load_rate_fraction": f"load_rate >= 0 AND load_rate <= {ONE}",
    "heat_supplied_non_negative": "heat_supplied_gj >= 0",
    "verified_co2_non_negative": "verified_co2_t >= 0",
}


def upgrade() -> None:
    with op.batch_alter_table("facility") as batch:
        batch.add_column(sa.Column("category", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("cooling", sa.String(length=5), nullable=True))
        batch.create_check_constraint(op.f("ck_facility_cooling"), "cooling IN ('air', 'water')")

    decimal = carbon_market.kernel.types.ScaledDecimal(6)
    op.create_table(
        "emission_report_facility",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("facility_id", ID, nullable=False),
        sa.Column("output_quantity", decimal, nullable=True),
        sa.Column("heat_supply_ratio", decimal, nullable=True),
        sa.Column("load_rate", decimal, nullable=True),
        sa.Column("heat_supplied_gj", decimal, nullable=True),
        sa.Column("verified_co2_t", decimal, nullable=True),
        *(
            sa.CheckConstraint(condition, name=op.f(f"ck_emission_report_facility_{name}"))
            for name, condition in LINE_CHECKS.items()
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["emission_report.id"],
            name=op.f("fk_emission_report_facility_report_id_emission_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_emission_report_facility_facility_id_facility"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_report_facility")),
        sa.UniqueConstraint(
            "report_id",
            "facility_id",
            name=op.f("uq_emission_report_facility_report_id_facility_id"),
        ),
    )
    for column in ("report_id", "facility_id"):
        op.create_index(
            op.f(f"ix_emission_report_facility_{column}"),
            "emission_report_facility",
            [column],
        )


def downgrade() -> None:
    for column in ("facility_id", "report_id"):
        op.drop_index(
            op.f(f"ix_emission_report_facility_{column}"), table_name="emission_report_facility"
        )
    op.drop_table("emission_report_facility")
    with op.batch_alter_table("facility") as batch:
        batch.drop_constraint(op.f("ck_facility_cooling"), type_="check")
        batch.drop_column("cooling")
        batch.drop_column("category")
