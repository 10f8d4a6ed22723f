"""Statistics: the last statistic built for each (course, learner) pair, and what waits to be sent.

Held, unmatched and failed rows keep their mapped payload, so they are sent from the store
(once their course arrives, their learner appears, or their retry time has come) without
pulling Udemy's activity again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.selectable import Join

from udemy360.store._db import (
    ITEMS,
    LOOKUP_CHUNK,
    STATS,
    Database,
    aggregate_datetime,
    aware,
    chunks,
)
from udemy360.store.rows import (
    ItemState,
    StatRow,
    StatState,
    StatUpdate,
    UnmatchedLearner,
    UnmatchedSummary,
)

_UNMATCHED = StatState.UNMATCHED.value


class Stats:
    """Read and record learner statistics (``store.stats``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(
        self, connection_id: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], StatRow]:
        """Return the known statistics among `keys` ((external course id, learner mail))."""
        found: dict[tuple[str, str], StatRow] = {}
        with self._db.read() as conn:
            for chunk in chunks(dict.fromkeys(keys), LOOKUP_CHUNK):
                for row in conn.execute(*_lookup(conn, connection_id, chunk)):
                    stat = _stat_row(row)
                    found[stat.key] = stat
        return found

    def upsert(self, connection_id: str, rows: Iterable[StatUpdate]) -> None:
        """Record built or sent statistics; all or nothing per call.

        See `StatUpdate`: `completed` never goes back to False, None leaves
        `first_activity_at` and `last_sent_at` as stored, and `unmatched_since` is kept while
        a row stays unmatched and cleared once it is not.

        Raises:
            StoreDataError: the database refused a value (e.g. a NUL byte on PostgreSQL).
        """
        now = self._db.now()
        stmt = self._db.insert(STATS)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                STATS.c.connection_id,
                STATS.c.external_course_id,
                STATS.c.learner_mail,
            ],
            set_={
                "payload_hash": ex.payload_hash,
                "first_activity_at": func.coalesce(ex.first_activity_at, STATS.c.first_activity_at),
                # completion is final (DESIGN.md, Activity → statistic)
                "completed": or_(STATS.c.completed, ex.completed),
                "state": ex.state,
                "last_error": ex.last_error,
                "last_sent_at": func.coalesce(ex.last_sent_at, STATS.c.last_sent_at),
                "run_id": ex.run_id,
                "payload": ex.payload,
                "attempts": ex.attempts,
                "next_retry_at": ex.next_retry_at,
                "unmatched_since": case(
                    (
                        ex.state == literal_column(f"'{_UNMATCHED}'"),
                        func.coalesce(STATS.c.unmatched_since, ex.unmatched_since),
                    ),
                    else_=None,
                ),
                "updated_at": ex.updated_at,
            },
        )
        params = (
            {
                "connection_id": connection_id,
                "external_course_id": s.external_course_id,
                "learner_mail": s.learner_mail,
                "payload_hash": s.payload_hash,
                "first_activity_at": s.first_activity_at,
                "completed": s.completed,
                "state": StatState(s.state).value,
                "last_error": s.last_error,
                "last_sent_at": s.last_sent_at,
                "run_id": s.run_id,
                "payload": dict(s.payload) if s.payload is not None else None,
                "attempts": s.attempts,
                "next_retry_at": s.next_retry_at,
                "unmatched_since": now if s.state == StatState.UNMATCHED else None,
                "created_at": now,
                "updated_at": now,
            }
            for s in rows
        )
        with self._db.write("stats.upsert") as conn:
            self._db.executemany(conn, stmt, params)

    def iter_resendable(
        self, connection_id: str, now: datetime, *, max_attempts: int
    ) -> Iterator[tuple[StatRow, str | None]]:
        """Stream the statistics to send from the store, with their course's defaultLang.

        These are the held rows plus the failed rows that kept their payload, were tried fewer
        than `max_attempts` times and whose `next_retry_at` has come. Only rows whose course
        is synced and active are returned. Unmatched rows are not: they wait for their
        learner, whom the engine looks up in the learner directory (`iter_unmatched`).
        """
        resend = or_(
            STATS.c.state == StatState.HELD.value,
            and_(
                STATS.c.state == StatState.FAILED.value,
                STATS.c.payload.is_not(None),
                STATS.c.attempts < max_attempts,
                or_(STATS.c.next_retry_at.is_(None), STATS.c.next_retry_at <= aware(now)),
            ),
        )
        stmt = (
            select(*STATS.c, ITEMS.c.default_lang.label("item_default_lang"))
            .select_from(_with_course())
            .where(STATS.c.connection_id == connection_id, resend, *_active_course())
        )
        return ((_stat_row(r), r.item_default_lang) for r in self._db.page(stmt, STATS.c.id))

    def expire_held(self, connection_id: str, message: str, now: datetime) -> int:
        """Mark failed the held rows without a payload whose course is synced and active.

        Such rows (held by older versions) can only be rebuilt from a full activity pull; once
        one ran and did not find them, they are expired so they stop forcing full pulls.
        Returns how many rows were expired.
        """
        active_ids = select(ITEMS.c.external_id).where(
            ITEMS.c.connection_id == connection_id, *_active_course()
        )
        stmt = (
            update(STATS)
            .where(
                STATS.c.connection_id == connection_id,
                STATS.c.state == StatState.HELD.value,
                STATS.c.payload.is_(None),
                STATS.c.external_course_id.in_(active_ids),
            )
            .values(state=StatState.FAILED.value, last_error=message, updated_at=aware(now))
        )
        with self._db.write("stats.expire_held") as conn:
            return int(conn.execute(stmt).rowcount)

    def iter_unmatched(self, connection_id: str) -> Iterator[StatRow]:
        """Stream the unmatched rows (their learner unknown to 360Learning), with payloads.

        The engine sends those whose learner the directory now knows. A row recorded
        unmatched by an older version has no payload; only a pull of its activity rebuilds it.
        """
        stmt = select(STATS).where(
            STATS.c.connection_id == connection_id, STATS.c.state == _UNMATCHED
        )
        return (_stat_row(r) for r in self._db.page(stmt, STATS.c.id))

    def unmatched_learners(self, connection_id: str, *, limit: int = 100) -> list[UnmatchedLearner]:
        """Return the learners with unmatched rows, most courses first, then by mail.

        Each comes with the courses waiting for them, since when (the oldest row's
        `unmatched_since`) and the error of their most recently updated row.
        """
        first_seen = func.min(func.coalesce(STATS.c.unmatched_since, STATS.c.created_at))
        courses = func.count()
        unmatched = and_(STATS.c.connection_id == connection_id, STATS.c.state == _UNMATCHED)
        stmt = (
            select(STATS.c.learner_mail, courses.label("courses"), first_seen.label("first_seen"))
            .where(unmatched)
            .group_by(STATS.c.learner_mail)
            .order_by(courses.desc(), STATS.c.learner_mail)
            .limit(limit)
        )
        with self._db.read() as conn:
            learners = conn.execute(stmt).all()
            mails = [r.learner_mail for r in learners]
            details = [
                d
                for chunk in chunks(mails, LOOKUP_CHUNK)
                for d in conn.execute(
                    select(
                        STATS.c.learner_mail,
                        STATS.c.external_course_id,
                        STATS.c.last_error,
                        STATS.c.updated_at,
                        STATS.c.id,
                    )
                    .where(unmatched, STATS.c.learner_mail.in_(chunk))
                    .order_by(STATS.c.learner_mail, STATS.c.external_course_id)
                )
            ]
        course_ids: dict[str, list[str]] = {mail: [] for mail in mails}
        latest: dict[str, tuple[datetime, int, str | None]] = {}
        for d in details:
            course_ids[d.learner_mail].append(d.external_course_id)
            candidate = (d.updated_at, d.id, d.last_error)
            if d.learner_mail not in latest or candidate[:2] > latest[d.learner_mail][:2]:
                latest[d.learner_mail] = candidate
        return [
            UnmatchedLearner(
                mail=r.learner_mail,
                courses=int(r.courses),
                course_ids=tuple(course_ids[r.learner_mail]),
                # never None: created_at is never NULL
                first_seen=cast(datetime, aggregate_datetime(r.first_seen)),
                last_error=latest[r.learner_mail][2] if r.learner_mail in latest else None,
            )
            for r in learners
        ]

    def unmatched_summary(self, connection_id: str) -> UnmatchedSummary:
        """Count the unmatched rows, their learners and courses, and the oldest one's time."""
        stmt = select(
            func.count(),
            func.count(STATS.c.learner_mail.distinct()),
            func.count(STATS.c.external_course_id.distinct()),
            func.min(func.coalesce(STATS.c.unmatched_since, STATS.c.created_at)),
        ).where(STATS.c.connection_id == connection_id, STATS.c.state == _UNMATCHED)
        with self._db.read() as conn:
            rows, learners, courses, since = conn.execute(stmt).one()
        return UnmatchedSummary(
            rows=int(rows),
            learners=int(learners),
            courses=int(courses),
            first_seen=aggregate_datetime(since),
        )


