"""Engine creation and migrations: SQLite file by default, PostgreSQL by URL.

Migrations run programmatically from the package (no ``alembic.ini``), every time a store is
opened; on an up-to-date database that is a no-op. `open_engine` is what `Store.open` calls: it
turns every way the database can be out of reach into a `StoreUnavailable` that names the
``store_url`` setting and the fix.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from udemy360.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "udemy360.store:migrations"
# any constant works; it only has to be the same for every process migrating one database
_MIGRATION_LOCK_KEY = 0x5544_3630
# seconds before giving up on a PostgreSQL server that does not answer (a black-holed host)
_CONNECT_TIMEOUT = 10

_URL_FORMS = (
    "use sqlite:///path/to/udemy360.db (four slashes for an absolute path) or "
    "postgresql://user:password@host:5432/dbname"
)


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL, defaulting ``postgresql://`` to the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def masked_url(url: str | URL) -> str:
    """Render a database URL with its password replaced by ``***``, even an unparsable one.

    A string is masked as written, up to its last ``@``: a password holding an unescaped
    ``@`` or ``/`` is hidden whole, however a URL parser would split it.
    """
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"


def create_store_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine tuned for the store's backend.

    SQLite files get WAL (readers never block the writer) and ``synchronous=NORMAL`` (still
    durable per commit in WAL mode, much faster), a busy timeout so concurrent processes wait
    for each other instead of failing, and foreign keys. The file and the directories created
    for it are private to the user (0600/0700): the store holds learner emails. ``sqlite://``
    is one shared in-memory database (StaticPool), which is what tests want.

    Raises:
        StoreUnavailable: the URL cannot be parsed, names another database, or its SQLite
            file cannot be created.
    """
    shown = masked_url(url)
    try:
        parsed = normalise_url(url)
    except (ArgumentError, ValueError) as exc:
        problem = f"not a database URL ({type(exc).__name__})"
        raise StoreUnavailable(shown, problem, _URL_FORMS) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreUnavailable(shown, f"unsupported database {backend!r}", _URL_FORMS)
    if backend == "postgresql":
        connect_args: dict[str, object] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = _CONNECT_TIMEOUT
        return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args)
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
        path = Path(database).expanduser()
        # sqlite3 does not expand "~": open the file we create, not a "~" directory
        parsed = parsed.set(database=str(path))
        try:
            _create_private_file(path)
        except OSError as exc:
            problem = f"cannot create {exc.filename or database!r} ({exc.strerror or exc})"
            fix = "choose a path in a directory you can write to, or create that directory"
            raise StoreUnavailable(shown, problem, fix) from None
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


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (0600) and its missing directories (0700), if missing.

    SQLite would create the file with the umask's permissions (usually 0644); an empty file is
    a valid empty database, and SQLite gives its WAL and shared-memory files the same mode.
    Existing files and directories are left as they are.
    """
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it first
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def open_engine(url: str | URL, *, echo: bool = False, migrate: bool = True) -> Engine:
    """Create the engine and bring the database to the newest revision.

    Raises:
        StoreUnavailable: as `create_store_engine`, or the server cannot be reached, refuses
            us, or the database was migrated by a newer version.
    """
    engine = create_store_engine(url, echo=echo)
    try:
        if migrate:
            upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        problem = f"cannot open the database ({first_line[:200] or type(exc.orig).__name__})"
        if engine.dialect.name == "postgresql":
            fix = (
                "check the host, port, database name, user and password, and that the server "
                "is running"
            )
        else:
            fix = "check that the file is a udemy360 database and that you may write to it"
        raise StoreUnavailable(masked_url(url), problem, fix) from None
    except CommandError:
        engine.dispose()
        problem = "the database was migrated by a newer udemy360 (unknown revision)"
        raise StoreUnavailable(masked_url(url), problem, "upgrade udemy360") from None
    except BaseException:
        engine.dispose()
        raise
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default); safe to call on every start.

    On PostgreSQL an advisory lock serialises processes that start at the same time against a
    fresh database, so only one of them creates the tables. On SQLite, foreign keys are off
    while migrating: rebuilding a table (SQLite's way to change a constraint) drops the old
    one, and with foreign keys on that would cascade into its children's rows.
    """
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # a no-op inside a transaction, so it is set before the migration's one begins
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:  # pragma: no cover - a migration bug
                        raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    log.info("store migrated revision=%s", revision if revision != "head" else head_revision())
