"""Trading: trades as the exchange reports them, the regulators' reference prices, and the
``exchange`` role (the exchange's service account) in the user table's role CHECK.

Prices and amounts are integer fen (``Money``); ``amount = quantity × price`` is a CHECK,
so the cash due can never disagree with the trade. A settled trade names its ledger
transaction (unique: one settlement settles one trade).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 16:37:20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ROLES_BEFORE = ("regulator", "enterprise", "verifier", "finance_officer", "auditor")
ROLES_AFTER = (*ROLES_BEFORE, "exchange")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def _role_check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _set_roles(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_user_account_role"), "user_account", type_="check")
        op.create_check_constraint(op.f("ck_user_account_role"), "user_account", _role_check(after))
        return
    # SQLite cannot alter a CHECK, and batch mode's table rebuild trips the foreign keys of
    # api_token and others at COMMIT (PRAGMA foreign_keys cannot be switched off inside the
    # migration's transaction). Changing the IN list of a CHECK leaves every stored row as
    # it was, which is the case SQLite documents for editing the schema text in place
    # (https://sqlite.org/lang_altertable.html, "writable_schema").
    table = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'user_account'")
    sql = bind.scalar(table)
    old, new = _role_check(before), _role_check(after)
    if sql is None or sql.count(old) != 1:
        raise RuntimeError(f"user_account's role CHECK is not {old!r}; edit it by hand")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'user_account'"
        ),
        {"sql": sql.replace(old, new)},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version or 0) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _set_roles(ROLES_BEFORE, ROLES_AFTER)
    op.create_table(
        "market_reference_price",
        sa.Column("id", ID, nullable=False),
        sa.Column("unit_kind", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("set_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_market_reference_price_price_positive")),
        sa.ForeignKeyConstraint(
            ["unit_kind"],
            ["unit_kind.code"],
            name=op.f("fk_market_reference_price_unit_kind_unit_kind"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_reference_price")),
        sa.UniqueConstraint(
            "unit_kind", "day", name=op.f("uq_market_reference_price_unit_kind_day")
        ),
    )
    op.create_table(
        "trade",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", _enum("tradekind", "listed", "block"), nullable=False),
        sa.Column("seller_account_id", ID, nullable=False),
        sa.Column("buyer_account_id", ID, nullable=False),
        sa.Column("unit_kind", sa.String(length=32), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("amount", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("reference_price", carbon_market.kernel.types.Money(), nullable=False),
        sa.Column("traded_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column(
            "status", _enum("tradestatus", "recorded", "settled", "rejected"), nullable=False
        ),
        sa.Column("settlement_tx_id", ID, nullable=True),
        sa.Column("settled_at", carbon_market.kernel.types.UTCDateTime(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("recorded_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(status = 'settled') = (settlement_tx_id IS NOT NULL)",
            name=op.f("ck_trade_settled_by_transaction"),
        ),
        sa.CheckConstraint(
            "amount = quantity * price", name=op.f("ck_trade_amount_is_quantity_times_price")
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_trade_price_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_trade_quantity_positive")),
        sa.CheckConstraint(
            "seller_account_id != buyer_account_id", name=op.f("ck_trade_two_parties")
        ),
        sa.CheckConstraint("vintage BETWEEN 2000 AND 2100", name=op.f("ck_trade_vintage_range")),
        sa.ForeignKeyConstraint(
            ["buyer_account_id"],
            ["account.id"],
            name=op.f("fk_trade_buyer_account_id_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["seller_account_id"],
            ["account.id"],
            name=op.f("fk_trade_seller_account_id_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_tx_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_trade_settlement_tx_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_kind"],
            ["unit_kind.code"],
            name=op.f("fk_trade_unit_kind_unit_kind"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_trade_external_ref")),
        sa.UniqueConstraint("settlement_tx_id", name=op.f("uq_trade_settlement_tx_id")),
    )
    with op.batch_alter_table("trade") as batch:
        batch.create_index(batch.f("ix_trade_buyer_account_id"), ["buyer_account_id"])
        batch.create_index(batch.f("ix_trade_seller_account_id"), ["seller_account_id"])
        batch.create_index("ix_trade_status_trade_date", ["status", "trade_date"])
        batch.create_index("ix_trade_unit_kind_trade_date", ["unit_kind", "trade_date"])


def downgrade() -> None:
    exchange_users = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM user_account WHERE role = 'exchange'")
    )
    if exchange_users:
        raise RuntimeError(f"{exchange_users} exchange user(s) exist; the old schema has no role")
    op.drop_table("trade")
    op.drop_table("market_reference_price")
    _set_roles(ROLES_AFTER, ROLES_BEFORE)
