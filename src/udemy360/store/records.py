"""SQLAlchemy 2 typed ORM records: the tables of the state store.

Every table is scoped by ``connection_id``. Unique constraints are declared here and in the
migration that creates their table (STYLE.md §5.8): integrity is never repaired after the fact.
The migrations in ``migrations/versions`` must create exactly this metadata; a test compares
the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zone type and hands back naive values; PostgreSQL hands back values in
    the session's zone. Both are normalised to UTC here, and naive inputs are refused so a local
    time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC before writing; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend gave back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _states(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


ITEM_STATE_CHECK = _states("state", ("active", "archived", "failed"))
ITEM_KIND_CHECK = _states("kind", ("course", "learning_path"))
STAT_STATE_CHECK = _states("state", ("sent", "unmatched", "failed", "held"))
RUN_STATUS_CHECK = _states(
    "status",
    ("running", "succeeded", "partial", "failed", "aborted", "refused", "locked", "interrupted"),
)
ALIAS_KIND_CHECK = _states("kind", ("mail", "domain"))


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names are stable everywhere."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[object, object]] = {
        datetime: UTCDateTime(),
        dict[str, object]: JSON,
    }


class ConnectionRecord(Base):
    """One Udemy account → one 360Learning integration; every other row belongs to one."""

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    udemy_account: Mapped[str] = mapped_column(String(255))
    group_id: Mapped[str] = mapped_column(String(64))
    integration_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # hash of the options that change mapped output (DESIGN.md "Catalog rules")
    options_hash: Mapped[str | None] = mapped_column(String(64))
    # the owner's language, read at the start of each catalog run (DESIGN.md, defaultLang)
    owner_lang: Mapped[str | None] = mapped_column(String(16))
    # non-secret per-connection settings (toggles, schedule); secrets never go here
    settings: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ItemRecord(Base):
    """A Udemy course or learning path synced as a 360Learning external course."""

    __tablename__ = "items"
    __table_args__ = (
        # externalId is unique per integration whatever the kind: paths use "lp-{id}"
        UniqueConstraint("connection_id", "external_id"),
        Index("ix_items_connection_id_state", "connection_id", "state"),
        CheckConstraint(ITEM_STATE_CHECK, name="state"),
        CheckConstraint(ITEM_KIND_CHECK, name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    udemy_id: Mapped[int] = mapped_column(BigInteger)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    course_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None]
    # kept though v2 has no video field; signed query strings stripped (DESIGN.md, promo_video_url)
    video_url: Mapped[str | None] = mapped_column(Text)
    # the mapped defaultLang, so a statistics run sends `lang` without reading the course back
    default_lang: Mapped[str | None] = mapped_column(String(16))
    last_sent_at: Mapped[datetime | None]
    seen_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TagRecord(Base):
    """A 360Learning tag id, found or created for a Udemy category title."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("connection_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    # tags match case-insensitively (DESIGN.md, tags row); the first spelling is kept in `name`
    name_key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    tag_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ItemTagRecord(Base):
    """A tag WE attached to a course: only those may ever be removed from it."""

    __tablename__ = "item_tags"

    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class StatRecord(Base):
    """The last statistic built for one (course, learner) pair of a connection."""

    __tablename__ = "stats"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_course_id", "learner_mail"),
        Index("ix_stats_connection_id_state", "connection_id", "state"),
        CheckConstraint(STAT_STATE_CHECK, name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    external_course_id: Mapped[str] = mapped_column(String(64))
    learner_mail: Mapped[str] = mapped_column(String(320))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    first_activity_at: Mapped[datetime | None]
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_sent_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(Integer)
    # held, unmatched and failed rows only: the mapped statistic, sent from here once its
    # course arrives (held), its learner appears (unmatched) or its retry time has come
    # (failed); cleared once 360Learning accepts it
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    # failed rows: sends tried so far and when the store may resend it (backoff)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_retry_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # unmatched rows: when the row became unmatched (kept while it stays so)
    unmatched_since: Mapped[datetime | None]


class RunRecord(Base):
    """One run of a job: timing, status, counts and calls per endpoint."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_connection_id_job_status", "connection_id", "job", "status"),
        CheckConstraint(RUN_STATUS_CHECK, name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    job: Mapped[str] = mapped_column(String(32))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    full: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    counts: Mapped[dict[str, object]] = mapped_column(JSON)
    calls: Mapped[dict[str, object]] = mapped_column(JSON)
    errors: Mapped[list[str]] = mapped_column(JSON)
    report: Mapped[dict[str, object]] = mapped_column(JSON)


class ItemOutcomeRecord(Base):
    """A per-item outcome of a run (an error, an unmatched learner, a skipped row)."""

    __tablename__ = "item_outcomes"
    __table_args__ = (Index("ix_item_outcomes_run_id_outcome", "run_id", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"))
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    learner_mail: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class BulkOperationRecord(Base):
    """A submitted bulk operation, persisted before waiting so a crashed run resumes by polling."""

    __tablename__ = "bulk_operations"
    __table_args__ = (Index("ix_bulk_operations_connection_id_status", "connection_id", "status"),)

    op_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE")
    )
    run_id: Mapped[int | None] = mapped_column(Integer)
    op_type: Mapped[str] = mapped_column(String(32))
    item_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    context: Mapped[dict[str, object]] = mapped_column(JSON)


class LearnerRecord(Base):
    """A 360Learning user of the connection's platform: mail → user id and status."""

    __tablename__ = "learners"
    __table_args__ = (Index("ix_learners_connection_id_user_id", "connection_id", "user_id"),)

    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    # trimmed and lower-cased, as Udemy emails are (DESIGN.md, `user_email` row)
    mail: Mapped[str] = mapped_column(String(320), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    # "active", "invited" or "deleted" (core-api.openapi.json, UserDTO); no CHECK, so a new
    # status from 360Learning is stored rather than refused
    status: Mapped[str] = mapped_column(String(16))
    # when a refresh of the directory last read this user
    seen_at: Mapped[datetime]


class LearnerAliasRecord(Base):
    """A per-connection rule matching a Udemy learner to a 360Learning user by mail or domain."""

    __tablename__ = "learner_aliases"
    __table_args__ = (CheckConstraint(ALIAS_KIND_CHECK, name="kind"),)

    connection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # trimmed and lower-case; a domain without its "@"
    source: Mapped[str] = mapped_column(String(320), primary_key=True)
    target: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class LockRecord(Base):
    """The lease that keeps two runs of one connection from overlapping."""

    __tablename__ = "locks"

    # no foreign key: a lease may be taken before the connection row exists
    connection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    token: Mapped[str] = mapped_column(String(64))
    # where the holder runs: a lease of a dead process on this host is taken over at once
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


__all__ = [
    "Base",
    "BulkOperationRecord",
    "ConnectionRecord",
    "ItemOutcomeRecord",
    "ItemRecord",
    "ItemTagRecord",
    "LearnerAliasRecord",
    "LearnerRecord",
    "LockRecord",
    "RunRecord",
    "StatRecord",
    "TagRecord",
    "UTCDateTime",
]
