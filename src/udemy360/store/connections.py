"""Connections: one Udemy account linked to one 360Learning integration.

Every other row of the store belongs to a connection; create it with `Connections.ensure`
before writing anything else for it.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping

from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.engine import Connection

from udemy360.store._db import BULK_OPS, CONNECTIONS, ITEM_TAGS, ITEMS, STATS, Database
from udemy360.store.errors import UnknownConnection
from udemy360.store.rows import BULK_OP_PENDING, ConnectionRow, ItemState, StatState

log = logging.getLogger(__name__)


class Connections:
    """Create, read and change connections (``store.connections``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def ensure(self, connection_id: str, *, udemy_account: str, group_id: str) -> ConnectionRow:
        """Create the connection if missing, else update its account and group; return it."""
        now = self._db.now()
        stmt = self._db.insert(CONNECTIONS).values(
            id=connection_id,
            udemy_account=udemy_account,
            group_id=group_id,
            integration_id=None,
            active=True,
            options_hash=None,
            owner_lang=None,
            settings={},
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[CONNECTIONS.c.id],
            set_={"udemy_account": udemy_account, "group_id": group_id, "updated_at": now},
            where=or_(
                CONNECTIONS.c.udemy_account != udemy_account, CONNECTIONS.c.group_id != group_id
            ),
        )
        with self._db.write("connections.ensure") as conn:
            conn.execute(stmt)
            row = conn.execute(select(CONNECTIONS).where(CONNECTIONS.c.id == connection_id)).one()
            return _connection_row(row)

    def get(self, connection_id: str) -> ConnectionRow | None:
        """Return the connection, or None when there is none with that id."""
        with self._db.read() as conn:
            row = conn.execute(
                select(CONNECTIONS).where(CONNECTIONS.c.id == connection_id)
            ).one_or_none()
        return None if row is None else _connection_row(row)

    def list(self, *, active: bool | None = None) -> builtins.list[ConnectionRow]:
        """Return every connection (only active or inactive ones when `active` is given)."""
        stmt = select(CONNECTIONS).order_by(CONNECTIONS.c.id)
        if active is not None:
            stmt = stmt.where(CONNECTIONS.c.active == active)
        with self._db.read() as conn:
            return [_connection_row(r) for r in conn.execute(stmt)]

    def set_integration(self, connection_id: str, integration_id: str | None) -> None:
        """Remember the 360Learning integration the connection syncs into.

        When the id changes (a new integration, or none after a deletion), what the store
        knows of the old integration is forgotten in the same transaction: otherwise every
        course would look unchanged and never reach the new integration. Items keep their
        Udemy identity but lose their payload hash, course id, state and retry bookkeeping, so
        the next catalog run creates them all again. Statistics become ``held`` with no
        payload, hash, ``firstActivityAt`` or completion: once their course exists again, the
        statistics run pulls the whole activity report and sends them anew. Links to the tags
        we put on courses are dropped (the tag ids themselves belong to the platform and
        stay), and pending bulk operations are abandoned.
        """
        with self._db.write("connections.set_integration") as conn:
            current = conn.execute(
                select(CONNECTIONS.c.integration_id).where(CONNECTIONS.c.id == connection_id)
            ).one_or_none()
            if current is None:
                raise UnknownConnection(connection_id)
            if current.integration_id == integration_id:
                return
            conn.execute(
                update(CONNECTIONS)
                .where(CONNECTIONS.c.id == connection_id)
                .values(integration_id=integration_id, updated_at=self._db.now())
            )
            if current.integration_id is not None:
                self._reset_remote_state(conn, connection_id)
            log.info(
                "integration changed: connection=%s old=%s new=%s",
                connection_id,
                current.integration_id,
                integration_id,
            )

    def _reset_remote_state(self, conn: Connection, connection_id: str) -> None:
        now = self._db.now()
        conn.execute(
            update(ITEMS)
            .where(ITEMS.c.connection_id == connection_id)
            .values(
                payload_hash=None,
                course_id=None,
                state=ItemState.ACTIVE.value,
                last_error=None,
                attempts=0,
                next_retry_at=None,
                last_sent_at=None,
                archived_at=None,
                updated_at=now,
            )
        )
        conn.execute(
            update(STATS)
            .where(STATS.c.connection_id == connection_id)
            .values(
                payload_hash=None,
                first_activity_at=None,
                completed=False,
                state=StatState.HELD.value,
                last_error=None,
                last_sent_at=None,
                payload=None,
                attempts=0,
                next_retry_at=None,
                unmatched_since=None,
                updated_at=now,
            )
        )
        conn.execute(delete(ITEM_TAGS).where(ITEM_TAGS.c.connection_id == connection_id))
        conn.execute(
            update(BULK_OPS)
            .where(BULK_OPS.c.connection_id == connection_id, BULK_OPS.c.status == BULK_OP_PENDING)
            .values(status="abandoned", finished_at=now, context={})
        )

    def set_active(self, connection_id: str, active: bool) -> None:
        """Activate or deactivate a connection; scheduled syncs skip inactive ones."""
        self._update(connection_id, "connections.set_active", active=active)

    def set_settings(self, connection_id: str, settings: Mapping[str, object]) -> None:
        """Replace the connection's non-secret settings (JSON-serialisable values only).

        The web admin keeps per-connection toggles and schedules here; secrets never go here.
        """
        self._update(connection_id, "connections.set_settings", settings=dict(settings))

    def _update(self, connection_id: str, operation: str, **values: object) -> None:
        stmt = (
            update(CONNECTIONS)
            .where(CONNECTIONS.c.id == connection_id)
            .values(updated_at=self._db.now(), **values)
        )
        with self._db.write(operation) as conn:
            if conn.execute(stmt).rowcount != 1:
                raise UnknownConnection(connection_id)


def _connection_row(r: Row[tuple[object, ...]]) -> ConnectionRow:
    return ConnectionRow(
        connection_id=r.id,
        udemy_account=r.udemy_account,
        group_id=r.group_id,
        integration_id=r.integration_id,
        active=bool(r.active),
        options_hash=r.options_hash,
        owner_lang=r.owner_lang,
        settings=dict(r.settings or {}),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
