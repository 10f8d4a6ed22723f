"""Retry failed statistics from the store: attempts and next retry time per statistic.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``stats.attempts`` and ``stats.next_retry_at``."""
    with op.batch_alter_table("stats") as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the retry columns."""
    with op.batch_alter_table("stats") as batch:
        batch.drop_column("next_retry_at")
        batch.drop_column("attempts")
