"""Initial schema: connections, items, tags, stats, runs, outcomes, bulk operations, locks.

Unique constraints are part of this first revision (STYLE.md §5.8), so duplicates can never
appear and never need cleaning up.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _connection_fk(table: str) -> sa.Column[str]:
    fk = sa.ForeignKey(
        "connections.id", ondelete="CASCADE", name=f"fk_{table}_connection_id_connections"
    )
    return sa.Column("connection_id", sa.String(64), fk, nullable=False)


def upgrade() -> None:
    """Create every table of the store."""
    op.create_table(
        "connections",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("udemy_account", sa.String(255), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("options_hash", sa.String(64), nullable=True),
        sa.Column("owner_lang", sa.String(16), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _connection_fk("items"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("udemy_id", sa.BigInteger(), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        sa.Column("course_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_retry_at", nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("default_lang", sa.String(16), nullable=True),
        _ts("last_sent_at", nullable=True),
        _ts("seen_at", nullable=True),
        _ts("archived_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint(
            "connection_id", "external_id", name="uq_items_connection_id_external_id"
        ),
        sa.CheckConstraint("state IN ('active', 'archived', 'failed')", name="ck_items_state"),
        sa.CheckConstraint("kind IN ('course', 'learning_path')", name="ck_items_kind"),
    )
    op.create_index("ix_items_connection_id_state", "items", ["connection_id", "state"])
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _connection_fk("tags"),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tag_id", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("connection_id", "name_key", name="uq_tags_connection_id_name_key"),
    )
    op.create_table(
        "item_tags",
        _connection_fk("item_tags"),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("tag_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "external_id", "tag_id", name="pk_item_tags"),
    )
    op.create_table(
        "stats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _connection_fk("stats"),
        sa.Column("external_course_id", sa.String(64), nullable=False),
        sa.Column("learner_mail", sa.String(320), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        _ts("first_activity_at", nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("last_sent_at", nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_stats"),
        sa.UniqueConstraint(
            "connection_id",
            "external_course_id",
            "learner_mail",
            name="uq_stats_connection_id_external_course_id_learner_mail",
        ),
        sa.CheckConstraint(
            "state IN ('sent', 'unmatched', 'failed', 'held')", name="ck_stats_state"
        ),
    )
    op.create_index("ix_stats_connection_id_state", "stats", ["connection_id", "state"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _connection_fk("runs"),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'partial', 'failed', 'aborted', 'refused',"
            " 'locked')",
            name="ck_runs_status",
        ),
    )
    op.create_index("ix_runs_connection_id_job_status", "runs", ["connection_id", "job", "status"])
    op.create_table(
        "item_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("runs.id", ondelete="CASCADE", name="fk_item_outcomes_run_id_runs"),
            nullable=False,
        ),
        _connection_fk("item_outcomes"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("learner_mail", sa.String(320), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_item_outcomes"),
    )
    op.create_index("ix_item_outcomes_run_id_outcome", "item_outcomes", ["run_id", "outcome"])
    op.create_table(
        "bulk_operations",
        sa.Column("op_id", sa.String(128), nullable=False),
        _connection_fk("bulk_operations"),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("op_type", sa.String(32), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("submitted_at"),
        _ts("finished_at", nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name="pk_bulk_operations"),
    )
    op.create_index(
        "ix_bulk_operations_connection_id_status", "bulk_operations", ["connection_id", "status"]
    )
    op.create_table(
        "locks",
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        _ts("acquired_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("connection_id", name="pk_locks"),
    )


def downgrade() -> None:
    """Drop every table of the store."""
    for index, table in (
        ("ix_bulk_operations_connection_id_status", "bulk_operations"),
        ("ix_item_outcomes_run_id_outcome", "item_outcomes"),
        ("ix_runs_connection_id_job_status", "runs"),
        ("ix_stats_connection_id_state", "stats"),
        ("ix_items_connection_id_state", "items"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "locks",
        "bulk_operations",
        "item_outcomes",
        "runs",
        "stats",
        "item_tags",
        "tags",
        "items",
        "connections",
    ):
        op.drop_table(table)
