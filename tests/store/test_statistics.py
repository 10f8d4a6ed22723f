"""Learner statistics: upserts and their rules, what is resent from the store, unmatched rows."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from udemy360.sandbox.seed import learner_email
from udemy360.store import (
    StatRow,
    StatState,
    StatUpdate,
    Store,
    StoreDataError,
    UnmatchedLearner,
    UnmatchedSummary,
)
from udemy360.store.records import StatRecord

from .conftest import FakeClock
from .factories import STAT_PAYLOAD, item_update
from .tables import count, rows

PAYLOAD = STAT_PAYLOAD


def _stat(i: int, course: str = "101", **changes: object) -> StatUpdate:
    base = StatUpdate(
        external_course_id=course,
        learner_mail=learner_email(i),
        state=StatState.SENT,
        payload_hash=f"h{i}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _row(store: Store, course: str, mail: str) -> StatRow:
    return store.stats.get("c1", [(course, mail)])[(course, mail)]


class TestUpsert:
    def test_upsert_then_read_back(self, store: Store, clock: FakeClock) -> None:
        """Every field of an upserted statistic comes back."""
        first = clock.now - timedelta(days=3)
        store.stats.upsert(
            "c1",
            [_stat(1, first_activity_at=first, completed=True, last_sent_at=clock.now, run_id=7)],
        )
        key = ("101", learner_email(1))
        assert store.stats.get("c1", [key]) == {
            key: StatRow(
                connection_id="c1",
                external_course_id="101",
                learner_mail=learner_email(1),
                payload_hash="h1",
                first_activity_at=first,
                completed=True,
                state=StatState.SENT,
                last_error=None,
                last_sent_at=clock.now,
                run_id=7,
                created_at=clock.now,
                updated_at=clock.now,
            )
        }

    def test_get_batches_more_than_500_keys(self, store: Store) -> None:
        """1,100 keys over two courses come back, unknown keys are left out."""
        updates = [_stat(i, course=str(100 + i % 2)) for i in range(1100)]
        store.stats.upsert("c1", updates)
        keys = [(r.external_course_id, r.learner_mail) for r in updates]
        found = store.stats.get("c1", [*keys, ("999", learner_email(1))])
        assert set(found) == set(keys)
        assert found[keys[5]].key == keys[5]

    def test_upsert_is_idempotent(self, store: Store) -> None:
        """The same statistics upserted twice leave one row per (course, learner)."""
        updates = [_stat(i) for i in range(20)]
        store.stats.upsert("c1", updates)
        store.stats.upsert("c1", updates)
        assert count(store, StatRecord, connection_id="c1") == 20

    def test_completion_is_final(self, store: Store) -> None:
        """Once completed, a statistic stays completed whatever a later upsert says."""
        store.stats.upsert("c1", [_stat(1, completed=True)])
        store.stats.upsert("c1", [_stat(1, completed=False, payload_hash="h-later")])
        row = _row(store, "101", learner_email(1))
        assert (row.completed, row.payload_hash) == (True, "h-later")

    def test_none_keeps_first_activity_and_last_sent(self, store: Store, clock: FakeClock) -> None:
        """A held-back row written later without dates keeps the dates already stored."""
        first = clock.now - timedelta(days=1)
        store.stats.upsert("c1", [_stat(1, first_activity_at=first, last_sent_at=clock.now)])
        store.stats.upsert("c1", [_stat(1, state=StatState.FAILED, last_error="timeout")])
        row = _row(store, "101", learner_email(1))
        assert (row.first_activity_at, row.last_sent_at) == (first, clock.now)
        assert (row.state, row.last_error) == (StatState.FAILED, "timeout")

    def test_payload_round_trips_and_none_clears_it(self, store: Store) -> None:
        """A held row keeps its mapped payload; the update that sends it clears it."""
        key = ("101", learner_email(1))
        held = StatUpdate(*key, state=StatState.HELD, payload_hash="h", payload=PAYLOAD)
        store.stats.upsert("c1", [held])
        assert _row(store, *key).payload == PAYLOAD
        store.stats.upsert("c1", [StatUpdate(*key, state=StatState.SENT, payload_hash="h2")])
        row = _row(store, *key)
        assert (row.state, row.payload) == (StatState.SENT, None)

    def test_a_bad_row_writes_nothing(self, store: Store) -> None:
        """A stats batch with an unknown state is refused whole."""
        with pytest.raises(ValueError, match="bogus"):
            store.stats.upsert("c1", [*(_stat(i) for i in range(2500)), _stat(1, state="bogus")])
        assert count(store, StatRecord, connection_id="c1") == 0

    def test_refused_value_is_a_store_data_error(self, store: Store) -> None:
        """A lone surrogate in a learner mail fails the whole batch with StoreDataError."""
        batch = [*(_stat(i) for i in range(10)), _stat(99, learner_mail="x\ud800@example.com")]
        with pytest.raises(StoreDataError, match=r"stats\.upsert"):
            store.stats.upsert("c1", batch)
        assert count(store, StatRecord, connection_id="c1") == 0

    def test_overlapping_10k_upsert_updates_and_inserts(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        """A 10,000-row batch half over existing rows updates those and inserts the rest.

        Its speed is measured in bench/, not here.
        """
        with Store.open(f"sqlite:///{tmp_path}/big.db", clock=clock) as store:
            store.connections.ensure("c1", udemy_account="acme", group_id="g1")
            store.stats.upsert("c1", _stats(range(10_000), "old"))
            store.stats.upsert("c1", _stats(range(5_000, 15_000), "new", clock.now))
            assert count(store, StatRecord, connection_id="c1") == 15_000
            found = store.stats.get(
                "c1", [("0", "learner0@example.com"), ("0", "learner5000@example.com")]
            )
            assert found[("0", "learner0@example.com")].payload_hash == "old"
            assert found[("0", "learner5000@example.com")].payload_hash == "new"


def _stats(learners: range, payload_hash: str, first: datetime | None = None) -> list[StatUpdate]:
    return [
        StatUpdate(
            external_course_id=str(i % 50),
            learner_mail=f"learner{i}@example.com",
            state=StatState.SENT,
            payload_hash=payload_hash,
            first_activity_at=first,
        )
        for i in learners
    ]


class TestResendable:
    def test_held_and_due_failed_rows_of_active_courses(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Held rows and failed rows due for retry (with payload, attempts left) come back."""
        store.items.upsert("c1", [item_update("101", default_lang="fr")])
        later = clock.now + timedelta(hours=1)
        store.stats.upsert(
            "c1",
            [
                StatUpdate("101", learner_email(0), StatState.HELD, "h", payload=PAYLOAD),
                StatUpdate(
                    "101", learner_email(1), StatState.FAILED, "h", payload=PAYLOAD, attempts=1
                ),
                StatUpdate(
                    "101",
                    learner_email(2),
                    StatState.FAILED,
                    "h",
                    payload=PAYLOAD,
                    attempts=1,
                    next_retry_at=later,
                ),
                StatUpdate(
                    "101", learner_email(3), StatState.FAILED, "h", payload=PAYLOAD, attempts=5
                ),
                StatUpdate("101", learner_email(4), StatState.FAILED, "h", attempts=1),
                StatUpdate("101", learner_email(5), StatState.UNMATCHED, "h", payload=PAYLOAD),
            ],
        )
        now = [
            (r.learner_mail, lang)
            for r, lang in store.stats.iter_resendable("c1", clock.now, max_attempts=5)
        ]
        assert sorted(now) == [(learner_email(0), "fr"), (learner_email(1), "fr")]
        due_later = sorted(
            r.learner_mail for r, _ in store.stats.iter_resendable("c1", later, max_attempts=5)
        )
        assert due_later == [learner_email(0), learner_email(1), learner_email(2)]
        row = _row(store, "101", learner_email(2))
        assert (row.attempts, row.next_retry_at) == (1, later)

    def test_only_rows_of_synced_active_courses(self, store: Store, clock: FakeClock) -> None:
        """Held rows whose course is missing, unsynced or archived stay held."""
        store.items.upsert(
            "c1",
            [
                item_update("101", default_lang="fr"),
                item_update("102", course_id=None),
                item_update("103", state="archived"),
            ],
        )
        held = [
            StatUpdate(course, learner_email(i), StatState.HELD, "h", payload=PAYLOAD)
            for i, course in enumerate(["101", "102", "103", "104"])
        ]
        store.stats.upsert("c1", [*held, StatUpdate("101", learner_email(9), StatState.SENT, "h")])
        found = [
            (r.key, lang)
            for r, lang in store.stats.iter_resendable("c1", clock.now, max_attempts=5)
        ]
        assert found == [(("101", learner_email(0)), "fr")]

    def test_expire_held_without_payload(self, store: Store, clock: FakeClock) -> None:
        """Only held rows without a payload whose course is active are expired."""
        store.items.upsert("c1", [item_update("101"), item_update("102", course_id=None)])
        store.stats.upsert(
            "c1",
            [
                StatUpdate("101", learner_email(0), StatState.HELD, "h"),
                StatUpdate("101", learner_email(1), StatState.HELD, "h", payload=PAYLOAD),
                StatUpdate("102", learner_email(2), StatState.HELD, "h"),
            ],
        )
        assert store.stats.expire_held("c1", "gone", clock.now) == 1
        states = {
            r["learner_mail"]: (r["state"], r["last_error"])
            for r in rows(store, StatRecord, connection_id="c1")
        }
        assert states == {
            learner_email(0): ("failed", "gone"),
            learner_email(1): ("held", None),
            learner_email(2): ("held", None),
        }


