"""Catalog items: what the store knows about each synced course and learning path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Row, and_, bindparam, case, func, literal_column, select, update

from udemy360.domain import ItemKind
from udemy360.store._db import (
    ITEMS,
    LOOKUP_CHUNK,
    WRITE_CHUNK,
    Database,
    aggregate_datetime,
    aware,
    chunks,
)
from udemy360.store.rows import ItemRow, ItemState, ItemUpdate


class Items:
    """Read and record catalog items (``store.items``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, connection_id: str, external_ids: Iterable[str]) -> dict[str, ItemRow]:
        """Return the known items among `external_ids`, keyed by external id."""
        found: dict[str, ItemRow] = {}
        with self._db.read() as conn:
            for chunk in chunks(dict.fromkeys(external_ids), LOOKUP_CHUNK):
                stmt = select(ITEMS).where(
                    ITEMS.c.connection_id == connection_id, ITEMS.c.external_id.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[row.external_id] = _item_row(row)
        return found

    def iter(self, connection_id: str, *, kind: ItemKind | None = None) -> Iterator[ItemRow]:
        """Stream the connection's items, optionally of one kind."""
        clauses = [ITEMS.c.connection_id == connection_id]
        if kind is not None:
            clauses.append(ITEMS.c.kind == kind)
        stmt = select(ITEMS).where(and_(*clauses))
        return (_item_row(r) for r in self._db.page(stmt, ITEMS.c.id))

    def upsert(self, connection_id: str, rows: Iterable[ItemUpdate]) -> None:
        """Record the outcome of sending items, inserting new ones; all or nothing per call.

        See `ItemUpdate` for which fields a None leaves untouched.

        Raises:
            StoreDataError: the database refused a value (e.g. an id beyond 64 bits).
        """
        now = self._db.now()
        stmt = self._db.insert(ITEMS)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[ITEMS.c.connection_id, ITEMS.c.external_id],
            set_={
                "kind": ex.kind,
                "udemy_id": ex.udemy_id,
                "payload_hash": ex.payload_hash,
                "course_id": func.coalesce(ex.course_id, ITEMS.c.course_id),
                "state": ex.state,
                "last_error": ex.last_error,
                "attempts": ex.attempts,
                "next_retry_at": ex.next_retry_at,
                "video_url": func.coalesce(ex.video_url, ITEMS.c.video_url),
                "default_lang": func.coalesce(ex.default_lang, ITEMS.c.default_lang),
                "last_sent_at": func.coalesce(ex.last_sent_at, ITEMS.c.last_sent_at),
                "seen_at": func.coalesce(ex.seen_at, ITEMS.c.seen_at),
                "archived_at": case(
                    (
                        ex.state == literal_column("'archived'"),
                        func.coalesce(ITEMS.c.archived_at, ex.archived_at),
                    ),
                    else_=None,
                ),
                "updated_at": ex.updated_at,
            },
        )
        params = (
            {
                "connection_id": connection_id,
                "kind": u.kind,
                "external_id": u.external_id,
                "udemy_id": u.udemy_id,
                "payload_hash": u.payload_hash,
                "course_id": u.course_id,
                "state": ItemState(u.state).value,
                "last_error": u.last_error,
                "attempts": u.attempts,
                "next_retry_at": u.next_retry_at,
                "video_url": u.video_url,
                "default_lang": u.default_lang,
                "last_sent_at": u.last_sent_at,
                "seen_at": u.seen_at,
                "archived_at": now if u.state == ItemState.ARCHIVED else None,
                "created_at": now,
                "updated_at": now,
            }
            for u in rows
        )
        with self._db.write("items.upsert") as conn:
            self._db.executemany(conn, stmt, params)

    def _update(
        self, connection_id: str, external_ids: Iterable[str], operation: str, **values: object
    ) -> None:
        with self._db.write(operation) as conn:
            for chunk in chunks(dict.fromkeys(external_ids), LOOKUP_CHUNK):
                conn.execute(
                    update(ITEMS)
                    .where(ITEMS.c.connection_id == connection_id, ITEMS.c.external_id.in_(chunk))
                    .values(**values)
                )

    def mark_seen(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were in the latest Udemy listing."""
        self._update(connection_id, external_ids, "items.mark_seen", seen_at=aware(at))

    def max_seen_at(self, connection_id: str) -> datetime | None:
        """Return the latest `seen_at` mark of the connection's items (None when none is set).

        A run marks what it sees with a time strictly after this, so only its own marks can
        count as "seen in this listing", whatever the clocks of earlier runs said.
        """
        stmt = select(func.max(ITEMS.c.seen_at)).where(ITEMS.c.connection_id == connection_id)
        with self._db.read() as conn:
            return aggregate_datetime(conn.execute(stmt).scalar_one_or_none())

    def set_default_langs(self, connection_id: str, langs: Mapping[str, str]) -> None:
        """Store the mapped ``defaultLang`` of existing items (external id → language)."""
        params = [{"ext": ext, "lang": lang} for ext, lang in langs.items()]
        if not params:
            return
        stmt = (
            update(ITEMS)
            .where(
                ITEMS.c.connection_id == connection_id,
                ITEMS.c.external_id == bindparam("ext"),
            )
            .values(default_lang=bindparam("lang"))
        )
        with self._db.write("items.set_default_langs") as conn:
            for chunk in chunks(params, WRITE_CHUNK):
                conn.execute(stmt, chunk)

    def mark_archived(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were archived in 360Learning."""
        self._update(
            connection_id,
            external_ids,
            "items.mark_archived",
            state=ItemState.ARCHIVED.value,
            archived_at=aware(at),
            updated_at=at,
        )

    def mark_restored(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were un-archived in 360Learning and are active again."""
        self._update(
            connection_id,
            external_ids,
            "items.mark_restored",
            state=ItemState.ACTIVE.value,
            archived_at=None,
            updated_at=aware(at),
        )


def _item_row(r: Row[tuple[object, ...]]) -> ItemRow:
    """Build an `ItemRow` from a row of the items table."""
    return ItemRow(
        connection_id=r.connection_id,
        external_id=r.external_id,
        kind=cast(ItemKind, r.kind),
        udemy_id=int(r.udemy_id),
        payload_hash=r.payload_hash,
        course_id=r.course_id,
        state=ItemState(r.state),
        last_error=r.last_error,
        attempts=int(r.attempts),
        next_retry_at=r.next_retry_at,
        video_url=r.video_url,
        default_lang=r.default_lang,
        last_sent_at=r.last_sent_at,
        seen_at=r.seen_at,
        archived_at=r.archived_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
