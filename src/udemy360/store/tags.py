"""Tags: 360Learning tag ids for Udemy category titles, and the tags we attached to courses."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from udemy360.store._db import ITEM_TAGS, LOOKUP_CHUNK, TAGS, Database, chunks


def tag_key(name: str) -> str:
    """Return the key tags are matched by: trimmed and case-folded (DESIGN.md, tags row).

    Case-folded, not lower-cased, as 360Learning compares names: "STRASSE" is "Straße".
    """
    return name.strip().casefold()


class Tags:
    """Tag ids by category name, and which tags we attached to which course (``store.tags``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def ids(self, connection_id: str) -> dict[str, str]:
        """Return the known tags as ``tag_key(name) -> 360Learning tag id``."""
        stmt = select(TAGS.c.name_key, TAGS.c.tag_id).where(TAGS.c.connection_id == connection_id)
        with self._db.read() as conn:
            return {r.name_key: r.tag_id for r in conn.execute(stmt)}

    def save(self, connection_id: str, name: str, tag_id: str) -> None:
        """Remember the tag id for a category name (matched case-insensitively).

        Raises:
            StoreDataError: the database refused the name (e.g. a NUL byte on PostgreSQL).
        """
        stmt = self._db.insert(TAGS).values(
            connection_id=connection_id,
            name_key=tag_key(name),
            name=name.strip(),
            tag_id=tag_id,
            created_at=self._db.now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[TAGS.c.connection_id, TAGS.c.name_key],
            set_={"tag_id": stmt.excluded.tag_id},
        )
        with self._db.write("tags.save") as conn:
            conn.execute(stmt)

    def delete(self, connection_id: str, tag_ids: Iterable[str]) -> None:
        """Forget these tag ids (deleted in 360Learning) and our links to them."""
        with self._db.write("tags.delete") as conn:
            for chunk in chunks(dict.fromkeys(tag_ids), LOOKUP_CHUNK):
                conn.execute(
                    delete(TAGS).where(
                        TAGS.c.connection_id == connection_id, TAGS.c.tag_id.in_(chunk)
                    )
                )
                conn.execute(
                    delete(ITEM_TAGS).where(
                        ITEM_TAGS.c.connection_id == connection_id,
                        ITEM_TAGS.c.tag_id.in_(chunk),
                    )
                )

    def attached(self, connection_id: str, external_id: str) -> set[str]:
        """Return the tag ids WE attached to the course (only those may be removed)."""
        stmt = select(ITEM_TAGS.c.tag_id).where(
            ITEM_TAGS.c.connection_id == connection_id, ITEM_TAGS.c.external_id == external_id
        )
        with self._db.read() as conn:
            return set(conn.execute(stmt).scalars())

    def set_attached(self, connection_id: str, external_id: str, tag_ids: Iterable[str]) -> None:
        """Replace the set of tag ids we attached to the course."""
        params = [
            {"connection_id": connection_id, "external_id": external_id, "tag_id": t}
            for t in dict.fromkeys(tag_ids)
        ]
        with self._db.write("tags.set_attached") as conn:
            conn.execute(
                delete(ITEM_TAGS).where(
                    ITEM_TAGS.c.connection_id == connection_id,
                    ITEM_TAGS.c.external_id == external_id,
                )
            )
            if params:
                conn.execute(insert(ITEM_TAGS), params)