def _unmatched(course: str, mail: str, error: str = "unknown learner") -> StatUpdate:
    return StatUpdate(
        course, mail, StatState.UNMATCHED, "h", payload=PAYLOAD, last_error=error, run_id=1
    )


class TestUnmatched:
    def test_unmatched_rows_keep_their_payload_and_stream(self, store: Store) -> None:
        """Unmatched rows are stored with their payload and streamed by iter_unmatched."""
        store.stats.upsert(
            "c1",
            [
                _unmatched("101", "a@x.io"),
                _unmatched("102", "a@x.io"),
                StatUpdate("101", "b@x.io", StatState.SENT, "h"),
                StatUpdate("101", "c@x.io", StatState.HELD, "h", payload=PAYLOAD),
            ],
        )
        found = sorted(store.stats.iter_unmatched("c1"), key=lambda r: r.key)
        assert [(r.key, r.payload) for r in found] == [
            (("101", "a@x.io"), PAYLOAD),
            (("102", "a@x.io"), PAYLOAD),
        ]

    def test_unmatched_since_is_kept_then_cleared(self, store: Store, clock: FakeClock) -> None:
        """The first time a row is unmatched is kept while it stays so, and cleared once sent."""
        first = clock.now
        store.stats.upsert("c1", [StatUpdate("101", "a@x.io", StatState.HELD, "h")])
        assert _row(store, "101", "a@x.io").unmatched_since is None
        clock.advance(3600)
        store.stats.upsert("c1", [_unmatched("101", "a@x.io")])
        assert _row(store, "101", "a@x.io").unmatched_since == first + timedelta(hours=1)
        clock.advance(86400)
        store.stats.upsert("c1", [_unmatched("101", "a@x.io", "still unknown")])
        row = _row(store, "101", "a@x.io")
        assert (row.unmatched_since, row.last_error) == (
            first + timedelta(hours=1),
            "still unknown",
        )
        store.stats.upsert("c1", [StatUpdate("101", "a@x.io", StatState.SENT, "h")])
        row = _row(store, "101", "a@x.io")
        assert (row.state, row.unmatched_since, row.payload) == (StatState.SENT, None, None)

    def test_unmatched_learners_are_aggregated(self, store: Store, clock: FakeClock) -> None:
        """Each learner comes once with their courses, first sighting and latest error."""
        start = clock.now
        store.stats.upsert("c1", [_unmatched("101", "a@x.io", "old error")])
        clock.advance(60)
        store.stats.upsert(
            "c1",
            [
                _unmatched("102", "a@x.io", "new error"),
                _unmatched("103", "a@x.io", "new error"),
                _unmatched("101", "b@x.io"),
                _unmatched("102", "c@x.io"),
                StatUpdate("104", "a@x.io", StatState.SENT, "h"),
            ],
        )
        store.connections.ensure("c2", udemy_account="other", group_id="g2")
        store.stats.upsert("c2", [_unmatched("101", "z@x.io")])
        later = start + timedelta(seconds=60)
        assert store.stats.unmatched_learners("c1") == [
            UnmatchedLearner("a@x.io", 3, ("101", "102", "103"), start, "new error"),
            UnmatchedLearner("b@x.io", 1, ("101",), later, "unknown learner"),
            UnmatchedLearner("c@x.io", 1, ("102",), later, "unknown learner"),
        ]
        assert [u.mail for u in store.stats.unmatched_learners("c1", limit=2)] == [
            "a@x.io",
            "b@x.io",
        ]
        assert store.stats.unmatched_summary("c1") == UnmatchedSummary(
            rows=5, learners=3, courses=3, first_seen=start
        )

    def test_nothing_unmatched(self, store: Store) -> None:
        """With no unmatched rows, the list is empty and the summary is zero."""
        store.stats.upsert("c1", [StatUpdate("101", "a@x.io", StatState.SENT, "h")])
        assert store.stats.unmatched_learners("c1") == []
        assert store.stats.unmatched_summary("c1") == UnmatchedSummary(0, 0, 0, None)
        assert list(store.stats.iter_unmatched("c1")) == []
