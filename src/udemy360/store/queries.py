"""The store's API: every read and write the engine, CLI and web UI make.

Calls are synchronous, short and batched: lookups go in chunks of at most 500 keys, bulk
writes are executemany-style ``INSERT … ON CONFLICT DO UPDATE`` statements, and each call runs
in one transaction, so a crash never leaves half a batch behind. ``iter_*`` methods page by
primary key (keyset pagination) and hold no connection between pages, so a slow consumer in
async code never pins a database connection or a SQLite read snapshot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import ColumnClause, Executable
from sqlalchemy.sql.selectable import Join

from udemy360.domain import ItemKind, Now, utcnow
from udemy360.store import db
from udemy360.store.errors import UnknownConnection
from udemy360.store.lock import Lease, acquire
from udemy360.store.records import (
    BulkOperationRecord,
    ConnectionRecord,
    ItemOutcomeRecord,
    ItemRecord,
    ItemTagRecord,
    RunRecord,
    StatRecord,
    TagRecord,
)
from udemy360.store.rows import (
    BULK_OP_PENDING,
    SUCCESSFUL_RUN_STATUSES,
    BulkOpRow,
    ConnectionRow,
    ItemOutcome,
    ItemOutcomeRow,
    ItemRow,
    ItemState,
    ItemUpdate,
    RunRow,
    RunStatus,
    StatRow,
    StatState,
    StatUpdate,
)

log = logging.getLogger(__name__)

LOOKUP_CHUNK = 500
"""Most keys in one ``IN (…)`` list: far below every backend's bound-parameter limit."""
WRITE_CHUNK = 2_000
"""Rows handed to one executemany call; bounds memory when a caller passes a generator."""
PAGE_SIZE = 1_000
"""Rows fetched per page by the ``iter_*`` methods."""

_T = TypeVar("_T")

_connections = cast(Table, ConnectionRecord.__table__)
_items = cast(Table, ItemRecord.__table__)
_tags = cast(Table, TagRecord.__table__)
_item_tags = cast(Table, ItemTagRecord.__table__)
_stats = cast(Table, StatRecord.__table__)
_runs = cast(Table, RunRecord.__table__)
_outcomes = cast(Table, ItemOutcomeRecord.__table__)
_bulk_ops = cast(Table, BulkOperationRecord.__table__)


def tag_key(name: str) -> str:
    """Return the key tags are matched by: trimmed and lower-cased (DESIGN.md, tags row)."""
    return name.strip().lower()


def _chunks(values: Iterable[_T], size: int) -> Iterator[list[_T]]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _db_value(value: object, sqlite_dates: bool) -> object:
    """Convert a datetime as `UTCDateTime` would, for rows sent straight to the driver.

    A mapping (a JSON column) goes as its JSON text: SQLite stores JSON as text, and psycopg
    sends a ``str`` untyped, so PostgreSQL casts it to ``json``.
    """
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    if not isinstance(value, datetime):
        return value
    utc = _aware(value).astimezone(UTC)
    if not sqlite_dates:
        return utc
    # the exact text SQLAlchemy's SQLite DATETIME writes, so reads and comparisons agree
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
    return value


