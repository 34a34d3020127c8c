"""Scheduling infrastructure: job-run records, the scheduler lease, the notifications outbox,
and a validity (in years) per unit kind for the ``unit_expiry`` job.

``job_run`` is written when a run starts and finished when it ends (a CHECK ties
``finished_at`` to the outcome). ``scheduler_lease`` elects the one scheduler on SQLite
(PostgreSQL uses an advisory lock instead and leaves the table empty). ``notification`` is
the outbox: a unique ``dedupe_key`` makes enqueueing idempotent.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carbon_market.kernel.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = carbon_market.kernel.types.UTCDateTime


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", ID, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", TS(), nullable=False),
        sa.Column("finished_at", TS(), nullable=True),
        sa.Column("outcome", _enum("run_outcome", "running", "ok", "failed"), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("triggered_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'running') = (finished_at IS NULL)", name=op.f("ck_job_run_finished")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job_started_at", "job_run", ["job", "started_at"])
    op.create_index("ix_job_run_started_at", "job_run", ["started_at"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", TS(), nullable=False),
        sa.Column("expires_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_lease")),
    )
    op.create_table(
        "notification",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("enterprise_id", ID, nullable=True),
        sa.Column("to_regulators", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column(
            "status",
            _enum("delivery_status", "pending", "sent", "failed", "stored"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sent_at", TS(), nullable=True),
        sa.CheckConstraint(
            "enterprise_id IS NOT NULL OR to_regulators",
            name=op.f("ck_notification_has_recipient"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notification_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_notification_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    op.create_index(
        "ix_notification_status_next_attempt_at", "notification", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_notification_enterprise_id_created_at",
        "notification",
        ["enterprise_id", "created_at"],
    )
    # A plain nullable column: SQLite adds it in place (no table rebuild, which the foreign
    # keys of holding and posting would trip). Services check it is positive.
    op.add_column("unit_kind", sa.Column("validity_years", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place; a batch rebuild would trip foreign keys.
    op.drop_column("unit_kind", "validity_years")
    op.drop_index("ix_notification_enterprise_id_created_at", table_name="notification")
    op.drop_index("ix_notification_status_next_attempt_at", table_name="notification")
    op.drop_table("notification")
    op.drop_table("scheduler_lease")
    op.drop_index("ix_job_run_started_at", table_name="job_run")
    op.drop_index("ix_job_run_job_started_at", table_name="job_run")
    op.drop_table("job_run")
