"""Opening a store: URLs, automatic migrations, migration ↔ ORM parity, public surface."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError

import udemy360.store
from udemy360.store import ItemState, ItemUpdate, Store
from udemy360.store.db import current_revision, head_revision, normalise_url
from udemy360.store.records import Base, ConnectionRecord


def _diffs(store: Store, metadata: sa.MetaData) -> list[object]:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


class TestOpen:
    def test_sqlite_file_creates_parent_directory(self, tmp_path: Path) -> None:
        """A SQLite URL whose directory does not exist yet gets it created."""
        path = tmp_path / "a" / "b" / "state.db"
        with Store.open(f"sqlite:///{path}") as store:
            assert path.exists()
            assert current_revision(store.engine) == head_revision()

    def test_sqlite_file_uses_wal(self, tmp_path: Path) -> None:
        """File databases run in WAL mode with synchronous=NORMAL."""
        with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store, store.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL

    def test_in_memory_is_one_shared_database(self) -> None:
        """``sqlite://`` keeps its data across calls (one pooled connection)."""
        with Store.open("sqlite://") as store:
            store.ensure_connection("c1", udemy_account="acme", group_id="g1")
            assert store.get_connection("c1") is not None

    def test_reopen_is_a_noop_upgrade(self, db_url: str) -> None:
        """Opening an up-to-date database again keeps its revision and its data."""
        with Store.open(db_url) as first:
            first.ensure_connection("c1", udemy_account="acme", group_id="g1")
        with Store.open(db_url) as second:
            assert current_revision(second.engine) == head_revision()
            assert second.get_connection("c1") is not None

    def test_bare_postgresql_url_selects_psycopg(self) -> None:
        """``postgresql://`` URLs use the psycopg 3 driver the package depends on."""
        assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
        assert normalise_url("sqlite:///x.db").drivername == "sqlite"

    def test_repr_hides_password(self) -> None:
        """A store's repr never shows the database password."""
        engine = sa.create_engine("postgresql+psycopg://user:s3cr3t@127.0.0.1:1/db")
        try:
            assert "s3cr3t" not in repr(Store(engine))
        finally:
            engine.dispose()

    def test_unsupported_backend_is_refused(self) -> None:
        """Only SQLite and PostgreSQL are accepted."""
        with pytest.raises(ValueError, match="unsupported database 'mysql'"):
            Store.open("mysql://u@127.0.0.1:1/db")

    def test_naive_datetimes_are_refused(self, store: Store) -> None:
        """A naive datetime never reaches the database, and the batch is not written."""
        row = ItemUpdate(
            external_id="1",
            kind="course",
            udemy_id=1,
            state=ItemState.ACTIVE,
            seen_at=datetime(2025, 1, 1),
        )
        with pytest.raises(ValueError, match="naive datetime"):
            store.upsert_item_results("c1", [row])
        assert store.count_items("c1") == 0
        # the ORM column type refuses it too
        with store.session() as session:
            record = session.get_one(ConnectionRecord, "c1")
            record.updated_at = datetime(2025, 1, 1)
            with pytest.raises(StatementError) as info:
                session.flush()
            session.rollback()
        assert isinstance(info.value.orig, ValueError)


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

    def test_unique_constraints_hold_in_the_database(self, store: Store) -> None:
        """The database itself refuses a second row with the same connection and externalId."""
        store.upsert_item_results(
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
            store.upsert_item_results("nope", [row])


class TestSession:
    def test_session_commits_on_success(self, store: Store) -> None:
        """Changes made in ``store.session()`` are committed when the block ends."""
        with store.session() as session:
            session.get_one(ConnectionRecord, "c1").owner_lang = "fr"
        conn = store.get_connection("c1")
        assert conn is not None
        assert conn.owner_lang == "fr"

    def test_session_rolls_back_on_error(self, store: Store) -> None:
        """An exception in the block rolls every change back."""

        def change_then_fail() -> None:
            with store.session() as session:
                session.get_one(ConnectionRecord, "c1").owner_lang = "fr"
                session.flush()
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            change_then_fail()
        conn = store.get_connection("c1")
        assert conn is not None
        assert conn.owner_lang is None


class TestExports:
    def test_public_surface(self) -> None:
        """The package exports exactly its documented API."""
        assert sorted(udemy360.store.__all__) == sorted(
            [
                "BulkOpRow",
                "ConnectionRow",
                "ItemOutcome",
                "ItemOutcomeRow",
                "ItemRow",
                "ItemState",
                "ItemUpdate",
                "Lease",
                "LockHeld",
                "LockLost",
                "RunRow",
                "RunStatus",
                "StatRow",
                "StatState",
                "StatUpdate",
                "Store",
                "StoreError",
                "UnknownConnection",
                "tag_key",
            ]
        )
        for name in udemy360.store.__all__:
            assert hasattr(udemy360.store, name)
