"""Opening a database: URLs, private files, clear errors, automatic migrations, ORM parity."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from udemy360.store import ItemState, ItemUpdate, RunStatus, Store, StoreUnavailable
from udemy360.store.engine import (
    create_store_engine,
    current_revision,
    head_revision,
    masked_url,
    normalise_url,
    upgrade,
)
from udemy360.store.records import Base, ItemOutcomeRecord, LearnerRecord, UTCDateTime

from .tables import count, rows


def _diffs(store: Store, metadata: sa.MetaData) -> list[object]:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestOpen:
    def test_sqlite_file_and_directories_are_private(self, tmp_path: Path) -> None:
        """A new SQLite file is 0600 and every directory created for it 0700."""
        path = tmp_path / "a" / "b" / "state.db"
        with Store.open(f"sqlite:///{path}") as store:
            store.connections.ensure("c1", udemy_account="acme", group_id="g1")
            assert current_revision(store.engine) == head_revision()
            wal = path.with_name("state.db-wal")
            assert wal.exists()
            assert _mode(wal) == 0o600
        assert (_mode(tmp_path / "a"), _mode(tmp_path / "a" / "b")) == (0o700, 0o700)
        assert _mode(path) == 0o600

    def test_existing_file_and_directory_keep_their_modes(self, tmp_path: Path) -> None:
        """The store only sets the modes of what it creates."""
        tmp_path.chmod(0o755)
        path = tmp_path / "state.db"
        path.touch(mode=0o640)
        path.chmod(0o640)
        Store.open(f"sqlite:///{path}").close()
        assert (_mode(tmp_path), _mode(path)) == (0o755, 0o640)

    def test_home_directory_is_expanded(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A path starting with "~" is the user's home, as for every other path setting."""
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.chdir(tmp_path)
        Store.open("sqlite:///~/state/udemy360.db").close()
        assert (tmp_path / "state" / "udemy360.db").is_file()
        assert not (tmp_path / "~").exists()

    def test_sqlite_file_uses_wal(self, tmp_path: Path) -> None:
        """File databases run in WAL mode with synchronous=NORMAL."""
        with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store, store.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL

    def test_in_memory_is_one_shared_database(self) -> None:
        """``sqlite://`` keeps its data across calls (one pooled connection)."""
        with Store.open("sqlite://") as store:
            store.connections.ensure("c1", udemy_account="acme", group_id="g1")
            assert store.connections.get("c1") is not None

    def test_reopen_is_a_noop_upgrade(self, db_url: str) -> None:
        """Opening an up-to-date database again keeps its revision and its data."""
        with Store.open(db_url) as first:
            first.connections.ensure("c1", udemy_account="acme", group_id="g1")
        with Store.open(db_url) as second:
            assert current_revision(second.engine) == head_revision()
            assert second.connections.get("c1") is not None

    def test_bare_postgresql_url_selects_psycopg(self) -> None:
        """``postgresql://`` URLs use the psycopg 3 driver the package depends on."""
        assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
        assert normalise_url("sqlite:///x.db").drivername == "sqlite"


