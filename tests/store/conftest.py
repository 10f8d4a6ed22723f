"""Fixtures for the store tests: every `store` test runs on SQLite and on PostgreSQL.

PostgreSQL is the local server at 127.0.0.1:5432, database ``test`` (trust auth), which CI starts
(``.ci/run``); ``UDEMY360_TEST_POSTGRES_URL`` points elsewhere. When no server answers, the
PostgreSQL variants skip and say why. Isolation: SQLite tests get a copy of a database migrated
once; PostgreSQL tests share a schema migrated once whose tables are emptied before each test.
Tests of the migrations themselves start from empty databases and schemas.
"""

from __future__ import annotations

import functools
import getpass
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

from udemy360.store import Store
from udemy360.store.records import Base

PG_URL_ENV = "UDEMY360_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class FakeClock:
    """A clock the test moves by hand; starts near real time so other processes agree."""

    now: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    )

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@functools.cache
def _pg_base_url() -> URL | str:
    """Return a URL that reaches the test server, or the reason why none does."""
    configured = os.environ.get(PG_URL_ENV)
    candidates = (
        [make_url(configured)]
        if configured
        else [
            URL.create(
                "postgresql+psycopg", username=user, host="127.0.0.1", port=5432, database="test"
            )
            for user in dict.fromkeys(["postgres", getpass.getuser(), "root"])
        ]
    )
    errors = []
    for url in candidates:
        try:
            psycopg.connect(_dsn(url), connect_timeout=3).close()
        except psycopg.Error as exc:
            errors.append(f"{url.render_as_string(hide_password=True)}: {exc}".strip())
            continue
        return url
    return "PostgreSQL unreachable (" + "; ".join(errors) + f"); set {PG_URL_ENV} to use another"


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _schema_url(base: URL, schema: str) -> str:
    # every pooled connection of the store, and any child process, starts in the test's schema
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def pg_base_url() -> URL:
    """Return the test server's URL or skip the test with the reason it is unreachable."""
    found = _pg_base_url()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture
def new_pg_schema() -> Iterator[Callable[[], str]]:
    """Create brand-new PostgreSQL schemas on demand; returns URLs whose search_path is one."""
    base = pg_base_url()
    created: list[str] = []

    def make() -> str:
        schema = f"udemy360_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_dsn(base), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        created.append(schema)
        return _schema_url(base, schema)

    yield make
    with psycopg.connect(_dsn(base), autocommit=True) as conn:
        for schema in created:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def _pg_session_schema() -> Iterator[str]:
    """One migrated schema for the whole session (emptied before each test that uses it)."""
    base = pg_base_url()
    schema = f"udemy360_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(base, schema)
    try:
        Store.open(url).close()
        yield url
    finally:
        with psycopg.connect(_dsn(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _empty(url: str) -> None:
    # DELETE beats TRUNCATE on tables this small; children first for the foreign keys
    with psycopg.connect(_dsn(make_url(url))) as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(f'DELETE FROM "{table.name}"')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    name: str = request.param
    if name == "postgresql":
        pg_base_url()
    return name


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; tests get a copy (opening it again is a no-op)."""
    path = tmp_path_factory.mktemp("template") / "udemy360.db"
    Store.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL of an empty, migrated database of the backend under test."""
    if backend == "sqlite":
        path = tmp_path / "state" / "udemy360.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_pg_session_schema")
    _empty(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock for leases and row timestamps."""
    return FakeClock()


@pytest.fixture
def store(db_url: str, clock: FakeClock) -> Iterator[Store]:
    """A store on the backend under test, with a fake clock and one connection, ``c1``."""
    opened = Store.open(db_url, clock=clock)
    opened.connections.ensure("c1", udemy_account="acme", group_id="g1")
    yield opened
    opened.close()


@pytest.fixture
def open_store(db_url: str, clock: FakeClock) -> Iterator[Callable[[], Store]]:
    """Open more stores on the same database (as another process or thread would)."""
    opened: list[Store] = []

    def make() -> Store:
        s = Store.open(db_url, clock=clock)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()
