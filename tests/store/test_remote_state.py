"""Store support for a changed integration, deleted tags and statistics sent from the store."""

from __future__ import annotations

from datetime import timedelta

from udemy360.sandbox.seed import learner_email
from udemy360.store import ItemState, ItemUpdate, StatState, StatUpdate, Store

from .conftest import FakeClock
from .factories import STAT_PAYLOAD, item_update

PAYLOAD = STAT_PAYLOAD


def _item(ext: str, **changes: object) -> ItemUpdate:
    return item_update(ext, **{"default_lang": "fr", **changes})


def _synced(store: Store, clock: FakeClock) -> None:
    """Connection c1 synced into integration int-1: items, tags, statistics, a pending op."""
    store.set_integration("c1", "int-1")
    store.upsert_item_results("c1", [_item("101"), _item("102", state=ItemState.ARCHIVED)])
    store.save_tag("c1", "Development", "t1")
    store.set_item_tags("c1", "101", ["t1"])
    store.upsert_stats(
        "c1",
        [
            StatUpdate(
                "101",
                learner_email(0),
                StatState.SENT,
                "h",
                first_activity_at=clock.now,
                completed=True,
            )
        ],
    )
    store.record_bulk_operation("c1", None, "op-1", "courses", 1, clock.now, context={"a": 1})


class TestIntegrationChange:
    def test_new_integration_forgets_the_remote_state(self, store: Store, clock: FakeClock) -> None:
        """A different integration id resets items, statistics, tag links and pending ops."""
        _synced(store, clock)
        store.set_integration("c1", "int-2")
        items = store.get_items("c1", ["101", "102"])
        for row in items.values():
            assert (row.payload_hash, row.course_id, row.state) == (None, None, ItemState.ACTIVE)
            assert row.archived_at is None
        assert items["101"].default_lang == "fr"  # Udemy-side facts stay
        [stat] = store.iter_stats("c1")
        assert (stat.state, stat.payload_hash, stat.first_activity_at, stat.completed) == (
            StatState.HELD,
            None,
            None,
            False,
        )
        assert store.get_item_tags("c1", "101") == set()
        assert store.get_tag_ids("c1") == {"development": "t1"}  # tags belong to the platform
        assert store.pending_bulk_operations("c1") == []
        connection = store.get_connection("c1")
        assert connection is not None
        assert connection.integration_id == "int-2"

    def test_cleared_integration_also_resets(self, store: Store, clock: FakeClock) -> None:
        """Deleting the integration (id set to None) forgets its courses too."""
        _synced(store, clock)
        store.set_integration("c1", None)
        assert store.get_items("c1", ["101"])["101"].course_id is None

    def test_same_integration_keeps_everything(self, store: Store, clock: FakeClock) -> None:
        """Recording the same id again (set-up adopting it) changes nothing."""
        _synced(store, clock)
        store.set_integration("c1", "int-1")
        assert store.get_items("c1", ["101"])["101"].course_id == "lms-101"
        assert store.get_item_tags("c1", "101") == {"t1"}
        assert len(store.pending_bulk_operations("c1")) == 1


class TestDeletedTags:
    def test_delete_tags_drops_ids_and_links(self, store: Store) -> None:
        """Forgetting a tag id removes it and our links to it, and nothing else."""
        store.save_tag("c1", "Development", "t1")
        store.save_tag("c1", "Design", "t2")
        store.upsert_item_results("c1", [_item("101")])
        store.set_item_tags("c1", "101", ["t1", "t2"])
        store.delete_tags("c1", ["t1"])
        assert store.get_tag_ids("c1") == {"design": "t2"}
        assert store.get_item_tags("c1", "101") == {"t2"}


class TestResendableStats:
    def test_failed_rows_due_with_payload_are_returned(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Held rows and failed rows due for retry (with payload, attempts left) come back."""
        store.upsert_item_results("c1", [_item("101")])
        later = clock.now + timedelta(hours=1)
        store.upsert_stats(
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
                StatUpdate("101", learner_email(5), StatState.UNMATCHED, "h"),
            ],
        )
        found = sorted(
            r.learner_mail for r, _ in store.iter_resendable_stats("c1", clock.now, max_attempts=5)
        )
        assert found == [learner_email(0), learner_email(1)]
        due_later = sorted(
            r.learner_mail for r, _ in store.iter_resendable_stats("c1", later, max_attempts=5)
        )
        assert due_later == [learner_email(0), learner_email(1), learner_email(2)]
        row = store.get_stats("c1", [("101", learner_email(2))])[("101", learner_email(2))]
        assert (row.attempts, row.next_retry_at) == (1, later)

    def test_expire_held_without_payload(self, store: Store, clock: FakeClock) -> None:
        """Only held rows without a payload whose course is active are expired."""
        store.upsert_item_results("c1", [_item("101"), _item("102", course_id=None)])
        store.upsert_stats(
            "c1",
            [
                StatUpdate("101", learner_email(0), StatState.HELD, "h"),
                StatUpdate("101", learner_email(1), StatState.HELD, "h", payload=PAYLOAD),
                StatUpdate("102", learner_email(2), StatState.HELD, "h"),
            ],
        )
        assert store.expire_held_stats("c1", "gone", clock.now) == 1
        states = {r.learner_mail: (r.state, r.last_error) for r in store.iter_stats("c1")}
        assert states == {
            learner_email(0): (StatState.FAILED, "gone"),
            learner_email(1): (StatState.HELD, None),
            learner_email(2): (StatState.HELD, None),
        }


class TestThreads:
    def test_file_database_supports_threads_memory_does_not(self, store: Store) -> None:
        """A pooled store may be used from worker threads; the shared in-memory one may not."""
        with Store.open("sqlite://") as memory:
            assert not memory.supports_threads
        assert store.supports_threads