class TestUnavailable:
    def test_unsupported_backend(self) -> None:
        """Another database than SQLite or PostgreSQL names store_url and the URL forms."""
        with pytest.raises(StoreUnavailable) as info:
            Store.open("mysql://u:s3cr3t@127.0.0.1:1/db")
        message = str(info.value)
        assert message.startswith("store_url 'mysql://u:***@127.0.0.1:1/db': ")
        assert "unsupported database 'mysql'" in message
        assert "sqlite:///" in message
        assert "s3cr3t" not in message

    @pytest.mark.parametrize("url", ["not a url", "postgresql://u:s3cr3t@host:port/db"])
    def test_malformed_url(self, url: str) -> None:
        """An unparsable URL is a StoreUnavailable that never shows the password."""
        with pytest.raises(StoreUnavailable, match="not a database URL") as info:
            Store.open(url)
        assert "s3cr3t" not in str(info.value)
        assert info.value.__cause__ is None

    def test_unreachable_server(self) -> None:
        """A server that refuses the connection names store_url, masked, and what to check."""
        with pytest.raises(StoreUnavailable) as info:
            Store.open("postgresql://u:s3cr3t@127.0.0.1:1/db")
        message = str(info.value)
        assert message.startswith("store_url 'postgresql://u:***@127.0.0.1:1/db': ")
        assert "cannot open the database" in message
        assert "check the host, port" in message
        assert "s3cr3t" not in message

    def test_path_that_cannot_be_created(self, tmp_path: Path) -> None:
        """A SQLite path under a regular file names the path and the fix."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(StoreUnavailable, match="cannot create") as info:
            Store.open(f"sqlite:///{blocker}/sub/state.db")
        assert "choose a path" in str(info.value)

    def test_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        """A SQLite URL naming some other file says so instead of a traceback."""
        path = tmp_path / "notes.txt"
        path.write_text("hello, this is not a database" * 100)
        with pytest.raises(StoreUnavailable, match="udemy360 database"):
            Store.open(f"sqlite:///{path}")

    def test_database_of_a_newer_version(self, tmp_path: Path) -> None:
        """A database migrated past our newest revision asks for an upgrade of udemy360."""
        url = f"sqlite:///{tmp_path / 'state.db'}"
        Store.open(url).close()
        engine = create_store_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        engine.dispose()
        with pytest.raises(StoreUnavailable, match="newer udemy360"):
            Store.open(url)

    def test_masked_url(self) -> None:
        """Passwords are masked in parsable and unparsable URLs alike."""
        assert masked_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
        assert masked_url("postgresql://u:p@w/x@h:port/db") == "postgresql://u:***@h:port/db"
        assert masked_url("sqlite:///x.db") == "sqlite:///x.db"


class TestMigrations:
    def test_sqlite_migration_matches_orm(self) -> None:
        """On SQLite the migrated schema is exactly the ORM metadata."""
        with Store.open("sqlite://") as store:
            assert _diffs(store, Base.metadata) == []

    @pytest.mark.postgres
    def test_postgresql_migration_matches_orm(self, new_pg_schema: Callable[[], str]) -> None:
        """On a fresh PostgreSQL schema the migrated schema is exactly the ORM metadata."""
        with Store.open(new_pg_schema()) as store:
            assert _diffs(store, Base.metadata) == []

    def test_comparison_sees_a_difference(self) -> None:
        """The parity check is not vacuous: a column missing from the migration is reported."""
        extra = sa.MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(extra)
        sa.Table("items", extra, sa.Column("extra", sa.Integer()), extend_existing=True)
        with Store.open("sqlite://") as store:
            diffs = _diffs(store, extra)
        assert [d[0] for d in diffs if isinstance(d, tuple)] == ["add_column"]

    @pytest.mark.postgres
    def test_concurrent_first_open_on_postgresql(self, new_pg_schema: Callable[[], str]) -> None:
        """Two stores opening the same fresh schema both end at head (advisory lock)."""
        from concurrent.futures import ThreadPoolExecutor

        url = new_pg_schema()
        with ThreadPoolExecutor(2) as pool:
            stores = list(pool.map(lambda _: Store.open(url), range(2)))
        for s in stores:
            assert current_revision(s.engine) == head_revision()
            s.close()

    def test_upgrade_from_0002_keeps_every_row(
        self, backend: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        """Migrating a used 0002 database keeps runs and their outcomes, dates unmatched rows,
        and allows interrupted runs."""
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            url = request.getfixturevalue("new_pg_schema")()
        engine = create_store_engine(url)
        upgrade(engine, "0002")
        created = datetime(2026, 3, 1, 12, tzinfo=UTC)
        stamp = sa.bindparam("t", type_=UTCDateTime())
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO connections (id, udemy_account, group_id, active, settings,"
                    " created_at, updated_at) VALUES ('c1', 'acme', 'g1', true, '{}', :t, :t)"
                ).bindparams(stamp),
                {"t": created},
            )
            run_id = conn.execute(
                sa.text(
                    'INSERT INTO runs (connection_id, job, dry_run, "full", status, started_at,'
                    " counts, calls, errors, report) VALUES ('c1', 'stats', false, false,"
                    " 'running', :t, '{}', '{}', '[]', '{}') RETURNING id"
                ).bindparams(stamp),
                {"t": created},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO item_outcomes (run_id, connection_id, kind, external_id,"
                    " outcome, created_at) VALUES (:r, 'c1', 'statistic', '101', 'unmatched', :t)"
                ).bindparams(stamp),
                {"r": run_id, "t": created},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO stats (connection_id, external_course_id, learner_mail,"
                    " completed, state, attempts, created_at, updated_at) VALUES"
                    " ('c1', '101', 'a@x.io', false, 'unmatched', 0, :t, :t)"
                ).bindparams(stamp),
                {"t": created},
            )
        engine.dispose()
        with Store.open(url) as store:
            assert current_revision(store.engine) == head_revision()
            assert count(store, ItemOutcomeRecord, run_id=run_id) == 1
            [stat_row] = store.stats.iter_unmatched("c1")
            assert stat_row.unmatched_since == created
            later = created + timedelta(days=1)
            assert store.runs.close_interrupted("c1", later) == [run_id]
            run = store.runs.get(run_id)
            assert run is not None
            assert run.status == RunStatus.INTERRUPTED
            assert rows(store, LearnerRecord) == []

    def test_unique_constraints_hold_in_the_database(self, store: Store) -> None:
        """The database itself refuses a second row with the same connection and externalId."""
        store.items.upsert(
            "c1", [ItemUpdate(external_id="7", kind="course", udemy_id=7, state=ItemState.ACTIVE)]
        )
        items = Base.metadata.tables["items"]
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(
                items.insert().values(
                    connection_id="c1",
                    kind="learning_path",
                    external_id="7",
                    udemy_id=8,
                    state="active",
                    attempts=0,
                    created_at=datetime.now().astimezone(),
                    updated_at=datetime.now().astimezone(),
                )
            )

    def test_rows_need_an_existing_connection(self, store: Store) -> None:
        """Items of an unknown connection are refused by the foreign key."""
        row = ItemUpdate(external_id="1", kind="course", udemy_id=1, state=ItemState.ACTIVE)
        with pytest.raises(IntegrityError):
            store.items.upsert("nope", [row])
