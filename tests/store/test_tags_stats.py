"""Tags (category → tag id, tags we attached) and learner statistics."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from udemy360.sandbox.seed import learner_email
from udemy360.store import StatRow, StatState, StatUpdate, Store, tag_key

from .conftest import FakeClock


class TestTags:
    def test_tag_ids_are_keyed_case_insensitively(self, store: Store) -> None:
        """Names are matched trimmed and lower-cased; a later save replaces the id, not the key."""
        store.save_tag("c1", "Data Science", "t1")
        store.save_tag("c1", " data science ", "t2")
        store.save_tag("c1", "Python", "t3")
        assert store.get_tag_ids("c1") == {"data science": "t2", "python": "t3"}
        assert tag_key("  Data SCIENCE") == "data science"

    def test_tags_are_scoped_by_connection(self, store: Store) -> None:
        """Another connection does not see our tags."""
        store.ensure_connection("c2", udemy_account="other", group_id="g2")
        store.save_tag("c1", "Python", "t1")
        assert store.get_tag_ids("c2") == {}

    def test_item_tags_are_replaced_as_a_set(self, store: Store) -> None:
        """set_item_tags replaces the set of tags we attached; duplicates collapse."""
        assert store.get_item_tags("c1", "1") == set()
        store.set_item_tags("c1", "1", ["t1", "t2", "t1"])
        store.set_item_tags("c1", "2", ["t9"])
        assert store.get_item_tags("c1", "1") == {"t1", "t2"}
        store.set_item_tags("c1", "1", ["t2", "t3"])
        assert store.get_item_tags("c1", "1") == {"t2", "t3"}
        store.set_item_tags("c1", "1", [])
        assert store.get_item_tags("c1", "1") == set()
        assert store.get_item_tags("c1", "2") == {"t9"}

    def test_get_items_tags_batches(self, store: Store) -> None:
        """Tags of many courses come back in one call; untagged courses are left out."""
        for i in range(0, 1100, 100):
            store.set_item_tags("c1", str(i), [f"t{i}", "common"])
        found = store.get_items_tags("c1", [str(i) for i in range(1100)])
        assert sorted(found, key=int) == [str(i) for i in range(0, 1100, 100)]
        assert found["1000"] == {"t1000", "common"}


def _stat(i: int, course: str = "101", **changes: object) -> StatUpdate:
    base = StatUpdate(
        external_course_id=course,
        learner_mail=learner_email(i),
        state=StatState.SENT,
        payload_hash=f"h{i}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class TestStats:
    def test_upsert_then_read_back(self, store: Store, clock: FakeClock) -> None:
        """Every field of an upserted statistic comes back."""
        first = clock.now - timedelta(days=3)
        store.upsert_stats(
            "c1",
            [_stat(1, first_activity_at=first, completed=True, last_sent_at=clock.now, run_id=7)],
        )
        key = ("101", learner_email(1))
        assert store.get_stats("c1", [key]) == {
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

    def test_get_stats_batches_more_than_500_keys(self, store: Store) -> None:
        """1,100 keys over two courses come back, unknown keys are left out."""
        rows = [_stat(i, course=str(100 + i % 2)) for i in range(1100)]
        store.upsert_stats("c1", rows)
        keys = [(r.external_course_id, r.learner_mail) for r in rows]
        found = store.get_stats("c1", [*keys, ("999", learner_email(1))])
        assert set(found) == set(keys)
        assert found[keys[5]].key == keys[5]

    def test_upsert_is_idempotent(self, store: Store) -> None:
        """The same statistics upserted twice leave one row per (course, learner)."""
        rows = [_stat(i) for i in range(20)]
        store.upsert_stats("c1", rows)
        store.upsert_stats("c1", rows)
        assert store.count_stats("c1") == 20

    def test_completion_is_final(self, store: Store) -> None:
        """Once completed, a statistic stays completed whatever a later upsert says."""
        store.upsert_stats("c1", [_stat(1, completed=True)])
        store.upsert_stats("c1", [_stat(1, completed=False, payload_hash="h-later")])
        row = store.get_stats("c1", [("101", learner_email(1))])[("101", learner_email(1))]
        assert (row.completed, row.payload_hash) == (True, "h-later")

    def test_none_keeps_first_activity_and_last_sent(self, store: Store, clock: FakeClock) -> None:
        """A held-back row written later without dates keeps the dates already stored."""
        first = clock.now - timedelta(days=1)
        store.upsert_stats("c1", [_stat(1, first_activity_at=first, last_sent_at=clock.now)])
        store.upsert_stats("c1", [_stat(1, state=StatState.FAILED, last_error="timeout")])
        row = store.get_stats("c1", [("101", learner_email(1))])[("101", learner_email(1))]
        assert (row.first_activity_at, row.last_sent_at) == (first, clock.now)
        assert (row.state, row.last_error) == (StatState.FAILED, "timeout")

    def test_iter_and_count_by_state(self, store: Store) -> None:
        """Statistics stream and count per state."""
        store.upsert_stats(
            "c1",
            [
                _stat(i, state=StatState.UNMATCHED if i % 3 == 0 else StatState.SENT)
                for i in range(30)
            ]
            + [_stat(99, course="102", state=StatState.HELD)],
        )
        unmatched = list(store.iter_stats("c1", state=StatState.UNMATCHED))
        assert {r.learner_mail for r in unmatched} == {learner_email(i) for i in range(0, 30, 3)}
        assert store.count_stats("c1") == 31
        assert store.count_stats("c1", state=StatState.HELD) == 1
        assert sum(1 for _ in store.iter_stats("c1")) == 31

    def test_a_bad_row_writes_nothing(self, store: Store) -> None:
        """A stats batch with an unknown state is refused whole."""
        with pytest.raises(ValueError, match="bogus"):
            store.upsert_stats("c1", [*(_stat(i) for i in range(2500)), _stat(1, state="bogus")])
        assert store.count_stats("c1") == 0

    def test_overlapping_10k_upsert_updates_and_inserts(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        """A 10,000-row batch half over existing rows updates those and inserts the rest.

        Its speed is measured in bench/, not here.
        """
        with Store.open(f"sqlite:///{tmp_path}/big.db", clock=clock) as store:
            store.ensure_connection("c1", udemy_account="acme", group_id="g1")
            store.upsert_stats("c1", _stats(range(10_000), "old"))
            store.upsert_stats("c1", _stats(range(5_000, 15_000), "new", clock.now))
            assert store.count_stats("c1") == 15_000
            rows = store.get_stats(
                "c1", [("0", "learner0@example.com"), ("0", "learner5000@example.com")]
            )
            assert rows[("0", "learner0@example.com")].payload_hash == "old"
            assert rows[("0", "learner5000@example.com")].payload_hash == "new"


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
