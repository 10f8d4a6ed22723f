"""Catalog items: bulk upserts, batched lookups, streaming, archive/restore, retries."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from udemy360.domain import ItemKind
from udemy360.store import ItemRow, ItemState, ItemUpdate, Store
from udemy360.store.queries import PAGE_SIZE

from .conftest import FakeClock


def _update(i: int, **changes: object) -> ItemUpdate:
    kind: ItemKind = "course" if i % 10 else "learning_path"
    base = ItemUpdate(
        external_id=str(i) if kind == "course" else f"lp-{i}",
        kind=kind,
        udemy_id=i,
        state=ItemState.ACTIVE,
        payload_hash=f"h{i}",
        course_id=f"lms-{i}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _comparable(row: ItemRow) -> ItemRow:
    return dataclasses.replace(row, updated_at=row.created_at)


class TestUpsertItemResults:
    def test_inserts_then_reads_back(self, store: Store, clock: FakeClock) -> None:
        """Every field of an upserted item comes back, timestamps as aware UTC."""
        sent = clock.now - timedelta(minutes=5)
        store.upsert_item_results(
            "c1",
            [
                _update(
                    1,
                    video_url="https://cdn.example/v.m3u8",
                    last_sent_at=sent,
                    seen_at=sent,
                    attempts=2,
                    last_error=None,
                )
            ],
        )
        row = store.get_items("c1", ["1"])["1"]
        assert row == ItemRow(
            connection_id="c1",
            external_id="1",
            kind="course",
            udemy_id=1,
            payload_hash="h1",
            course_id="lms-1",
            state=ItemState.ACTIVE,
            last_error=None,
            attempts=2,
            next_retry_at=None,
            video_url="https://cdn.example/v.m3u8",
            last_sent_at=sent,
            seen_at=sent,
            archived_at=None,
            created_at=clock.now,
            updated_at=clock.now,
        )
        assert row.last_sent_at is not None
        assert row.last_sent_at.utcoffset() == timedelta(0)

    def test_is_idempotent(self, store: Store, clock: FakeClock) -> None:
        """Upserting the same batch twice leaves one row per externalId, unchanged."""
        batch = [_update(i) for i in range(1, 51)]
        store.upsert_item_results("c1", batch)
        first = store.get_items("c1", [u.external_id for u in batch])
        clock.advance(60)
        store.upsert_item_results("c1", batch)
        second = store.get_items("c1", [u.external_id for u in batch])
        assert store.count_items("c1") == 50
        assert {k: _comparable(v) for k, v in second.items()} == {
            k: _comparable(v) for k, v in first.items()
        }
        assert all(r.updated_at == clock.now for r in second.values())
        assert all(r.created_at == clock.now - timedelta(seconds=60) for r in second.values())

    def test_failure_keeps_course_id_and_overwrites_hash(self, store: Store) -> None:
        """A failed resend keeps the known course id and sent data, and records the error."""
        store.upsert_item_results("c1", [_update(1, video_url="v", seen_at=None)])
        store.upsert_item_results(
            "c1",
            [
                _update(
                    1,
                    state=ItemState.FAILED,
                    course_id=None,
                    payload_hash=None,
                    last_error="400 invalid launchUrl",
                    attempts=1,
                    video_url=None,
                )
            ],
        )
        row = store.get_items("c1", ["1"])["1"]
        assert (row.state, row.course_id, row.payload_hash) == (ItemState.FAILED, "lms-1", None)
        assert (row.last_error, row.attempts, row.video_url) == ("400 invalid launchUrl", 1, "v")

    def test_a_bad_row_writes_nothing(self, store: Store) -> None:
        """A batch is atomic: one invalid row (3,000th) and none of the batch is stored."""
        batch = [_update(i) for i in range(1, 3000)]
        batch.append(_update(3000, kind="quiz"))
        with pytest.raises(IntegrityError):
            store.upsert_item_results("c1", batch)
        assert store.count_items("c1") == 0

    def test_rows_are_scoped_by_connection(self, store: Store) -> None:
        """The same externalId in two connections is two independent rows."""
        store.ensure_connection("c2", udemy_account="other", group_id="g2")
        store.upsert_item_results("c1", [_update(1)])
        store.upsert_item_results("c2", [_update(1, course_id="elsewhere")])
        assert store.get_items("c1", ["1"])["1"].course_id == "lms-1"
        assert store.get_items("c2", ["1"])["1"].course_id == "elsewhere"
        assert store.count_items("c1") == store.count_items("c2") == 1


class TestLookups:
    def test_get_items_batches_more_than_500_keys(self, store: Store) -> None:
        """1,200 keys (three IN chunks) plus unknown ones return exactly the known items."""
        store.upsert_item_results("c1", [_update(i) for i in range(1, 1201)])
        wanted = [str(i) if i % 10 else f"lp-{i}" for i in range(1, 1201)]
        found = store.get_items("c1", [*wanted, "missing", wanted[0]])
        assert sorted(found) == sorted(wanted)
        assert found["lp-10"].kind == "learning_path"

    def test_iter_items_streams_every_page_and_filters(self, store: Store) -> None:
        """iter_items yields every row across pages, and filters by kind and state."""
        n = PAGE_SIZE * 2 + 5
        store.upsert_item_results("c1", [_update(i) for i in range(1, n + 1)])
        store.mark_archived("c1", ["1", "2", "lp-10"], store.get_items("c1", ["1"])["1"].created_at)
        assert sum(1 for _ in store.iter_items("c1")) == n
        paths = list(store.iter_items("c1", kind="learning_path"))
        assert len(paths) == n // 10
        assert {r.kind for r in paths} == {"learning_path"}
        archived = {r.external_id for r in store.iter_items("c1", state=ItemState.ARCHIVED)}
        assert archived == {"1", "2", "lp-10"}
        assert {
            r.external_id
            for r in store.iter_items("c1", kind="learning_path", state=ItemState.ARCHIVED)
        } == {"lp-10"}
        assert store.count_items("c1") == n
        assert store.count_items("c1", kind="course", state=ItemState.ARCHIVED) == 2
        assert store.count_items("c1", state=ItemState.ACTIVE) == n - 3

    def test_iter_items_of_empty_connection(self, store: Store) -> None:
        """A connection with no items streams nothing."""
        assert list(store.iter_items("c1")) == []
        assert store.count_items("c1") == 0


class TestMarks:
    def test_mark_seen(self, store: Store, clock: FakeClock) -> None:
        """mark_seen stamps only the listed items of the connection."""
        store.upsert_item_results("c1", [_update(i) for i in range(1, 4)])
        clock.advance(3600)
        store.mark_seen("c1", ["1", "3", "absent"], clock.now)
        items = store.get_items("c1", ["1", "2", "3"])
        assert [items[k].seen_at for k in ("1", "2", "3")] == [clock.now, None, clock.now]

    def test_archive_then_restore(self, store: Store, clock: FakeClock) -> None:
        """Archived items get state and time; restored ones are active again with no time."""
        store.upsert_item_results("c1", [_update(i) for i in range(1, 4)])
        store.mark_archived("c1", ["1", "2"], clock.now)
        archived = store.get_items("c1", ["1", "2", "3"])
        assert [archived[k].state for k in ("1", "2", "3")] == [
            ItemState.ARCHIVED,
            ItemState.ARCHIVED,
            ItemState.ACTIVE,
        ]
        assert archived["1"].archived_at == clock.now
        clock.advance(60)
        store.mark_restored("c1", ["1"], clock.now)
        row = store.get_items("c1", ["1"])["1"]
        assert (row.state, row.archived_at, row.updated_at) == (ItemState.ACTIVE, None, clock.now)

    def test_upsert_of_archived_state_keeps_first_archive_time(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Re-recording an archived item keeps when it was archived; an active upsert clears it."""
        store.upsert_item_results("c1", [_update(1, state=ItemState.ARCHIVED)])
        archived_at = clock.now
        clock.advance(10)
        store.upsert_item_results("c1", [_update(1, state=ItemState.ARCHIVED)])
        assert store.get_items("c1", ["1"])["1"].archived_at == archived_at
        store.upsert_item_results("c1", [_update(1)])
        assert store.get_items("c1", ["1"])["1"].archived_at is None

    def test_items_due_for_retry(self, store: Store, clock: FakeClock) -> None:
        """Failed items are due when next_retry_at is unset or not in the future."""
        now = clock.now
        store.upsert_item_results(
            "c1",
            [
                _update(1, state=ItemState.FAILED),
                _update(2, state=ItemState.FAILED, next_retry_at=now),
                _update(3, state=ItemState.FAILED, next_retry_at=now + timedelta(seconds=1)),
                _update(4, next_retry_at=now - timedelta(days=1)),
            ],
        )
        assert {r.external_id for r in store.items_due_for_retry("c1", now)} == {"1", "2"}
        later = now + timedelta(hours=1)
        assert {r.external_id for r in store.items_due_for_retry("c1", later)} == {"1", "2", "3"}
