"""Emission factor library: versioned factor sets and their factors; seeds cn-default v1.

The shipped ``cn-default`` set (``carbon_market/mrv/data/cn-default.csv`` as of this revision)
is seeded as version 1, published, not frozen. Its rows are **inlined** below rather than read
from the packaged CSV at migration time: a migration must build the same database whenever it
runs, and the packaged file will change (its sources are marked "to be confirmed"). A changed
file then needs a new revision that adds a new *version* of the set, which is exactly the
library's rule; ``tests/migrations`` checks that this seed still equals the packaged file, so
the drift cannot go unnoticed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:17:44.257824
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The set's identity: (name, jurisdiction, first_year, last_year).
SEED_SET = ("cn-default", "CN", 2022, 2026)

# The sources are quoted verbatim from the data file; wrapping them would change the text.
# ruff: noqa: E501

#: The cited sources, each written once (``FACTORS`` refers to them by index).
SOURCES = [
    "GB/T 32150-2015《工业企业温室气体排放核算和报告通则》附录A 表A.1 常用化石燃料相关参数缺省值 (to be confirmed against GB/T 32150-2015 表A.1; the sector guides, e.g. 《工业其他行业企业温室气体排放核算方法与报告指南（试行）》, list the same defaults in their annex — table number to be confirmed)",
    "生态环境部 国家统计局《关于发布2022年电力二氧化碳排放因子的公告》(2024年12月): 2022年全国电力平均二氧化碳排放因子 0.5366 kgCO2/kWh (regional alternative: 华北 0.6776). Value confirmed from press reports of the announcement; table number to be confirmed against the announcement's annex",
    "《工业其他行业企业温室气体排放核算方法与报告指南（试行）》(国家发展改革委 2015) 外购热力排放因子推荐值 0.11 tCO2/GJ (value and annex table to be confirmed against the guide)",
    "《工业其他行业企业温室气体排放核算方法与报告指南（试行）》碳酸盐使用过程 排放因子 CaCO3 0.440 tCO2/t; stoichiometric CO2/CaCO3 = 44/100 (value and annex table to be confirmed against the guide)",
    "Sulphur mass balance, not a handbook value: GB 17820-2018 天然气 一类气 total sulphur ≤ 20 mg/m3 → 0.2 kg S per 10^4 Nm3 × 2 kg SO2/kg S; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021) 燃气工业锅炉",
    "US EPA AP-42 §1.4 Table 1.4-1 (uncontrolled small boiler 100 lb/10^6 scf; 1 lb = 0.45359 kg; 10^6 scf = 28317 m3; no 15.6 °C → 0 °C volume correction) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.4 Table 1.4-2 (total PM 7.6 lb/10^6 scf, converted as for NOx) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.4 Table 1.4-2 (VOC 5.5 lb/10^6 scf, converted as for NOx) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.1 Table 1.1-3 (bituminous spreader stoker 38S lb/ton = 19S kg/t; S = 1.0 % assumed; uncontrolled) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021) 燃煤工业锅炉 (S-dependent formula)",
    "US EPA AP-42 §1.1 Table 1.1-3 (bituminous spreader stoker 11 lb/ton; uncontrolled) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.1 Table 1.1-4 (spreader stoker filterable PM 66 lb/ton; uncontrolled, before dust removal) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.1 Table 1.1-19 (TNMOC 0.05 lb/ton) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Sulphur mass balance, not a handbook value: GB 19147-2016 车用柴油(VI) sulphur ≤ 10 mg/kg → 0.01 kg S/t × 2; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-1 (distillate oil boiler 20 lb/10^3 gal at 0.84 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-1 (distillate filterable PM 2 lb/10^3 gal at 0.84 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-3 (distillate TNMOC 0.2 lb/10^3 gal at 0.84 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Sulphur mass balance, not a handbook value: GB 17930-2016 车用汽油(VI) sulphur ≤ 10 mg/kg → 0.01 kg S/t × 2; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Proxy: US EPA AP-42 §1.3 Table 1.3-1 distillate oil factor (20 lb/10^3 gal) at gasoline density 0.73 kg/L; AP-42 has no stationary gasoline factor; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Proxy: US EPA AP-42 §1.3 Table 1.3-1 distillate filterable PM (2 lb/10^3 gal) at 0.73 kg/L; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Proxy: US EPA AP-42 §1.3 Table 1.3-3 distillate TNMOC (0.2 lb/10^3 gal) at 0.73 kg/L; evaporative losses not included; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Sulphur mass balance, not a handbook value: S = 0.5 % assumed → 5 kg S/t × 2; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-1 (No. 6 oil industrial boiler 55 lb/10^3 gal at 0.97 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-1 (No. 6 oil filterable PM 9.19S + 3.22 lb/10^3 gal, S = 0.5, at 0.97 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.3 Table 1.3-3 (residual oil TNMOC 0.28 lb/10^3 gal at 0.97 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "Sulphur mass balance, not a handbook value: GB 11174-2011 液化石油气 total sulphur ≤ 343 mg/m3 of gas at about 2.0 kg/m3 → about 0.17 kg S/t × 2; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.5 Table 1.5-1 (propane industrial boiler 13 lb/10^3 gal at 0.508 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.5 Table 1.5-1 (propane PM 0.7 lb/10^3 gal at 0.508 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
    "US EPA AP-42 §1.5 Table 1.5-1 (propane TOC 1.0 lb/10^3 gal at 0.508 kg/L) — Chinese value not available here; to be confirmed against 《排放源统计调查产排污核算方法和系数手册》(生态环境部 2021)",
]

#: (category, code, parameter, value, unit, index into SOURCES), as in the CSV.
FACTORS = [
    ("fuel", "natural_gas", "ncv", "389.31", "GJ/10^4 Nm3", 0),
    ("fuel", "natural_gas", "carbon_content", "0.01530", "tC/GJ", 0),
    ("fuel", "natural_gas", "oxidation_rate", "0.99", "fraction", 0),
    ("fuel", "raw_coal", "ncv", "20.908", "GJ/t", 0),
    ("fuel", "raw_coal", "carbon_content", "0.02637", "tC/GJ", 0),
    ("fuel", "raw_coal", "oxidation_rate", "0.94", "fraction", 0),
    ("fuel", "diesel", "ncv", "42.652", "GJ/t", 0),
    ("fuel", "diesel", "carbon_content", "0.0202", "tC/GJ", 0),
    ("fuel", "diesel", "oxidation_rate", "0.98", "fraction", 0),
    ("fuel", "gasoline", "ncv", "43.070", "GJ/t", 0),
    ("fuel", "gasoline", "carbon_content", "0.0189", "tC/GJ", 0),
    ("fuel", "gasoline", "oxidation_rate", "0.98", "fraction", 0),
    ("fuel", "fuel_oil", "ncv", "41.816", "GJ/t", 0),
    ("fuel", "fuel_oil", "carbon_content", "0.0211", "tC/GJ", 0),
    ("fuel", "fuel_oil", "oxidation_rate", "0.98", "fraction", 0),
    ("fuel", "lpg", "ncv", "50.179", "GJ/t", 0),
    ("fuel", "lpg", "carbon_content", "0.0172", "tC/GJ", 0),
    ("fuel", "lpg", "oxidation_rate", "0.98", "fraction", 0),
    ("electricity", "grid", "grid", "0.5366", "tCO2/MWh", 1),
    ("heat", "purchased_heat", "heat", "0.11", "tCO2/GJ", 2),
    ("process", "limestone", "factor", "0.440", "tCO2/t", 3),
    ("pollutant", "natural_gas", "so2", "0.4", "kg/10^4 Nm3", 4),
    ("pollutant", "natural_gas", "nox", "16.02", "kg/10^4 Nm3", 5),
    ("pollutant", "natural_gas", "pm", "1.22", "kg/10^4 Nm3", 6),
    ("pollutant", "natural_gas", "vocs", "0.88", "kg/10^4 Nm3", 7),
    ("pollutant", "raw_coal", "so2", "19", "kg/t", 8),
    ("pollutant", "raw_coal", "nox", "5.5", "kg/t", 9),
    ("pollutant", "raw_coal", "pm", "33", "kg/t", 10),
    ("pollutant", "raw_coal", "vocs", "0.025", "kg/t", 11),
    ("pollutant", "diesel", "so2", "0.02", "kg/t", 12),
    ("pollutant", "diesel", "nox", "2.85", "kg/t", 13),
    ("pollutant", "diesel", "pm", "0.29", "kg/t", 14),
    ("pollutant", "diesel", "vocs", "0.03", "kg/t", 15),
    ("pollutant", "gasoline", "so2", "0.02", "kg/t", 16),
    ("pollutant", "gasoline", "nox", "3.28", "kg/t", 17),
    ("pollutant", "gasoline", "pm", "0.33", "kg/t", 18),
    ("pollutant", "gasoline", "vocs", "0.03", "kg/t", 19),
    ("pollutant", "fuel_oil", "so2", "10", "kg/t", 20),
    ("pollutant", "fuel_oil", "nox", "6.79", "kg/t", 21),
    ("pollutant", "fuel_oil", "pm", "0.97", "kg/t", 22),
    ("pollutant", "fuel_oil", "vocs", "0.03", "kg/t", 23),
    ("pollutant", "lpg", "so2", "0.34", "kg/t", 24),
    ("pollutant", "lpg", "nox", "3.07", "kg/t", 25),
    ("pollutant", "lpg", "pm", "0.17", "kg/t", 26),
    ("pollutant", "lpg", "vocs", "0.24", "kg/t", 27),
]


def _seed(now: datetime) -> None:
    name, jurisdiction, first_year, last_year = SEED_SET
    factor_set = sa.table(
        "emission_factor_set",
        sa.column("id", sa.Integer),
        sa.column("name"),
        sa.column("version"),
        sa.column("jurisdiction"),
        sa.column("first_year"),
        sa.column("last_year"),
        sa.column("status"),
        sa.column("is_frozen", sa.Boolean),
        sa.column("created_at", carbon_market.kernel.types.UTCDateTime()),
        sa.column("created_by"),
    )
    set_id = (
        op.get_bind()
        .execute(
            factor_set.insert()
            .values(
                name=name,
                version=1,
                jurisdiction=jurisdiction,
                first_year=first_year,
                last_year=last_year,
                status="published",
                is_frozen=False,
                created_at=now,
                created_by="migration:0003",
            )
            .returning(factor_set.c.id)
        )
        .scalar_one()
    )
    factor = sa.table(
        "emission_factor",
        sa.column("set_id", sa.Integer),
        sa.column("category"),
        sa.column("code"),
        sa.column("parameter"),
        sa.column("value", carbon_market.kernel.types.ScaledDecimal(6)),
        sa.column("unit"),
        sa.column("source"),
    )
    op.bulk_insert(
        factor,
        [
            {
                "set_id": set_id,
                "category": category,
                "code": code,
                "parameter": parameter,
                "value": Decimal(value),
                "unit": unit,
                "source": SOURCES[source],
            }
            for category, code, parameter, value, unit, source in FACTORS
        ],
    )


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "emission_factor_set",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                name="factorsetstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("is_frozen", sa.Boolean(), nullable=False),
        sa.Column("frozen_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "first_year <= last_year", name=op.f("ck_emission_factor_set_years_ordered")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_emission_factor_set_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_factor_set")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_emission_factor_set_name_version")),
    )
    with op.batch_alter_table("emission_factor_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emission_factor_set_name"), ["name"], unique=False)

    op.create_table(
        "emission_factor",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("set_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "fuel",
                "electricity",
                "heat",
                "process",
                "pollutant",
                name="factorcategory",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("parameter", sa.String(length=32), nullable=False),
        sa.Column("value", carbon_market.kernel.types.ScaledDecimal(6), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_emission_factor_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["emission_factor_set.id"],
            name=op.f("fk_emission_factor_set_id_emission_factor_set"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emission_factor")),
        sa.UniqueConstraint(
            "set_id",
            "category",
            "code",
            "parameter",
            name=op.f("uq_emission_factor_set_id_category_code_parameter"),
        ),
    )
    with op.batch_alter_table("emission_factor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emission_factor_set_id"), ["set_id"], unique=False)

    # ### end Alembic commands ###
    _seed(datetime.now(UTC))


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("emission_factor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emission_factor_set_id"))

    op.drop_table("emission_factor")
    with op.batch_alter_table("emission_factor_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emission_factor_set_name"))

    op.drop_table("emission_factor_set")
    # ### end Alembic commands ###