class Store:
    """The connector's state: catalog items, tags, statistics, runs, bulk operations, leases.

    Build it with `Store.open(url)`, which creates the database if needed and applies the
    migrations. Every row belongs to a connection; create it with `ensure_connection` before
    writing anything else for it.
    """

    def __init__(self, engine: Engine, *, clock: Now = utcnow) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        self._engine = engine
        self._clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls, url: str, *, echo: bool = False, clock: Now | None = None, migrate: bool = True
    ) -> Store:
        """Open (and create, and migrate) the database at `url`.

        Args:
            url: ``sqlite:///path.db`` (the parent directory is created), ``sqlite://`` for an
                in-memory database, or ``postgresql+psycopg://user@host/db`` (a bare
                ``postgresql://`` also selects psycopg 3).
            echo: log every SQL statement (SQLAlchemy's ``echo``).
            clock: the time source for leases and row timestamps; tests inject a fake one.
            migrate: apply pending migrations (the default); only tests turn it off.
        """
        engine = db.create_store_engine(url, echo=echo)
        try:
            if migrate:
                db.upgrade(engine)
            return cls(engine, clock=clock or utcnow)
        except BaseException:
            engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for queries this class does not offer (migrations, tests)."""
        return self._engine

    @property
    def supports_threads(self) -> bool:
        """Whether calls may run in worker threads while others run elsewhere.

        True for SQLite files and PostgreSQL (a pool of connections, one per thread). An
        in-memory SQLite store has a single shared connection, so it must stay on one thread.
        """
        return not isinstance(self._engine.pool, StaticPool)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield an ORM session that commits on success and rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    def _now(self) -> datetime:
        return _aware(self._clock())

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # ON CONFLICT is dialect-specific in SQLAlchemy; both dialects spell it the same way
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _executemany(
        self, conn: Connection, stmt: Insert, params: Iterable[Mapping[str, object]]
    ) -> None:
        """Run `stmt` once per row with the DB-API's own executemany, in chunks.

        SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself
        (10,000 rows: ~0.4 s against ~0.1 s), so the statement is compiled once and rows go
        to the driver as plain values. The only type needing care is datetime; see `_db_value`.
        """
        compiled = None
        sqlite_dates = conn.dialect.name == "sqlite"
        # a batch repeats the same few datetimes (the run's "now"): convert each once
        converted: dict[datetime, object] = {}

        def db_value(value: object) -> object:
            if isinstance(value, Mapping):
                return _db_value(value, sqlite_dates)
            if not isinstance(value, datetime):
                return value
            if value not in converted:
                converted[value] = _db_value(value, sqlite_dates)
            return converted[value]

        for chunk in _chunks(params, WRITE_CHUNK):
            if compiled is None:
                compiled = stmt.compile(dialect=conn.dialect, column_keys=list(chunk[0]))
                sql = str(compiled)
                order = compiled.positiontup
            if order is not None:
                rows: list[object] = [
                    tuple([db_value(row[name]) for name in order]) for row in chunk
                ]
            else:
                rows = [{k: db_value(v) for k, v in row.items()} for row in chunk]
            conn.exec_driver_sql(sql, rows)

    def _page(
        self, stmt: Select[tuple[object, ...]], id_column: ColumnClause[int] | ColumnElement[int]
    ) -> Iterator[Row[tuple[object, ...]]]:
        last_id = 0
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    stmt.where(id_column > last_id).order_by(id_column).limit(PAGE_SIZE)
                ).all()
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            last_id = cast(int, rows[-1].id)

    # -- connections -------------------------------------------------------------------------

    def ensure_connection(
        self, connection_id: str, *, udemy_account: str, group_id: str
    ) -> ConnectionRow:
        """Create the connection if missing, else update its account and group; return it."""
        now = self._now()
        stmt = self._insert(_connections).values(
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
            index_elements=[_connections.c.id],
            set_={"udemy_account": udemy_account, "group_id": group_id, "updated_at": now},
            where=or_(
                _connections.c.udemy_account != udemy_account, _connections.c.group_id != group_id
            ),
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)
            return self._connection(conn, connection_id)

    def get_connection(self, connection_id: str) -> ConnectionRow | None:
        """Return the connection, or None when there is none with that id."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_connections).where(_connections.c.id == connection_id)
            ).one_or_none()
        return None if row is None else _connection_row(row)

    def list_connections(self, *, active: bool | None = None) -> list[ConnectionRow]:
        """Return every connection (only active or inactive ones when `active` is given)."""
        stmt = select(_connections).order_by(_connections.c.id)
        if active is not None:
            stmt = stmt.where(_connections.c.active == active)
        with self._engine.connect() as conn:
            return [_connection_row(r) for r in conn.execute(stmt)]

    def set_integration(self, connection_id: str, integration_id: str | None) -> None:
        """Remember the 360Learning integration the connection syncs into.

        When the id changes (a new integration, or none after a deletion), what the store
        knows of the old integration is forgotten in the same transaction, as by
        `reset_remote_state`: otherwise every course would look unchanged and never reach the
        new integration.
        """
        with self._engine.begin() as conn:
            current = conn.execute(
                select(_connections.c.integration_id).where(_connections.c.id == connection_id)
            ).one_or_none()
            if current is None:
                raise UnknownConnection(connection_id)
            if current.integration_id == integration_id:
                return
            conn.execute(
                update(_connections)
                .where(_connections.c.id == connection_id)
                .values(integration_id=integration_id, updated_at=self._now())
            )
            if current.integration_id is not None:
                self._reset_remote_state(conn, connection_id)
            log.info(
                "integration changed: connection=%s old=%s new=%s",
                connection_id,
                current.integration_id,
                integration_id,
            )

    def reset_remote_state(self, connection_id: str) -> None:
        """Forget everything the store knows of the connection's 360Learning side, atomically.

        Items keep their Udemy identity but lose their payload hash, course id, state and
        retry bookkeeping, so the next catalog run creates them all again. Statistics become
        ``held`` with no payload, hash, ``firstActivityAt`` or completion: once their course
        exists again, the statistics run pulls the whole activity report and sends them anew.
        Links to the tags we put on courses are dropped (the tag ids themselves belong to the
        platform and stay), and pending bulk operations are abandoned.
        """
        with self._engine.begin() as conn:
            self._reset_remote_state(conn, connection_id)

    def _reset_remote_state(self, conn: Connection, connection_id: str) -> None:
        now = self._now()
        conn.execute(
            update(_items)
            .where(_items.c.connection_id == connection_id)
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
            update(_stats)
            .where(_stats.c.connection_id == connection_id)
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
                updated_at=now,
            )
        )
        conn.execute(delete(_item_tags).where(_item_tags.c.connection_id == connection_id))
        conn.execute(
            update(_bulk_ops)
            .where(
                _bulk_ops.c.connection_id == connection_id, _bulk_ops.c.status == BULK_OP_PENDING
            )
            .values(status="abandoned", finished_at=now, context={})
        )

    def set_connection_active(self, connection_id: str, active: bool) -> None:
        """Activate or deactivate a connection; scheduled syncs skip inactive ones."""
        self._update_connection(connection_id, active=active)

    def set_connection_options_hash(self, connection_id: str, options_hash: str | None) -> None:
        """Remember the hash of the options that change mapped output."""
        self._update_connection(connection_id, options_hash=options_hash)

    def set_owner_lang(self, connection_id: str, lang: str | None) -> None:
        """Cache the integration owner's language (the last ``defaultLang`` fallback)."""
        self._update_connection(connection_id, owner_lang=lang)

    def set_connection_settings(self, connection_id: str, settings: Mapping[str, object]) -> None:
        """Replace the connection's non-secret settings (JSON-serialisable values only)."""
        self._update_connection(connection_id, settings=dict(settings))

    def _update_connection(self, connection_id: str, **values: object) -> None:
        stmt = (
            update(_connections)
            .where(_connections.c.id == connection_id)
            .values(updated_at=self._now(), **values)
        )
        with self._engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise UnknownConnection(connection_id)

    @staticmethod
    def _connection(conn: Connection, connection_id: str) -> ConnectionRow:
        row = conn.execute(select(_connections).where(_connections.c.id == connection_id)).one()
        return _connection_row(row)

    # -- lock --------------------------------------------------------------------------------

    @contextmanager
    def lock(self, connection_id: str, owner: str, ttl: float = 600) -> Iterator[Lease]:
        """Hold the connection's run lease for the block; renew it with `lease.renew()`.

        Raises:
            LockHeld: another owner holds an unexpired lease (fields `holder`, `expires_at`).
        """
        lease = acquire(self._engine, self._clock, connection_id, owner, ttl)
        try:
            yield lease
        finally:
            lease.release()

    def acquire_lock(self, connection_id: str, owner: str, ttl: float = 600) -> Lease:
        """Take the lease without a ``with`` block; the caller must `release()` it."""
        return acquire(self._engine, self._clock, connection_id, owner, ttl)

    # -- catalog items -----------------------------------------------------------------------

    def get_items(self, connection_id: str, external_ids: Iterable[str]) -> dict[str, ItemRow]:
        """Return the known items among `external_ids`, keyed by external id."""
        found: dict[str, ItemRow] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(dict.fromkeys(external_ids), LOOKUP_CHUNK):
                stmt = select(_items).where(
                    _items.c.connection_id == connection_id, _items.c.external_id.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[row.external_id] = _item_row(row)
        return found

    def _item_filter(
        self, connection_id: str, kind: ItemKind | None, state: ItemState | None
    ) -> ColumnElement[bool]:
        clauses = [_items.c.connection_id == connection_id]
        if kind is not None:
            clauses.append(_items.c.kind == kind)
        if state is not None:
            clauses.append(_items.c.state == ItemState(state).value)
        return and_(*clauses)

    def iter_items(
        self,
        connection_id: str,
        *,
        kind: ItemKind | None = None,
        state: ItemState | None = None,
    ) -> Iterator[ItemRow]:
        """Stream the connection's items, optionally of one kind and/or state."""
        stmt = select(_items).where(self._item_filter(connection_id, kind, state))
        return (_item_row(r) for r in self._page(stmt, _items.c.id))

    def count_items(
        self,
        connection_id: str,
        *,
        kind: ItemKind | None = None,
        state: ItemState | None = None,
    ) -> int:
        """Count the connection's items, optionally of one kind and/or state."""
        stmt = select(func.count()).select_from(_items)
        stmt = stmt.where(self._item_filter(connection_id, kind, state))
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def upsert_item_results(self, connection_id: str, rows: Iterable[ItemUpdate]) -> None:
        """Record the outcome of sending items, inserting new ones; all or nothing per call.

        See `ItemUpdate` for which fields a None leaves untouched.
        """
        now = self._now()
        stmt = self._insert(_items)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[_items.c.connection_id, _items.c.external_id],
            set_={
                "kind": ex.kind,
                "udemy_id": ex.udemy_id,
                "payload_hash": ex.payload_hash,
                "course_id": func.coalesce(ex.course_id, _items.c.course_id),
                "state": ex.state,
                "last_error": ex.last_error,
                "attempts": ex.attempts,
                "next_retry_at": ex.next_retry_at,
                "video_url": func.coalesce(ex.video_url, _items.c.video_url),
                "default_lang": func.coalesce(ex.default_lang, _items.c.default_lang),
                "last_sent_at": func.coalesce(ex.last_sent_at, _items.c.last_sent_at),
                "seen_at": func.coalesce(ex.seen_at, _items.c.seen_at),
                "archived_at": case(
                    (
                        ex.state == literal_column("'archived'"),
                        func.coalesce(_items.c.archived_at, ex.archived_at),
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
        with self._engine.begin() as conn:
            self._executemany(conn, stmt, params)

    def _update_items(
        self, connection_id: str, external_ids: Iterable[str], **values: object
    ) -> None:
        with self._engine.begin() as conn:
            for chunk in _chunks(dict.fromkeys(external_ids), LOOKUP_CHUNK):
                conn.execute(
                    update(_items)
                    .where(_items.c.connection_id == connection_id, _items.c.external_id.in_(chunk))
                    .values(**values)
                )

    def mark_seen(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were in the latest Udemy listing."""
        self._update_items(connection_id, external_ids, seen_at=_aware(at))

    def max_seen_at(self, connection_id: str) -> datetime | None:
        """Return the latest `seen_at` mark of the connection's items (None when none is set).

        A run marks what it sees with a time strictly after this, so only its own marks can
        count as "seen in this listing", whatever the clocks of earlier runs said.
        """
        stmt = select(func.max(_items.c.seen_at)).where(_items.c.connection_id == connection_id)
        with self._engine.connect() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        if value is None:
            return None
        # an aggregate loses the column type on SQLite: convert the way UTCDateTime does
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return cast(datetime, value).replace(tzinfo=UTC) if value.tzinfo is None else value

    def set_default_langs(self, connection_id: str, langs: Mapping[str, str]) -> None:
        """Store the mapped ``defaultLang`` of existing items (external id → language)."""
        params = [{"ext": ext, "lang": lang} for ext, lang in langs.items()]
        if not params:
            return
        stmt = (
            update(_items)
            .where(
                _items.c.connection_id == connection_id,
                _items.c.external_id == bindparam("ext"),
            )
            .values(default_lang=bindparam("lang"))
        )
        with self._engine.begin() as conn:
            for chunk in _chunks(params, WRITE_CHUNK):
                conn.execute(stmt, chunk)

    def mark_archived(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were archived in 360Learning."""
        self._update_items(
            connection_id,
            external_ids,
            state=ItemState.ARCHIVED.value,
            archived_at=_aware(at),
            updated_at=at,
        )

    def mark_restored(self, connection_id: str, external_ids: Iterable[str], at: datetime) -> None:
        """Record that these items were un-archived in 360Learning and are active again."""
        self._update_items(
            connection_id,
            external_ids,
            state=ItemState.ACTIVE.value,
            archived_at=None,
            updated_at=_aware(at),
        )

    def items_due_for_retry(self, connection_id: str, now: datetime) -> Iterator[ItemRow]:
        """Stream failed items whose `next_retry_at` is unset or not after `now`."""
        stmt = select(_items).where(
            _items.c.connection_id == connection_id,
            _items.c.state == ItemState.FAILED.value,
            or_(_items.c.next_retry_at.is_(None), _items.c.next_retry_at <= _aware(now)),
        )
        return (_item_row(r) for r in self._page(stmt, _items.c.id))

    # -- tags --------------------------------------------------------------------------------

    def get_tag_ids(self, connection_id: str) -> dict[str, str]:
        """Return the known tags as ``tag_key(name) -> 360Learning tag id``."""
        stmt = select(_tags.c.name_key, _tags.c.tag_id).where(
            _tags.c.connection_id == connection_id
        )
        with self._engine.connect() as conn:
            return {r.name_key: r.tag_id for r in conn.execute(stmt)}

    def save_tag(self, connection_id: str, name: str, tag_id: str) -> None:
        """Remember the tag id for a category name (matched case-insensitively)."""
        stmt = self._insert(_tags).values(
            connection_id=connection_id,
            name_key=tag_key(name),
            name=name.strip(),
            tag_id=tag_id,
            created_at=self._now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[_tags.c.connection_id, _tags.c.name_key],
            set_={"tag_id": stmt.excluded.tag_id},
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def delete_tags(self, connection_id: str, tag_ids: Iterable[str]) -> None:
        """Forget these tag ids (deleted in 360Learning) and our links to them."""
        with self._engine.begin() as conn:
            for chunk in _chunks(dict.fromkeys(tag_ids), LOOKUP_CHUNK):
                conn.execute(
                    delete(_tags).where(
                        _tags.c.connection_id == connection_id, _tags.c.tag_id.in_(chunk)
                    )
                )
                conn.execute(
                    delete(_item_tags).where(
                        _item_tags.c.connection_id == connection_id,
                        _item_tags.c.tag_id.in_(chunk),
                    )
                )

    def get_item_tags(self, connection_id: str, external_id: str) -> set[str]:
        """Return the tag ids WE attached to the course (only those may be removed)."""
        return self.get_items_tags(connection_id, [external_id]).get(external_id, set())

    def get_items_tags(
        self, connection_id: str, external_ids: Iterable[str]
    ) -> dict[str, set[str]]:
        """Batched `get_item_tags`: items with no tags of ours are left out."""
        found: dict[str, set[str]] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(dict.fromkeys(external_ids), LOOKUP_CHUNK):
                stmt = select(_item_tags.c.external_id, _item_tags.c.tag_id).where(
                    _item_tags.c.connection_id == connection_id,
                    _item_tags.c.external_id.in_(chunk),
                )
                for row in conn.execute(stmt):
                    found.setdefault(row.external_id, set()).add(row.tag_id)
        return found

    def set_item_tags(self, connection_id: str, external_id: str, tag_ids: Iterable[str]) -> None:
        """Replace the set of tag ids we attached to the course."""
        params = [
            {"connection_id": connection_id, "external_id": external_id, "tag_id": t}
            for t in dict.fromkeys(tag_ids)
        ]
        with self._engine.begin() as conn:
            conn.execute(
                delete(_item_tags).where(
                    _item_tags.c.connection_id == connection_id,
                    _item_tags.c.external_id == external_id,
                )
            )
            if params:
                conn.execute(insert(_item_tags), params)

    # -- statistics --------------------------------------------------------------------------

    def get_stats(
        self, connection_id: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], StatRow]:
        """Return the known statistics among `keys` ((external course id, learner mail))."""
        found: dict[tuple[str, str], StatRow] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(dict.fromkeys(keys), LOOKUP_CHUNK):
                for row in conn.execute(*self._stats_lookup(conn, connection_id, chunk)):
                    stat = _stat_row(row)
                    found[stat.key] = stat
        return found

    def _stats_lookup(
        self, conn: Connection, connection_id: str, keys: list[tuple[str, str]]
    ) -> tuple[Executable, Mapping[str, object]]:
        """Build a query that seeks the unique index once per key.

        `(a, b) IN (…)` is the obvious spelling, but SQLite answers it by scanning every row of
        the connection, and SQLAlchemy's `values()` costs ~0.2 ms per row to compile. So:
        PostgreSQL joins two arrays (two parameters whatever the chunk size); SQLite joins a
        VALUES list written as driver SQL, then the matching ids are read back typed.
        """
        columns = ", ".join(f"stats.{c.name}" for c in _stats.c)
        if conn.dialect.name == "postgresql":
            sql = text(
                f"SELECT {columns} FROM unnest(CAST(:courses AS text[]), CAST(:mails AS text[]))"
                " AS wanted(course, mail) JOIN stats ON stats.connection_id = :connection_id"
                " AND stats.external_course_id = wanted.course"
                " AND stats.learner_mail = wanted.mail"
            ).columns(*_stats.c)
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
        return select(_stats).where(_stats.c.id.in_(ids.scalars().all())), {}

    def upsert_stats(self, connection_id: str, rows: Iterable[StatUpdate]) -> None:
        """Record built or sent statistics; all or nothing per call.

        See `StatUpdate`: `completed` never goes back to False, and None leaves
        `first_activity_at` and `last_sent_at` as stored.
        """
        now = self._now()
        stmt = self._insert(_stats)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                _stats.c.connection_id,
                _stats.c.external_course_id,
                _stats.c.learner_mail,
            ],
            set_={
                "payload_hash": ex.payload_hash,
                "first_activity_at": func.coalesce(
                    ex.first_activity_at, _stats.c.first_activity_at
                ),
                # completion is final (DESIGN.md, Activity → statistic)
                "completed": or_(_stats.c.completed, ex.completed),
                "state": ex.state,
                "last_error": ex.last_error,
                "last_sent_at": func.coalesce(ex.last_sent_at, _stats.c.last_sent_at),
                "run_id": ex.run_id,
                "payload": ex.payload,
                "attempts": ex.attempts,
                "next_retry_at": ex.next_retry_at,
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
                "created_at": now,
                "updated_at": now,
            }
            for s in rows
        )
        with self._engine.begin() as conn:
            self._executemany(conn, stmt, params)

    def iter_stats(
        self, connection_id: str, *, state: StatState | None = None
    ) -> Iterator[StatRow]:
        """Stream the connection's statistics, optionally in one state."""
        stmt = select(_stats).where(self._stat_filter(connection_id, state))
        return (_stat_row(r) for r in self._page(stmt, _stats.c.id))

    def iter_releasable_held_stats(
        self, connection_id: str
    ) -> Iterator[tuple[StatRow, str | None]]:
        """Stream held statistics whose course is now synced and active, with its defaultLang.

        Held rows carry their mapped payload, so they are sent from here without pulling
        Udemy's activity again.
        """
        stmt = (
            select(*_stats.c, _items.c.default_lang.label("item_default_lang"))
            .select_from(
                _stats.join(
                    _items,
                    and_(
                        _items.c.connection_id == _stats.c.connection_id,
                        _items.c.external_id == _stats.c.external_course_id,
                    ),
                )
            )
            .where(
                _stats.c.connection_id == connection_id,
                _stats.c.state == StatState.HELD.value,
                _items.c.kind == "course",
                _items.c.course_id.is_not(None),
                _items.c.state != ItemState.ARCHIVED.value,
                _items.c.archived_at.is_(None),
            )
        )
        return ((_stat_row(r), r.item_default_lang) for r in self._page(stmt, _stats.c.id))

    def iter_resendable_stats(
        self, connection_id: str, now: datetime, *, max_attempts: int
    ) -> Iterator[tuple[StatRow, str | None]]:
        """Stream the statistics to send from the store, with their course's defaultLang.

        These are the held rows (see `iter_releasable_held_stats`) plus the failed rows that
        kept their payload, were tried fewer than `max_attempts` times and whose
        `next_retry_at` has come. Only rows whose course is synced and active are returned.
        """
        resend = or_(
            _stats.c.state == StatState.HELD.value,
            and_(
                _stats.c.state == StatState.FAILED.value,
                _stats.c.payload.is_not(None),
                _stats.c.attempts < max_attempts,
                or_(_stats.c.next_retry_at.is_(None), _stats.c.next_retry_at <= _aware(now)),
            ),
        )
        stmt = (
            select(*_stats.c, _items.c.default_lang.label("item_default_lang"))
            .select_from(self._stats_with_active_course())
            .where(_stats.c.connection_id == connection_id, resend, *self._active_course())
        )
        return ((_stat_row(r), r.item_default_lang) for r in self._page(stmt, _stats.c.id))

    def expire_held_stats(self, connection_id: str, message: str, now: datetime) -> int:
        """Mark failed the held rows without a payload whose course is synced and active.

        Such rows (held by older versions) can only be rebuilt from a full activity pull; once
        one ran and did not find them, they are expired so they stop forcing full pulls.
        Returns how many rows were expired.
        """
        active_ids = select(_items.c.external_id).where(
            _items.c.connection_id == connection_id, *self._active_course()
        )
        stmt = (
            update(_stats)
            .where(
                _stats.c.connection_id == connection_id,
                _stats.c.state == StatState.HELD.value,
                _stats.c.payload.is_(None),
                _stats.c.external_course_id.in_(active_ids),
            )
            .values(state=StatState.FAILED.value, last_error=message, updated_at=_aware(now))
        )
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)

    @staticmethod
    def _stats_with_active_course() -> Join:
        return _stats.join(
            _items,
            and_(
                _items.c.connection_id == _stats.c.connection_id,
                _items.c.external_id == _stats.c.external_course_id,
            ),
        )

    @staticmethod
    def _active_course() -> tuple[ColumnElement[bool], ...]:
        return (
            _items.c.kind == "course",
            _items.c.course_id.is_not(None),
            _items.c.state != ItemState.ARCHIVED.value,
            _items.c.archived_at.is_(None),
        )

    def count_stats(self, connection_id: str, *, state: StatState | None = None) -> int:
        """Count the connection's statistics, optionally in one state."""
        stmt = (
            select(func.count()).select_from(_stats).where(self._stat_filter(connection_id, state))
        )
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    @staticmethod
    def _stat_filter(connection_id: str, state: StatState | None) -> ColumnElement[bool]:
        clause = _stats.c.connection_id == connection_id
        if state is None:
            return clause
        return and_(clause, _stats.c.state == StatState(state).value)

    # -- runs --------------------------------------------------------------------------------

    def start_run(
        self, connection_id: str, job: str, *, dry_run: bool, full: bool = False, now: datetime
    ) -> int:
        """Record the start of a run and return its id."""
        stmt = (
            insert(_runs)
            .values(
                connection_id=connection_id,
                job=job,
                dry_run=dry_run,
                full=full,
                status=RunStatus.RUNNING.value,
                started_at=_aware(now),
                ended_at=None,
                counts={},
                calls={},
                errors=[],
                report={},
            )
            .returning(_runs.c.id)
        )
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    def finish_run(
        self,
        run_id: int,
        *,
        status: RunStatus,
        ended_at: datetime,
        counts: Mapping[str, int],
        calls: Mapping[str, int],
        errors: Sequence[str],
        report: Mapping[str, object],
    ) -> None:
        """Record the end of a run with its counts, calls per endpoint, errors and report."""
        stmt = (
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                status=RunStatus(status).value,
                ended_at=_aware(ended_at),
                counts=dict(counts),
                calls=dict(calls),
                errors=list(errors),
                report=dict(report),
            )
        )
        with self._engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise LookupError(f"unknown run {run_id}")

    def close_interrupted_runs(self, connection_id: str, now: datetime) -> list[int]:
        """Temporary: close runs left running."""
        closed = [
            r.run_id
            for r in self.list_runs(connection_id, limit=50)
            if r.status == RunStatus.RUNNING
        ]
        for run_id in closed:
            self.finish_run(
                run_id,
                status=RunStatus.ABORTED,
                ended_at=now,
                counts={},
                calls={},
                errors=["interrupted"],
                report={},
            )
        return closed

    def save_run_progress(
        self, run_id: int, counts: Mapping[str, int], calls: Mapping[str, int]
    ) -> None:
        """Temporary."""

    def get_run(self, run_id: int) -> RunRow | None:
        """Return the run, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_runs).where(_runs.c.id == run_id)).one_or_none()
        return None if row is None else _run_row(row)

    def list_runs(self, connection_id: str | None = None, limit: int = 20) -> list[RunRow]:
        """Return the latest runs, newest first, of one connection or of all."""
        stmt = select(_runs).order_by(_runs.c.id.desc()).limit(limit)
        if connection_id is not None:
            stmt = stmt.where(_runs.c.connection_id == connection_id)
        with self._engine.connect() as conn:
            return [_run_row(r) for r in conn.execute(stmt)]

    def last_successful_run(
        self, connection_id: str, job: str, *, full: bool | None = None
    ) -> RunRow | None:
        """Return the newest non-dry run of `job` that finished SUCCEEDED or PARTIAL.

        PARTIAL counts: its failed items are kept in the store and retried from there.
        """
        stmt = (
            select(_runs)
            .where(
                _runs.c.connection_id == connection_id,
                _runs.c.job == job,
                _runs.c.dry_run == False,  # noqa: E712 - SQL comparison, not Python
                _runs.c.status.in_([s.value for s in SUCCESSFUL_RUN_STATUSES]),
                true() if full is None else _runs.c.full == full,
            )
            .order_by(_runs.c.id.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(stmt).one_or_none()
        return None if row is None else _run_row(row)

    def add_item_outcomes(
        self, run_id: int, connection_id: str, outcomes: Iterable[ItemOutcome]
    ) -> None:
        """Record per-item outcomes of a run (errors, unmatched learners, skips)."""
        now = self._now()
        params = (
            {
                "run_id": run_id,
                "connection_id": connection_id,
                "kind": o.kind,
                "external_id": o.external_id,
                "learner_mail": o.learner_mail,
                "outcome": o.outcome,
                "message": o.message,
                "created_at": now,
            }
            for o in outcomes
        )
        with self._engine.begin() as conn:
            for chunk in _chunks(params, WRITE_CHUNK):
                conn.execute(insert(_outcomes), chunk)

    def iter_item_outcomes(
        self, run_id: int, *, outcome: str | None = None
    ) -> Iterator[ItemOutcomeRow]:
        """Stream a run's per-item outcomes, optionally of one kind of outcome."""
        stmt = select(_outcomes).where(_outcomes.c.run_id == run_id)
        if outcome is not None:
            stmt = stmt.where(_outcomes.c.outcome == outcome)
        return (_outcome_row(r) for r in self._page(stmt, _outcomes.c.id))

    def count_item_outcomes(self, run_id: int) -> dict[str, int]:
        """Return how many outcomes of each kind of outcome a run recorded."""
        stmt = (
            select(_outcomes.c.outcome, func.count())
            .where(_outcomes.c.run_id == run_id)
            .group_by(_outcomes.c.outcome)
        )
        with self._engine.connect() as conn:
            return {str(outcome): int(n) for outcome, n in conn.execute(stmt)}

    # -- bulk operations ---------------------------------------------------------------------

    def record_bulk_operation(
        self,
        connection_id: str,
        run_id: int | None,
        op_id: str,
        op_type: str,
        item_count: int,
        submitted_at: datetime,
        *,
        context: Mapping[str, object] | None = None,
    ) -> None:
        """Persist a submitted bulk operation BEFORE waiting for it, so a crash can resume.

        `context` is any JSON the engine needs to record the results after a resume (for
        example the payload hashes of the batch). Recording the same op id twice is a no-op.
        """
        stmt = (
            self._insert(_bulk_ops)
            .values(
                op_id=op_id,
                connection_id=connection_id,
                run_id=run_id,
                op_type=op_type,
                item_count=item_count,
                status=BULK_OP_PENDING,
                submitted_at=_aware(submitted_at),
                finished_at=None,
                context=dict(context or {}),
            )
            .on_conflict_do_nothing(index_elements=[_bulk_ops.c.op_id])
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def pending_bulk_operations(self, connection_id: str) -> list[BulkOpRow]:
        """Return the connection's bulk operations not yet finished, oldest first."""
        stmt = (
            select(_bulk_ops)
            .where(
                _bulk_ops.c.connection_id == connection_id, _bulk_ops.c.status == BULK_OP_PENDING
            )
            .order_by(_bulk_ops.c.submitted_at, _bulk_ops.c.op_id)
        )
        with self._engine.connect() as conn:
            return [_bulk_op_row(r) for r in conn.execute(stmt)]

    def get_bulk_operation(self, op_id: str) -> BulkOpRow | None:
        """Return the bulk operation, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_bulk_ops).where(_bulk_ops.c.op_id == op_id)).one_or_none()
        return None if row is None else _bulk_op_row(row)

    def finish_bulk_operation(
        self, op_id: str, status: str, finished_at: datetime, *, clear_context: bool = False
    ) -> None:
        """Record that a bulk operation ended (e.g. "succeeded", "failed", "timeout").

        Call it once the operation's results are recorded. ``clear_context=True`` drops the
        context, which is only needed to resume and can be large (a batch's hashes).
        """
        if status == BULK_OP_PENDING:
            raise ValueError("a finished bulk operation cannot be 'pending'")
        values: dict[str, object] = {"status": status, "finished_at": _aware(finished_at)}
        if clear_context:
            values["context"] = {}
        stmt = update(_bulk_ops).where(_bulk_ops.c.op_id == op_id).values(**values)
        with self._engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise LookupError(f"unknown bulk operation {op_id!r}")


# -- row conversion (Row -> frozen dataclass) --------------------------------------------------


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


def _item_row(r: Row[tuple[object, ...]]) -> ItemRow:
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
    )


def _run_row(r: Row[tuple[object, ...]]) -> RunRow:
    return RunRow(
        run_id=r.id,
        connection_id=r.connection_id,
        job=r.job,
        dry_run=bool(r.dry_run),
        full=bool(r.full),
        status=RunStatus(r.status),
        started_at=r.started_at,
        ended_at=r.ended_at,
        counts=dict(r.counts or {}),
        calls=dict(r.calls or {}),
        errors=list(r.errors or []),
        report=dict(r.report or {}),
    )


def _outcome_row(r: Row[tuple[object, ...]]) -> ItemOutcomeRow:
    return ItemOutcomeRow(
        outcome_id=r.id,
        run_id=r.run_id,
        connection_id=r.connection_id,
        kind=r.kind,
        external_id=r.external_id,
        learner_mail=r.learner_mail,
        outcome=r.outcome,
        message=r.message,
        created_at=r.created_at,
    )


def _bulk_op_row(r: Row[tuple[object, ...]]) -> BulkOpRow:
    return BulkOpRow(
        op_id=r.op_id,
        connection_id=r.connection_id,
        run_id=r.run_id,
        op_type=r.op_type,
        item_count=int(r.item_count),
        status=r.status,
        submitted_at=r.submitted_at,
        finished_at=r.finished_at,
        context=dict(r.context or {}),
    )
