"""What every part of the store shares: the engine, the clock, transactions and batching.

Calls are synchronous, short and batched: lookups go in chunks of at most 500 keys, bulk
writes are executemany-style ``INSERT … ON CONFLICT DO UPDATE`` statements, and each call runs
in one transaction (`Database.write`), so a crash never leaves half a batch behind. ``iter_*``
methods page by primary key (`Database.page`) and hold no connection between pages, so a slow
consumer in async code never pins a database connection or a SQLite read snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from typing import TypeVar, cast

from sqlalchemy import ColumnElement, Engine, Row, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import ColumnClause

from udemy360.domain import Now
from udemy360.store.errors import StoreDataError
from udemy360.store.records import (
    BulkOperationRecord,
    ConnectionRecord,
    ItemOutcomeRecord,
    ItemRecord,
    ItemTagRecord,
    LearnerAliasRecord,
    LearnerRecord,
    RunRecord,
    StatRecord,
    TagRecord,
)

LOOKUP_CHUNK = 500
"""Most keys in one ``IN (…)`` list: far below every backend's bound-parameter limit."""
WRITE_CHUNK = 2_000
"""Rows handed to one executemany call; bounds memory when a caller passes a generator."""
PAGE_SIZE = 1_000
"""Rows fetched per page by the ``iter_*`` methods."""

CONNECTIONS = cast(Table, ConnectionRecord.__table__)
ITEMS = cast(Table, ItemRecord.__table__)
TAGS = cast(Table, TagRecord.__table__)
ITEM_TAGS = cast(Table, ItemTagRecord.__table__)
STATS = cast(Table, StatRecord.__table__)
RUNS = cast(Table, RunRecord.__table__)
OUTCOMES = cast(Table, ItemOutcomeRecord.__table__)
BULK_OPS = cast(Table, BulkOperationRecord.__table__)
LEARNERS = cast(Table, LearnerRecord.__table__)
ALIASES = cast(Table, LearnerAliasRecord.__table__)

_T = TypeVar("_T")

# what a driver raises, unwrapped, for a value it cannot send: sqlite3 for an int beyond 64 bits,
# both drivers for a lone surrogate in text
_VALUE_ERRORS = (OverflowError, UnicodeError)


