"""Learner directory and aliases, unmatched statistics kept to resend, interrupted runs.

- ``learners``: the 360Learning users of the connection's platform (mail → user id, status);
- ``learner_aliases``: per-connection mail aliases and domain rewrites;
- ``stats.unmatched_since``: when a statistic became unmatched (its learner unknown);
- ``runs.status`` may be ``interrupted``: a run whose process died or lost its lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-04-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("running", "succeeded", "partial", "failed", "aborted", "refused", "locked")


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _connection_fk(table: str) -> sa.Column[str]:
    fk = sa.ForeignKey(
        "connections.id", ondelete="CASCADE", name=f"fk_{table}_connection_id_connections"
    )
    return sa.Column("connection_id", sa.String(64), fk, nullable=False)


def upgrade() -> None:
    """Create the learner tables, add ``stats.unmatched_since``, allow ``interrupted`` runs."""
    op.create_table(
        "learners",
        _connection_fk("learners"),
        sa.Column("mail", sa.String(320), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "mail", name="pk_learners"),
    )
    op.create_index("ix_learners_connection_id_user_id", "learners", ["connection_id", "user_id"])
    op.create_table(
        "learner_aliases",
        _connection_fk("learner_aliases"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(320), nullable=False),
        sa.Column("target", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "kind", "source", name="pk_learner_aliases"),
        sa.CheckConstraint("kind IN ('mail', 'domain')", name="ck_learner_aliases_kind"),
    )
    with op.batch_alter_table("stats") as batch:
        batch.add_column(sa.Column("unmatched_since", sa.DateTime(timezone=True), nullable=True))
    # rows unmatched before this revision have no payload to resend: their first sighting is
    # at best their creation
    op.execute("UPDATE stats SET unmatched_since = created_at WHERE state = 'unmatched'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("ck_runs_status", type_="check")
        batch.create_check_constraint(
            "ck_runs_status", sa.text(_status_check((*_STATUSES, "interrupted")))
        )


def downgrade() -> None:
    """Drop what `upgrade` added; interrupted runs become aborted."""
    op.execute("UPDATE runs SET status = 'aborted' WHERE status = 'interrupted'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("ck_runs_status", type_="check")
        batch.create_check_constraint("ck_runs_status", sa.text(_status_check(_STATUSES)))
    with op.batch_alter_table("stats") as batch:
        batch.drop_column("unmatched_since")
    op.drop_table("learner_aliases")
    op.drop_index("ix_learners_connection_id_user_id", table_name="learners")
    op.drop_table("learners")