def _with_course() -> Join:
    return STATS.join(
        ITEMS,
        and_(
            ITEMS.c.connection_id == STATS.c.connection_id,
            ITEMS.c.external_id == STATS.c.external_course_id,
        ),
    )


def _active_course() -> tuple[ColumnElement[bool], ...]:
    return (
        ITEMS.c.kind == "course",
        ITEMS.c.course_id.is_not(None),
        ITEMS.c.state != ItemState.ARCHIVED.value,
        ITEMS.c.archived_at.is_(None),
    )


def _lookup(
    conn: Connection, connection_id: str, keys: list[tuple[str, str]]
) -> tuple[Executable, Mapping[str, object]]:
    """Build a query that seeks the unique index once per key.

    `(a, b) IN (…)` is the obvious spelling, but SQLite answers it by scanning every row of
    the connection, and SQLAlchemy's `values()` costs ~0.2 ms per row to compile. So:
    PostgreSQL joins two arrays (two parameters whatever the chunk size); SQLite joins a
    VALUES list written as driver SQL, then the matching ids are read back typed.
    """
    columns = ", ".join(f"stats.{c.name}" for c in STATS.c)
    if conn.dialect.name == "postgresql":
        sql = text(
            f"SELECT {columns} FROM unnest(CAST(:courses AS text[]), CAST(:mails AS text[]))"
            " AS wanted(course, mail) JOIN stats ON stats.connection_id = :connection_id"
            " AND stats.external_course_id = wanted.course"
            " AND stats.learner_mail = wanted.mail"
        ).columns(*STATS.c)
        courses, mails = zip(*keys, strict=True)
        return sql, {
            "courses": list(courses),
            "mails": list(mails),
            "connection_id": connection_id,
        }
    pairs = ", ".join(["(?, ?)"] * len(keys))
    ids = conn.exec_driver_sql(
        f"WITH wanted(course, mail) AS (VALUES {pairs}) SELECT stats.id FROM wanted"
        " JOIN stats ON stats.connection_id = ? AND stats.external_course_id = wanted.course"
        " AND stats.learner_mail = wanted.mail",
        (*(v for pair in keys for v in pair), connection_id),
    )
    return select(STATS).where(STATS.c.id.in_(ids.scalars().all())), {}


def _stat_row(r: Row[tuple[object, ...]]) -> StatRow:
    return StatRow(
        connection_id=r.connection_id,
        external_course_id=r.external_course_id,
        learner_mail=r.learner_mail,
        payload_hash=r.payload_hash,
        first_activity_at=r.first_activity_at,
        completed=bool(r.completed),
        state=StatState(r.state),
        last_error=r.last_error,
        last_sent_at=r.last_sent_at,
        run_id=r.run_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
        payload=dict(r.payload) if r.payload is not None else None,
        attempts=int(r.attempts or 0),
        next_retry_at=r.next_retry_at,
        unmatched_since=r.unmatched_since,
    )