def chunks(values: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Yield lists of at most `size` values."""
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def aware(value: datetime) -> datetime:
    """Return `value`, refusing a naive datetime (a local time stored by mistake)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
    return value


def aggregate_datetime(value: object) -> datetime | None:
    """Convert an aggregate's datetime (``max``/``min``) the way `UTCDateTime` would.

    An aggregate loses the column type on SQLite, which hands back the stored text.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    stamp = cast(datetime, value)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _needs_conversion(stmt: Insert, name: str) -> bool:
    """Whether a column's values may need `_db_value`: all but plain text, numbers and flags."""
    column = stmt.table.c.get(name) if isinstance(stmt.table, Table) else None
    if column is None:
        return True
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return True
    return not issubclass(kind, str | int | float) or issubclass(kind, datetime)


def _db_value(value: object, sqlite_dates: bool) -> object:
    """Convert a value as the column types would, for rows sent straight to the driver.

    A mapping (a JSON column) goes as its JSON text: SQLite stores JSON as text, and psycopg
    sends a ``str`` untyped, so PostgreSQL casts it to ``json``.
    """
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    if not isinstance(value, datetime):
        return value
    utc = aware(value).astimezone(UTC)
    if not sqlite_dates:
        return utc
    # the exact text SQLAlchemy's SQLite DATETIME writes, so reads and comparisons agree
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class Database:
    """The engine and clock of one store, with the transaction and batching helpers."""

    __slots__ = ("_clock", "engine")

    def __init__(self, engine: Engine, clock: Now) -> None:
        self.engine = engine
        self._clock = clock

    def now(self) -> datetime:
        """Return the store clock's time (aware)."""
        return aware(self._clock())

    @property
    def supports_threads(self) -> bool:
        """Whether calls may run in worker threads while others run elsewhere.

        True for SQLite files and PostgreSQL (a pool of connections, one per thread). An
        in-memory SQLite store has a single shared connection, so it must stay on one thread.
        """
        return not isinstance(self.engine.pool, StaticPool)

    def read(self) -> AbstractContextManager[Connection]:
        """Return a connection for reads, closed at the end of the block."""
        return self.engine.connect()

    @contextmanager
    def write(self, operation: str) -> Iterator[Connection]:
        """Run the block in one transaction: committed at the end, rolled back on error.

        A value the database refuses (a NUL byte in PostgreSQL text, an integer beyond 64
        bits, a lone surrogate) raises `StoreDataError` naming `operation`, never the values,
        after the rollback. Other errors (a broken constraint: a bug) pass unchanged.
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except DataError as exc:
            raise StoreDataError(operation, _reason(exc.orig)) from None
        except _VALUE_ERRORS as exc:
            raise StoreDataError(operation, type(exc).__name__) from None
        except StatementError as exc:
            if isinstance(exc.orig, _VALUE_ERRORS):
                raise StoreDataError(operation, type(exc.orig).__name__) from None
            raise

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """Return an INSERT that supports ``ON CONFLICT`` on this backend."""
        # ON CONFLICT is dialect-specific in SQLAlchemy; both dialects spell it the same way
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def executemany(
        self, conn: Connection, stmt: Insert, params: Iterable[Mapping[str, object]]
    ) -> None:
        """Run `stmt` once per row with the DB-API's own executemany, in chunks.

        SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself
        (10,000 rows: ~0.4 s against ~0.1 s), so the statement is compiled once and rows go
        to the driver as plain values. The only types needing care are datetimes and JSON;
        see `_db_value`.
        """
        compiled = None
        sqlite_dates = conn.dialect.name == "sqlite"
        # a batch repeats the same few datetimes (the run's "now"): convert each once
        converted: dict[datetime, object] = {}

        def db_value(value: object) -> object:
            if value is None:
                return None
            if isinstance(value, Mapping):
                return _db_value(value, sqlite_dates)
            if not isinstance(value, datetime):
                return value
            if value not in converted:
                converted[value] = _db_value(value, sqlite_dates)
            return converted[value]

        for chunk in chunks(params, WRITE_CHUNK):
            if compiled is None:
                compiled = stmt.compile(dialect=conn.dialect, column_keys=list(chunk[0]))
                sql = str(compiled)
                order = compiled.positiontup
                # only datetime and JSON columns need converting: the rest go as they are
                names = order if order is not None else list(chunk[0])
                fixed = [i for i, name in enumerate(names) if _needs_conversion(stmt, name)]
            if order is not None:
                take = itemgetter(*order)
                rows: list[object] = []
                for row in chunk:
                    values = list(take(row)) if len(order) > 1 else [take(row)]
                    for i in fixed:
                        values[i] = db_value(values[i])
                    rows.append(tuple(values))
            else:
                rows = [{k: db_value(v) for k, v in row.items()} for row in chunk]
            conn.exec_driver_sql(sql, rows)

    def page(
        self, stmt: Select[tuple[object, ...]], id_column: ColumnClause[int] | ColumnElement[int]
    ) -> Iterator[Row[tuple[object, ...]]]:
        """Stream `stmt`'s rows by pages keyed on `id_column` (selected as ``id``)."""
        last_id = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    stmt.where(id_column > last_id).order_by(id_column).limit(PAGE_SIZE)
                ).all()
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            last_id = cast(int, rows[-1].id)


def _reason(orig: BaseException | None) -> str:
    """Name a driver error by its class and SQLSTATE, which carry no values."""
    if orig is None:
        return "DataError"
    sqlstate = getattr(orig, "sqlstate", None)
    name = type(orig).__name__
    return f"{name}, SQLSTATE {sqlstate}" if isinstance(sqlstate, str) else name
