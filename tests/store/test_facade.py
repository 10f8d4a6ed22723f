"""The `Store` facade: one attribute per kind of record, its repr, threads, public surface."""

from __future__ import annotations

import sqlalchemy as sa

import udemy360.store
from udemy360.store import Store
from udemy360.store.bulk import BulkOperations
from udemy360.store.connections import Connections
from udemy360.store.items import Items
from udemy360.store.learners import Learners
from udemy360.store.lock import Locks
from udemy360.store.runs import Runs
from udemy360.store.statistics import Stats
from udemy360.store.tags import Tags


class TestFacade:
    def test_one_attribute_per_kind_of_record(self, store: Store) -> None:
        """Each kind of record has its own small API on the store."""
        assert [
            type(getattr(store, name)).__name__
            for name in ("connections", "items", "tags", "stats", "learners", "runs", "bulk")
        ] == [c.__name__ for c in (Connections, Items, Tags, Stats, Learners, Runs, BulkOperations)]
        assert isinstance(store.locks, Locks)

    def test_repr_hides_password(self) -> None:
        """A store's repr never shows the database password."""
        engine = sa.create_engine("postgresql+psycopg://user:s3cr3t@127.0.0.1:1/db")
        try:
            shown = repr(Store(engine))
        finally:
            engine.dispose()
        assert shown == "Store('postgresql+psycopg://user:***@127.0.0.1:1/db')"

    def test_file_database_supports_threads_memory_does_not(self, store: Store) -> None:
        """A pooled store may be used from worker threads; the shared in-memory one may not."""
        with Store.open("sqlite://") as memory:
            assert not memory.supports_threads
        assert store.supports_threads


class TestExports:
    def test_public_surface(self) -> None:
        """The package exports exactly its documented API."""
        assert sorted(udemy360.store.__all__) == sorted(
            [
                "Alias",
                "AliasKind",
                "AliasRow",
                "BulkOpRow",
                "ConnectionRow",
                "ItemOutcome",
                "ItemOutcomeRow",
                "ItemRow",
                "ItemState",
                "ItemUpdate",
                "LearnerDirectory",
                "LearnerRow",
                "LearnerUpdate",
                "Lease",
                "LockHeld",
                "LockLost",
                "RunRow",
                "RunStatus",
                "StatRow",
                "StatState",
                "StatUpdate",
                "Store",
                "StoreDataError",
                "StoreError",
                "StoreUnavailable",
                "UnknownConnection",
                "UnmatchedLearner",
                "UnmatchedSummary",
                "tag_key",
            ]
        )
        for name in udemy360.store.__all__:
            assert hasattr(udemy360.store, name)
