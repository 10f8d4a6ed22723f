"""`Store`: one object holding the database and one small API per kind of record."""

from __future__ import annotations

from sqlalchemy import Engine

from udemy360.domain import Now, utcnow
from udemy360.store._db import Database
from udemy360.store.bulk import BulkOperations
from udemy360.store.connections import Connections
from udemy360.store.engine import masked_url, open_engine
from udemy360.store.items import Items
from udemy360.store.learners import Learners
from udemy360.store.lock import Locks
from udemy360.store.runs import Runs
from udemy360.store.statistics import Stats
from udemy360.store.tags import Tags


class Store:
    """The connector's state, one attribute per kind of record.

    ``connections``, ``items``, ``tags``, ``stats`` (statistics), ``learners`` (the learner
    directory and its aliases), ``runs`` (with per-item outcomes), ``bulk`` (bulk operations)
    and ``locks`` (the per-connection run lease). Build it with `Store.open(url)`, which
    creates the database if needed and applies the migrations. Every row belongs to a
    connection; create it with ``store.connections.ensure`` before writing anything else.
    """

    __slots__ = (
        "_db",
        "bulk",
        "connections",
        "items",
        "learners",
        "locks",
        "runs",
        "stats",
        "tags",
    )

    connections: Connections
    items: Items
    tags: Tags
    stats: Stats
    learners: Learners
    runs: Runs
    bulk: BulkOperations
    locks: Locks

    def __init__(self, engine: Engine, *, clock: Now = utcnow) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        db = Database(engine, clock)
        self._db = db
        self.connections = Connections(db)
        self.items = Items(db)
        self.tags = Tags(db)
        self.stats = Stats(db)
        self.learners = Learners(db)
        self.runs = Runs(db)
        self.bulk = BulkOperations(db)
        self.locks = Locks(engine, clock)

    @classmethod
    def open(
        cls, url: str, *, echo: bool = False, clock: Now | None = None, migrate: bool = True
    ) -> Store:
        """Open (and create, and migrate) the database at `url`.

        Args:
            url: ``sqlite:///path.db`` (the file and its missing directories are created,
                private to the user), ``sqlite://`` for an in-memory database, or
                ``postgresql://user@host/db`` (psycopg 3).
            echo: log every SQL statement (SQLAlchemy's ``echo``).
            clock: the time source for leases and row timestamps; tests inject a fake one.
            migrate: apply pending migrations (the default); only tests turn it off.

        Raises:
            StoreUnavailable: the URL is malformed or names another database, the file cannot
                be created, or the server cannot be reached; the message names the
                ``store_url`` setting (password masked) and the fix.
        """
        engine = open_engine(url, echo=echo, migrate=migrate)
        try:
            return cls(engine, clock=clock or utcnow)
        except BaseException:
            engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for queries the store does not offer (migrations, tests)."""
        return self._db.engine

    @property
    def supports_threads(self) -> bool:
        """Whether calls may run in worker threads while others run elsewhere.

        True for SQLite files and PostgreSQL (a pool of connections, one per thread). An
        in-memory SQLite store has a single shared connection, so it must stay on one thread.
        """
        return self._db.supports_threads

    def close(self) -> None:
        """Close every pooled connection."""
        self._db.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({masked_url(self._db.engine.url)!r})"
