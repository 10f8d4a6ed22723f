"""Engine creation and migrations: SQLite file by default, PostgreSQL by URL.

Migrations run programmatically from the package (no ``alembic.ini``), every time a store is
opened; on an up-to-date database that is a no-op.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "udemy360.store:migrations"
# any constant works; it only has to be the same for every process migrating one database
_MIGRATION_LOCK_KEY = 0x5544_3630


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL, defaulting ``postgresql://`` to the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine tuned for the store's backend.

    SQLite files get WAL (readers never block the writer) and ``synchronous=NORMAL`` (still
    durable per commit in WAL mode, much faster), a busy timeout so concurrent processes wait
    for each other instead of failing, and foreign keys. ``sqlite://`` is one shared in-memory
    database (StaticPool), which is what tests want.
    """
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")
    if backend == "postgresql":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        engine = create_engine(
            parsed,
            echo=echo,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=30000")
        finally:
            cursor.close()

    return engine


def alembic_config() -> Config:
    """Build the Alembic config in code; callers put the connection in ``cfg.attributes``."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    # version files are named by revision, not by date
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


@functools.cache
def head_revision() -> str:
    """Return the newest migration revision shipped with the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError("no migrations found in udemy360.store")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision; safe to call on every start.

    On PostgreSQL an advisory lock serialises processes that start at the same time against a
    fresh database, so only one of them creates the tables.
    """
    if current_revision(engine) == head_revision():
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("store migrated revision=%s", head_revision())
