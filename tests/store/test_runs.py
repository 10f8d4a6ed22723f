"""Runs: start, progress, finish, interrupted runs, statuses, and per-item outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from udemy360.store import ItemOutcome, RunRow, RunStatus, Store, StoreDataError
from udemy360.store.records import ItemOutcomeRecord, RunRecord
from udemy360.store.runs import INTERRUPTED_ERROR

from .conftest import FakeClock
from .tables import count


def _finish(
    store: Store,
    run_id: int,
    status: RunStatus,
    at: datetime,
    *,
    errors: Sequence[str] = (),
) -> None:
    store.runs.finish(
        run_id, status=status, ended_at=at, counts={}, calls={}, errors=errors, report={}
    )


class TestRuns:
    def test_start_and_finish(self, store: Store, clock: FakeClock) -> None:
        """A run starts RUNNING and finishes with its status, counts, calls, errors and report."""
        run_id = store.runs.start("c1", "courses", dry_run=False, full=True, now=clock.now)
        running = store.runs.get(run_id)
        assert running is not None
        assert (running.status, running.ended_at, running.counts) == (RunStatus.RUNNING, None, {})
        ended = clock.now + timedelta(minutes=3)
        store.runs.finish(
            run_id,
            status=RunStatus.PARTIAL,
            ended_at=ended,
            counts={"created": 3, "failed": 1},
            calls={"PUT /bulk/courses": 1},
            errors=["course 7: invalid launchUrl"],
            report={"archived": [], "guard": {"tripped": False}},
        )
        assert store.runs.get(run_id) == RunRow(
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
        """get gives None; finish and save_progress raise LookupError for an unknown id."""
        assert store.runs.get(424242) is None
        with pytest.raises(LookupError):
            _finish(store, 424242, RunStatus.FAILED, clock.now)
        with pytest.raises(LookupError):
            store.runs.save_progress(424242, {}, {})

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
        run_id = store.runs.start(connection, job, now=clock.now, **kw)
        _finish(store, run_id, status, clock.now)
        return run_id

    def test_list_newest_first(self, store: Store, clock: FakeClock) -> None:
        """runs.list returns newest first, limited, for one connection or all."""
        store.connections.ensure("c2", udemy_account="b", group_id="g2")
        ids = [
            self._run(store, clock, c, "courses", RunStatus.SUCCEEDED, dry_run=False)
            for c in ("c1", "c2", "c1", "c1")
        ]
        assert [r.run_id for r in store.runs.list()] == ids[::-1]
        assert [r.run_id for r in store.runs.list("c1", limit=2)] == [ids[3], ids[2]]
        assert [r.run_id for r in store.runs.list("c2")] == [ids[1]]

    def test_last_successful(self, store: Store, clock: FakeClock) -> None:
        """Only finished, non-dry runs of the job count; PARTIAL counts; `full` filters."""
        full_ok = self._run(
            store, clock, "c1", "statistics", RunStatus.SUCCEEDED, dry_run=False, full=True
        )
        partial = self._run(store, clock, "c1", "statistics", RunStatus.PARTIAL, dry_run=False)
        self._run(store, clock, "c1", "statistics", RunStatus.FAILED, dry_run=False)
        self._run(store, clock, "c1", "statistics", RunStatus.SUCCEEDED, dry_run=True)
        self._run(store, clock, "c1", "statistics", RunStatus.INTERRUPTED, dry_run=False)
        self._run(store, clock, "c1", "courses", RunStatus.SUCCEEDED, dry_run=False)
        store.runs.start("c1", "statistics", dry_run=False, now=clock.now)  # still running
        last = store.runs.last_successful("c1", "statistics")
        assert last is not None
        assert last.run_id == partial
        last_full = store.runs.last_successful("c1", "statistics", full=True)
        assert last_full is not None
        assert last_full.run_id == full_ok
        assert store.runs.last_successful("c1", "tags") is None


class TestStatuses:
    @pytest.mark.parametrize("status", [RunStatus.REFUSED, RunStatus.LOCKED, RunStatus.INTERRUPTED])
    def test_stored_and_never_successful(
        self, store: Store, clock: FakeClock, status: RunStatus
    ) -> None:
        """A refused, locked or interrupted run is stored as such and never counts as successful."""
        run_id = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        _finish(store, run_id, status, clock.now)
        row = store.runs.get(run_id)
        assert row is not None
        assert row.status == status
        assert store.runs.last_successful("c1", "courses") is None

    def test_unknown_status_is_refused_by_the_database(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The CHECK constraint keeps statuses to the known set."""
        values = {
            "connection_id": "c1",
            "job": "courses",
            "dry_run": False,
            "full": False,
            "status": "bogus",
            "started_at": clock.now,
            "counts": {},
            "calls": {},
            "errors": [],
            "report": {},
        }
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(insert(RunRecord).values(values))


