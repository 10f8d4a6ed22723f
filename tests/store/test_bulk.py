"""Bulk operations: recorded before waiting, pending until finished."""

from __future__ import annotations

from datetime import timedelta

import pytest

from udemy360.store import BulkOpRow, Store
from udemy360.store.records import BulkOperationRecord

from .conftest import FakeClock
from .tables import rows


class TestBulkOperations:
    def test_pending_until_finished(self, store: Store, clock: FakeClock) -> None:
        """A recorded operation is pending (with its context) until it is finished."""
        run_id = store.runs.start("c1", "courses", dry_run=False, now=clock.now)
        store.bulk.record(
            "c1", run_id, "op-1", "courses", 10_000, clock.now, context={"hashes": {"1": "h"}}
        )
        store.bulk.record("c1", run_id, "op-2", "stats", 5, clock.now + timedelta(1))
        assert store.bulk.pending("c1") == [
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
        store.bulk.finish("op-1", "succeeded", clock.now + timedelta(minutes=2))
        assert [op.op_id for op in store.bulk.pending("c1")] == ["op-2"]
        [done] = rows(store, BulkOperationRecord, op_id="op-1")
        assert (done["status"], done["finished_at"], done["context"]) == (
            "succeeded",
            clock.now + timedelta(minutes=2),
            {"hashes": {"1": "h"}},
        )

    def test_recording_twice_is_a_noop(self, store: Store, clock: FakeClock) -> None:
        """Re-recording an op id (a resumed run) keeps the first record."""
        store.bulk.record("c1", None, "op-1", "courses", 3, clock.now)
        store.bulk.record("c1", None, "op-1", "courses", 99, clock.now)
        assert [op.item_count for op in store.bulk.pending("c1")] == [3]

    def test_finish_checks_its_input(self, store: Store, clock: FakeClock) -> None:
        """Finishing an unknown op raises LookupError; finishing as 'pending' is refused."""
        with pytest.raises(LookupError):
            store.bulk.finish("nope", "succeeded", clock.now)
        store.bulk.record("c1", None, "op-1", "courses", 3, clock.now)
        with pytest.raises(ValueError, match="pending"):
            store.bulk.finish("op-1", "pending", clock.now)

    def test_finish_can_clear_the_context(self, store: Store, clock: FakeClock) -> None:
        """Once its results are recorded, an operation's (large) context can be dropped."""
        store.bulk.record("c1", None, "op-1", "courses", 1, clock.now, context={"items": [["1"]]})
        store.bulk.finish("op-1", "completed", clock.now, clear_context=True)
        [done] = rows(store, BulkOperationRecord, op_id="op-1")
        assert (done["status"], done["context"]) == ("completed", {})
