"""Frozen emission factor sets are refused any change by the database itself.

A set that a submitted report used must stay exactly as the report computed with it. The
service never changes such a set; these triggers make sure nothing else does either: no
UPDATE or DELETE of a frozen set, and no INSERT, UPDATE or DELETE of its factors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTOR_IN_FROZEN_SET = "(SELECT is_frozen FROM emission_factor_set WHERE id = {row}.set_id)"

SQLITE_TRIGGERS = {
    "factor_set_frozen_update": "BEFORE UPDATE ON emission_factor_set WHEN OLD.is_frozen",
    "factor_set_frozen_delete": "BEFORE DELETE ON emission_factor_set WHEN OLD.is_frozen",
    "factor_frozen_insert": "BEFORE INSERT ON emission_factor WHEN "
    + FACTOR_IN_FROZEN_SET.format(row="NEW"),
    "factor_frozen_update": "BEFORE UPDATE ON emission_factor WHEN "
    + FACTOR_IN_FROZEN_SET.format(row="OLD"),
    "factor_frozen_delete": "BEFORE DELETE ON emission_factor WHEN "
    + FACTOR_IN_FROZEN_SET.format(row="OLD"),
}

PG_FUNCTIONS = [
    """CREATE FUNCTION factor_set_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD.is_frozen THEN
           RAISE EXCEPTION 'emission factor set % is frozen', OLD.id
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
       END $$""",
    """CREATE FUNCTION factor_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE set_id bigint := CASE WHEN TG_OP = 'INSERT' THEN NEW.set_id
                                     ELSE OLD.set_id END;
       BEGIN
         IF (SELECT is_frozen FROM emission_factor_set WHERE id = set_id) THEN
           RAISE EXCEPTION 'emission factor set % is frozen', set_id
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
       END $$""",
    """CREATE TRIGGER factor_set_frozen BEFORE UPDATE OR DELETE ON emission_factor_set
       FOR EACH ROW EXECUTE FUNCTION factor_set_frozen_guard()""",
    """CREATE TRIGGER factor_frozen BEFORE INSERT OR UPDATE OR DELETE ON emission_factor
       FOR EACH ROW EXECUTE FUNCTION factor_frozen_guard()""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS:
            op.execute(statement)
        return
    for name, when in SQLITE_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {when} "
            "BEGIN SELECT RAISE(ABORT, 'emission factor set is frozen'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS factor_frozen ON emission_factor")
        op.execute("DROP TRIGGER IF EXISTS factor_set_frozen ON emission_factor_set")
        op.execute("DROP FUNCTION IF EXISTS factor_frozen_guard()")
        op.execute("DROP FUNCTION IF EXISTS factor_set_frozen_guard()")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