class TestInterrupted:
    def test_progress_is_saved_while_running(self, store: Store, clock: FakeClock) -> None:
        """save_progress stores the counts and calls so far without ending the run."""
        run_id = store.runs.start("c1", "statistics", dry_run=False, now=clock.now)
        assert store.runs.save_progress(run_id, {"created": 500}, {"GET /users": 3})
        row = store.runs.get(run_id)
        assert row is not None
        assert (row.status, row.ended_at) == (RunStatus.RUNNING, None)
        assert (row.counts, row.calls) == ({"created": 500}, {"GET /users": 3})

    def test_close_interrupted_keeps_saved_counts(self, store: Store, clock: FakeClock) -> None:
        """Every running run of the connection is closed as interrupted with its saved counts."""
        store.connections.ensure("c2", udemy_account="b", group_id="g2")
        dead = store.runs.start("c1", "statistics", dry_run=False, now=clock.now)
        store.runs.save_progress(dead, {"created": 1500}, {"POST /bulk/stats": 3})
        other_job = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        done = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        _finish(store, done, RunStatus.SUCCEEDED, clock.now, errors=["kept"])
        elsewhere = store.runs.start("c2", "courses", dry_run=False, now=clock.now)
        clock.advance(3600)
        assert store.runs.close_interrupted("c1", clock.now) == [dead, other_job]
        row = store.runs.get(dead)
        assert row is not None
        assert (row.status, row.ended_at, row.counts, row.calls, row.errors) == (
            RunStatus.INTERRUPTED,
            clock.now,
            {"created": 1500},
            {"POST /bulk/stats": 3},
            [INTERRUPTED_ERROR],
        )
        statuses = {r.run_id: r.status for r in store.runs.list(limit=10)}
        assert statuses[done] == RunStatus.SUCCEEDED
        assert statuses[elsewhere] == RunStatus.RUNNING
        assert store.runs.close_interrupted("c1", clock.now) == []

    def test_progress_of_a_closed_run_is_not_saved(self, store: Store, clock: FakeClock) -> None:
        """A run closed as interrupted keeps its counts when its old process saves again."""
        run_id = store.runs.start("c1", "statistics", dry_run=False, now=clock.now)
        store.runs.save_progress(run_id, {"created": 1}, {})
        store.runs.close_interrupted("c1", clock.now)
        assert not store.runs.save_progress(run_id, {"created": 99}, {})
        row = store.runs.get(run_id)
        assert row is not None
        assert (row.status, row.counts) == (RunStatus.INTERRUPTED, {"created": 1})


class TestItemOutcomes:
    def test_add_iter_and_count(self, store: Store, clock: FakeClock) -> None:
        """Outcomes are stored per run and stream back in order, optionally filtered."""
        run_id = store.runs.start("c1", "statistics", dry_run=False, now=clock.now)
        other = store.runs.start("c1", "statistics", dry_run=False, now=clock.now)
        outcomes = [
            ItemOutcome("statistic", "101", "unmatched", "unknown user", learner_mail=f"u{i}@x.io")
            for i in range(1500)
        ] + [ItemOutcome("course", "7", "error", "400 invalid launchUrl")]
        store.runs.add_outcomes(run_id, "c1", outcomes)
        store.runs.add_outcomes(other, "c1", [ItemOutcome("course", "8", "skipped")])
        found = list(store.runs.iter_outcomes(run_id))
        assert len(found) == 1501
        assert found[0].learner_mail == "u0@x.io"
        assert found[0].created_at == clock.now
        errors = list(store.runs.iter_outcomes(run_id, outcome="error"))
        assert [(e.kind, e.external_id, e.message) for e in errors] == [
            ("course", "7", "400 invalid launchUrl")
        ]
        assert store.runs.count_outcomes(run_id) == {"unmatched": 1500, "error": 1}
        assert store.runs.count_outcomes(other) == {"skipped": 1}

    def test_refused_message_writes_no_outcome(self, store: Store, clock: FakeClock) -> None:
        """A title with a lone surrogate in one outcome message stores none of the batch."""
        run_id = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        batch = [
            ItemOutcome("course", "1", "skipped", "ok"),
            ItemOutcome("course", "2", "skipped", "bad title: \ud800"),
        ]
        with pytest.raises(StoreDataError, match=r"runs\.add_outcomes"):
            store.runs.add_outcomes(run_id, "c1", batch)
        assert count(store, ItemOutcomeRecord, run_id=run_id) == 0

    def test_nul_byte_in_a_title(self, store: Store, clock: FakeClock, backend: str) -> None:
        """A title with a NUL byte is refused by PostgreSQL as a StoreDataError; SQLite keeps it."""
        run_id = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        batch = [ItemOutcome("course", "1", "skipped", "title: Python\x00 for all")]
        if backend == "postgresql":
            with pytest.raises(StoreDataError):
                store.runs.add_outcomes(run_id, "c1", batch)
            assert count(store, ItemOutcomeRecord, run_id=run_id) == 0
        else:
            store.runs.add_outcomes(run_id, "c1", batch)
            assert count(store, ItemOutcomeRecord, run_id=run_id) == 1
