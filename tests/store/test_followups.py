"""Store features the engine leans on: stored course language, held payloads, run statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from udemy360.sandbox.seed import learner_email
from udemy360.store import ItemState, RunStatus, StatState, StatUpdate, Store
from udemy360.store.records import RunRecord

from .conftest import FakeClock
from .factories import STAT_PAYLOAD, item_update

PAYLOAD = STAT_PAYLOAD
_item = item_update


class TestDefaultLang:
    def test_upsert_writes_it_and_none_keeps_it(self, store: Store) -> None:
        """An upsert stores the mapped defaultLang; a later update without one keeps it."""
        store.upsert_item_results("c1", [_item("1", default_lang="fr")])
        assert store.get_items("c1", ["1"])["1"].default_lang == "fr"
        store.upsert_item_results("c1", [_item("1", state=ItemState.FAILED, last_error="x")])
        assert store.get_items("c1", ["1"])["1"].default_lang == "fr"
        store.upsert_item_results("c1", [_item("1", default_lang="de")])
        assert store.get_items("c1", ["1"])["1"].default_lang == "de"

    def test_set_default_langs_fills_existing_rows(self, store: Store) -> None:
        """Languages of existing rows are set in one call; unknown ids are ignored."""
        store.upsert_item_results("c1", [_item("1"), _item("2")])
        store.set_default_langs("c1", {"1": "en", "2": "zh_tw", "3": "fr"})
        rows = store.get_items("c1", ["1", "2", "3"])
        assert {k: r.default_lang for k, r in rows.items()} == {"1": "en", "2": "zh_tw"}


class TestSeenMarks:
    def test_max_seen_at(self, store: Store, clock: FakeClock) -> None:
        """The latest seen mark of the connection comes back as aware UTC (None when unset)."""
        assert store.max_seen_at("c1") is None
        store.upsert_item_results("c1", [_item("1"), _item("2")])
        store.mark_seen("c1", ["1"], clock.now)
        store.mark_seen("c1", ["2"], clock.now + timedelta(seconds=5))
        assert store.max_seen_at("c1") == clock.now + timedelta(seconds=5)


class TestHeldPayload:
    def test_payload_round_trips_and_none_clears_it(self, store: Store) -> None:
        """A held row keeps its mapped payload; the update that sends it clears it."""
        key = ("101", learner_email(1))
        held = StatUpdate(*key, state=StatState.HELD, payload_hash="h", payload=PAYLOAD)
        store.upsert_stats("c1", [held])
        assert store.get_stats("c1", [key])[key].payload == PAYLOAD
        store.upsert_stats("c1", [StatUpdate(*key, state=StatState.SENT, payload_hash="h2")])
        row = store.get_stats("c1", [key])[key]
        assert (row.state, row.payload) == (StatState.SENT, None)

    def test_releasable_rows_are_those_of_active_synced_courses(self, store: Store) -> None:
        """Only held rows whose course is synced, active and a course come back, with its lang."""
        store.upsert_item_results(
            "c1",
            [
                _item("101", default_lang="fr"),
                _item("102", course_id=None),
                _item("103", state=ItemState.ARCHIVED),
            ],
        )
        rows = [
            StatUpdate(course, learner_email(i), StatState.HELD, "h", payload=PAYLOAD)
            for i, course in enumerate(["101", "102", "103", "104"])
        ]
        sent = StatUpdate("101", learner_email(9), StatState.SENT, "h")
        store.upsert_stats("c1", [*rows, sent])
        found = [(r.key, lang) for r, lang in store.iter_releasable_held_stats("c1")]
        assert found == [(("101", learner_email(0)), "fr")]


class TestRunStatuses:
    @pytest.mark.parametrize("status", [RunStatus.REFUSED, RunStatus.LOCKED])
    def test_refused_and_locked_are_stored(
        self, store: Store, clock: FakeClock, status: RunStatus
    ) -> None:
        """A refused or locked run is stored as such and never counts as successful."""
        run_id = store.start_run("c1", "courses", dry_run=False, now=clock.now)
        store.finish_run(
            run_id, status=status, ended_at=clock.now, counts={}, calls={}, errors=[], report={}
        )
        row = store.get_run(run_id)
        assert row is not None
        assert row.status == status
        assert store.last_successful_run("c1", "courses") is None

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


class TestBulkContext:
    def test_finish_can_clear_the_context(self, store: Store, clock: FakeClock) -> None:
        """Once its results are recorded, an operation's (large) context can be dropped."""
        store.record_bulk_operation(
            "c1", None, "op-1", "courses", 1, clock.now, context={"items": [["1"]]}
        )
        store.finish_bulk_operation("op-1", "completed", clock.now, clear_context=True)
        done = store.get_bulk_operation("op-1")
        assert done is not None
        assert (done.status, done.context) == ("completed", {})
