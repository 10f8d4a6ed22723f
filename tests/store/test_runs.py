"""Connections, runs, per-item outcomes and bulk operations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from udemy360.store import (
    BulkOpRow,
    ConnectionRow,
    ItemOutcome,
    RunRow,
    RunStatus,
    Store,
    UnknownConnection,
)

from .conftest import FakeClock


class TestConnections:
    def test_ensure_creates_with_defaults(self, store: Store, clock: FakeClock) -> None:
        """A new connection is active, with no integration and empty settings."""
        assert store.ensure_connection("c9", udemy_account="acme", group_id="g9") == ConnectionRow(
            connection_id="c9",
            udemy_account="acme",
            group_id="g9",
            integration_id=None,
            active=True,
            options_hash=None,
            owner_lang=None,
            settings={},
            created_at=clock.now,
            updated_at=clock.now,
        )

    def test_ensure_is_idempotent_and_updates(self, store: Store, clock: FakeClock) -> None:
        """Ensuring again keeps the row and what was set on it, and updates account and group."""
        store.set_integration("c1", "int-1")
        clock.advance(5)
        same = store.ensure_connection("c1", udemy_account="acme", group_id="g1")
        assert (same.integration_id, same.updated_at) == ("int-1", clock.now - timedelta(seconds=5))
        moved = store.ensure_connection("c1", udemy_account="acme2", group_id="g2")
        assert (moved.udemy_account, moved.group_id, moved.integration_id) == (
            "acme2",
            "g2",
            "int-1",
        )
        assert moved.updated_at == clock.now
        assert [c.connection_id for c in store.list_connections()] == ["c1"]

    def test_setters(self, store: Store) -> None:
        """Each setter changes its own field."""
        store.set_integration("c1", "int-1")
        store.set_connection_active("c1", False)
        store.set_connection_options_hash("c1", "opts")
        store.set_owner_lang("c1", "fr")
        store.set_connection_settings("c1", {"tags": True, "schedule": {"courses": "07:30"}})
        conn = store.get_connection("c1")
        assert conn is not None
        assert (conn.integration_id, conn.active, conn.options_hash, conn.owner_lang) == (
            "int-1",
            False,
            "opts",
            "fr",
        )
        assert conn.settings == {"tags": True, "schedule": {"courses": "07:30"}}

    def test_unknown_connection(self, store: Store) -> None:
        """Reading an unknown connection gives None; changing one raises UnknownConnection."""
        assert store.get_connection("nope") is None
        with pytest.raises(UnknownConnection) as info:
            store.set_integration("nope", "x")
        assert info.value.connection_id == "nope"

    def test_list_filters_active(self, store: Store) -> None:
        """Deactivated connections are left out of the active list (no scheduled syncs)."""
        store.ensure_connection("c2", udemy_account="b", group_id="g2")
        store.set_connection_active("c1", False)
        assert [c.connection_id for c in store.list_connections(active=True)] == ["c2"]
        assert [c.connection_id for c in store.list_connections(active=False)] == ["c1"]
        assert [c.connection_id for c in store.list_connections()] == ["c1", "c2"]


class TestRuns:
    def test_start_and_finish(self, store: Store, clock: FakeClock) -> None:
        """A run starts RUNNING and finishes with its status, counts, calls, errors and report."""
        run_id = store.start_run("c1", "courses", dry_run=False, full=True, now=clock.now)
        running = store.get_run(run_id)
        assert running is not None
        assert (running.status, running.ended_at, running.counts) == (RunStatus.RUNNING, None, {})
        ended = clock.now + timedelta(minutes=3)
        store.finish_run(
            run_id,
            status=RunStatus.PARTIAL,
            ended_at=ended,
            counts={"created": 3, "failed": 1},
            calls={"PUT /bulk/courses": 1},
            errors=["course 7: invalid launchUrl"],
            report={"archived": [], "guard": {"tripped": False}},
        )
        assert store.get_run(run_id) == RunRow(
            run_id=run_id,
            connection_id="c1",
            job="courses",
            dry_run=False,
            full=True,
            status=RunStatus.PARTIAL,
            started_at=clock.now,
            ended_at=ended,
            counts={"created": 3, "failed": 1},
            calls={"PUT /bulk/courses": 1},
            errors=["course 7: invalid launchUrl"],
            report={"archived": [], "guard": {"tripped": False}},
        )

    def test_unknown_run(self, store: Store, clock: FakeClock) -> None:
        """get_run gives None and finish_run raises LookupError for an unknown id."""
        assert store.get_run(424242) is None
        with pytest.raises(LookupError):
            store.finish_run(
                424242,
                status=RunStatus.FAILED,
                ended_at=clock.now,
                counts={},
                calls={},
                errors=[],
                report={},
            )

    def _run(
        self,
        store: Store,
        clock: FakeClock,
        connection: str,
        job: str,
        status: RunStatus,
        **kw: bool,
    ) -> int:
        clock.advance(60)
        run_id = store.start_run(connection, job, now=clock.now, **kw)
        store.finish_run(
            run_id, status=status, ended_at=clock.now, counts={}, calls={}, errors=[], report={}
        )
        return run_id

    def test_list_runs_newest_first(self, store: Store, clock: FakeClock) -> None:
        """list_runs returns newest first, limited, for one connection or all."""
        store.ensure_connection("c2", udemy_account="b", group_id="g2")
        ids = [
            self._run(store, clock, c, "courses", RunStatus.SUCCEEDED, dry_run=False)
            for c in ("c1", "c2", "c1", "c1")
        ]
        assert [r.run_id for r in store.list_runs()] == ids[::-1]
        assert [r.run_id for r in store.list_runs("c1", limit=2)] == [ids[3], ids[2]]
        assert [r.run_id for r in store.list_runs("c2")] == [ids[1]]

    def test_last_successful_run(self, store: Store, clock: FakeClock) -> None:
        """Only finished, non-dry runs of the job count; PARTIAL counts; `full` filters."""
        full_ok = self._run(
            store, clock, "c1", "statistics", RunStatus.SUCCEEDED, dry_run=False, full=True
        )
        partial = self._run(store, clock, "c1", "statistics", RunStatus.PARTIAL, dry_run=False)
        self._run(store, clock, "c1", "statistics", RunStatus.FAILED, dry_run=False)
        self._run(store, clock, "c1", "statistics", RunStatus.SUCCEEDED, dry_run=True)
        self._run(store, clock, "c1", "courses", RunStatus.SUCCEEDED, dry_run=False)
        store.start_run("c1", "statistics", dry_run=False, now=clock.now)  # still running
        last = store.last_successful_run("c1", "statistics")
        assert last is not None
        assert last.run_id == partial
        last_full = store.last_successful_run("c1", "statistics", full=True)
        assert last_full is not None
        assert last_full.run_id == full_ok
        assert store.last_successful_run("c1", "tags") is None


class TestItemOutcomes:
    def test_add_iter_and_count(self, store: Store, clock: FakeClock) -> None:
        """Outcomes are stored per run and stream back in order, optionally filtered."""
        run_id = store.start_run("c1", "statistics", dry_run=False, now=clock.now)
        other = store.start_run("c1", "statistics", dry_run=False, now=clock.now)
        outcomes = [
            ItemOutcome("statistic", "101", "unmatched", "unknown user", learner_mail=f"u{i}@x.io")
            for i in range(1500)
        ] + [ItemOutcome("course", "7", "error", "400 invalid launchUrl")]
        store.add_item_outcomes(run_id, "c1", outcomes)
        store.add_item_outcomes(other, "c1", [ItemOutcome("course", "8", "skipped")])
        rows = list(store.iter_item_outcomes(run_id))
        assert len(rows) == 1501
        assert rows[0].learner_mail == "u0@x.io"
        assert rows[0].created_at == clock.now
        errors = list(store.iter_item_outcomes(run_id, outcome="error"))
        assert [(e.kind, e.external_id, e.message) for e in errors] == [
            ("course", "7", "400 invalid launchUrl")
        ]
        assert store.count_item_outcomes(run_id) == {"unmatched": 1500, "error": 1}
        assert store.count_item_outcomes(other) == {"skipped": 1}


class TestBulkOperations:
    def test_pending_until_finished(self, store: Store, clock: FakeClock) -> None:
        """A recorded operation is pending (with its context) until it is finished."""
        run_id = store.start_run("c1", "courses", dry_run=False, now=clock.now)
        store.record_bulk_operation(
            "c1", run_id, "op-1", "courses", 10_000, clock.now, context={"hashes": {"1": "h"}}
        )
        store.record_bulk_operation("c1", run_id, "op-2", "stats", 5, clock.now + timedelta(1))
        assert store.pending_bulk_operations("c1") == [
            BulkOpRow(
                op_id="op-1",
                connection_id="c1",
                run_id=run_id,
                op_type="courses",
                item_count=10_000,
                status="pending",
                submitted_at=clock.now,
                finished_at=None,
                context={"hashes": {"1": "h"}},
            ),
            BulkOpRow(
                op_id="op-2",
                connection_id="c1",
                run_id=run_id,
                op_type="stats",
                item_count=5,
                status="pending",
                submitted_at=clock.now + timedelta(1),
                finished_at=None,
            ),
        ]
        store.finish_bulk_operation("op-1", "succeeded", clock.now + timedelta(minutes=2))
        assert [op.op_id for op in store.pending_bulk_operations("c1")] == ["op-2"]
        done = store.get_bulk_operation("op-1")
        assert done is not None
        assert (done.status, done.finished_at) == ("succeeded", clock.now + timedelta(minutes=2))

    def test_recording_twice_is_a_noop(self, store: Store, clock: FakeClock) -> None:
        """Re-recording an op id (a resumed run) keeps the first record."""
        store.record_bulk_operation("c1", None, "op-1", "courses", 3, clock.now)
        store.record_bulk_operation("c1", None, "op-1", "courses", 99, clock.now)
        assert [op.item_count for op in store.pending_bulk_operations("c1")] == [3]

    def test_finish_checks_its_input(self, store: Store, clock: FakeClock) -> None:
        """Finishing an unknown op raises LookupError; finishing as 'pending' is refused."""
        with pytest.raises(LookupError):
            store.finish_bulk_operation("nope", "succeeded", clock.now)
        store.record_bulk_operation("c1", None, "op-1", "courses", 3, clock.now)
        with pytest.raises(ValueError, match="pending"):
            store.finish_bulk_operation("op-1", "pending", clock.now)
