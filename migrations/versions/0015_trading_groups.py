"""Trading: the regulator's register of enterprise groups (集团), for the ``same_group``
surveillance flag (an enterprise is in at most one group: the member table's primary key
is the enterprise), and one-way bidding (单向竞价) as a third trade kind.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 18:46:29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS_BEFORE = ("listed", "block")
KINDS_AFTER = (*KINDS_BEFORE, "one_way_bidding")


def _kind_check(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _set_kinds(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    """Widen (or narrow) trade.kind's VARCHAR and its CHECK, as 0011 did for user roles."""
    bind = op.get_bind()
    length = max(len(k) for k in after)
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_trade_tradekind"), "trade", type_="check")
        op.alter_column("trade", "kind", type_=sa.String(length), existing_nullable=False)
        op.create_check_constraint(op.f("ck_trade_tradekind"), "trade", _kind_check(after))
        return
    # SQLite: edit the CHECK's IN list (and the declared length, which SQLite does not
    # enforce) in the schema text; every stored row satisfies both lists when widening,
    # the case SQLite documents for writable_schema. Narrowing runs only on a database
    # without one-way bidding trades (the downgrade checks).
    sql = bind.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'trade'")
    )
    old_check, new_check = _kind_check(before), _kind_check(after)
    old_type = f"kind VARCHAR({max(len(k) for k in before)})"
    if sql is None or sql.count(old_check) != 1 or sql.count(old_type) != 1:
        raise RuntimeError(f"trade's kind is not {old_type} with {old_check!r}; edit it by hand")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'trade'"),
        {"sql": sql.replace(old_check, new_check).replace(old_type, f"kind VARCHAR({length})")},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version or 0) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _set_kinds(KINDS_BEFORE, KINDS_AFTER)
    op.create_table(
        "enterprise_group",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("code <> '' AND name <> ''", name=op.f("ck_enterprise_group_named")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_group")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_group_code")),
    )
    op.create_table(
        "enterprise_group_member",
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("added_at", carbon_market.kernel.types.UTCDateTime(), nullable=False),
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
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM trade WHERE kind = 'one_way_bidding'")):
        raise RuntimeError("one-way bidding trades are recorded: they have no kind before 0012")
    _set_kinds(KINDS_AFTER, KINDS_BEFORE)
    op.drop_index(op.f("ix_enterprise_group_member_group_id"), "enterprise_group_member")
    op.drop_table("enterprise_group_member")
    op.drop_table("enterprise_group")
