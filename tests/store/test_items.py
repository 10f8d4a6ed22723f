"""Catalog items: bulk upserts, batched lookups, streaming, archive/restore, refused values."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from udemy360.domain import ItemKind
from udemy360.store import ItemRow, ItemState, ItemUpdate, Store, StoreDataError
from udemy360.store._db import PAGE_SIZE
from udemy360.store.records import ItemRecord

from .conftest import FakeClock
from .factories import item_update
from .tables import count


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
        store.items.upsert(
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
        row = store.items.get("c1", ["1"])["1"]
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
        store.items.upsert("c1", batch)
        first = store.items.get("c1", [u.external_id for u in batch])
        clock.advance(60)
        store.items.upsert("c1", batch)
        second = store.items.get("c1", [u.external_id for u in batch])
        assert count(store, ItemRecord, connection_id="c1") == 50
        assert {k: _comparable(v) for k, v in second.items()} == {
            k: _comparable(v) for k, v in first.items()
        }
        assert all(r.updated_at == clock.now for r in second.values())
        assert all(r.created_at == clock.now - timedelta(seconds=60) for r in second.values())

    def test_failure_keeps_course_id_and_overwrites_hash(self, store: Store) -> None:
        """A failed resend keeps the known course id and sent data, and records the error."""
        store.items.upsert("c1", [_update(1, video_url="v", seen_at=None)])
        store.items.upsert(
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
        row = store.items.get("c1", ["1"])["1"]
        assert (row.state, row.course_id, row.payload_hash) == (ItemState.FAILED, "lms-1", None)
        assert (row.last_error, row.attempts, row.video_url) == ("400 invalid launchUrl", 1, "v")

    def test_a_bad_row_writes_nothing(self, store: Store) -> None:
        """A batch is atomic: one invalid row (3,000th) and none of the batch is stored."""
        batch = [_update(i) for i in range(1, 3000)]
        batch.append(_update(3000, kind="quiz"))
        with pytest.raises(IntegrityError):
            store.items.upsert("c1", batch)
        assert count(store, ItemRecord, connection_id="c1") == 0

    def test_rows_are_scoped_by_connection(self, store: Store) -> None:
        """The same externalId in two connections is two independent rows."""
        store.connections.ensure("c2", udemy_account="other", group_id="g2")
        store.items.upsert("c1", [_update(1)])
        store.items.upsert("c2", [_update(1, course_id="elsewhere")])
        assert store.items.get("c1", ["1"])["1"].course_id == "lms-1"
        assert store.items.get("c2", ["1"])["1"].course_id == "elsewhere"
        assert (
            count(store, ItemRecord, connection_id="c1")
            == count(store, ItemRecord, connection_id="c2")
            == 1
        )


class TestLookups:
    def test_get_batches_more_than_500_keys(self, store: Store) -> None:
        """1,200 keys (three IN chunks) plus unknown ones return exactly the known items."""
        store.items.upsert("c1", [_update(i) for i in range(1, 1201)])
        wanted = [str(i) if i % 10 else f"lp-{i}" for i in range(1, 1201)]
        found = store.items.get("c1", [*wanted, "missing", wanted[0]])
        assert sorted(found) == sorted(wanted)
        assert found["lp-10"].kind == "learning_path"

    def test_iter_streams_every_page_and_filters_by_kind(self, store: Store) -> None:
        """items.iter yields every row across pages, and only one kind when asked."""
        n = PAGE_SIZE * 2 + 5
        store.items.upsert("c1", [_update(i) for i in range(1, n + 1)])
        streamed = [r.external_id for r in store.items.iter("c1")]
        assert sorted(streamed) == sorted(str(i) if i % 10 else f"lp-{i}" for i in range(1, n + 1))
        paths = list(store.items.iter("c1", kind="learning_path"))
        assert len(paths) == n // 10
        assert {r.kind for r in paths} == {"learning_path"}
        assert count(store, ItemRecord, connection_id="c1") == n

    def test_iter_of_empty_connection(self, store: Store) -> None:
        """A connection with no items streams nothing."""
        assert list(store.items.iter("c1")) == []
        assert count(store, ItemRecord, connection_id="c1") == 0


class TestMarks:
    def test_mark_seen(self, store: Store, clock: FakeClock) -> None:
        """mark_seen stamps only the listed items of the connection."""
        store.items.upsert("c1", [_update(i) for i in range(1, 4)])
        clock.advance(3600)
        store.items.mark_seen("c1", ["1", "3", "absent"], clock.now)
        items = store.items.get("c1", ["1", "2", "3"])
        assert [items[k].seen_at for k in ("1", "2", "3")] == [clock.now, None, clock.now]

    def test_archive_then_restore(self, store: Store, clock: FakeClock) -> None:
        """Archived items get state and time; restored ones are active again with no time."""
        store.items.upsert("c1", [_update(i) for i in range(1, 4)])
        store.items.mark_archived("c1", ["1", "2"], clock.now)
        archived = store.items.get("c1", ["1", "2", "3"])
        assert [archived[k].state for k in ("1", "2", "3")] == [
            ItemState.ARCHIVED,
            ItemState.ARCHIVED,
            ItemState.ACTIVE,
        ]
        assert archived["1"].archived_at == clock.now
        clock.advance(60)
        store.items.mark_restored("c1", ["1"], clock.now)
        row = store.items.get("c1", ["1"])["1"]
        assert (row.state, row.archived_at, row.updated_at) == (ItemState.ACTIVE, None, clock.now)

    def test_upsert_of_archived_state_keeps_first_archive_time(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Re-recording an archived item keeps when it was archived; an active upsert clears it."""
        store.items.upsert("c1", [_update(1, state=ItemState.ARCHIVED)])
        archived_at = clock.now
        clock.advance(10)
        store.items.upsert("c1", [_update(1, state=ItemState.ARCHIVED)])
        assert store.items.get("c1", ["1"])["1"].archived_at == archived_at
        store.items.upsert("c1", [_update(1)])
        assert store.items.get("c1", ["1"])["1"].archived_at is None

    def test_failed_upsert_keeps_retry_bookkeeping(self, store: Store, clock: FakeClock) -> None:
        """A failed item's attempts and next retry time are stored as given."""
        later = clock.now + timedelta(hours=1)
        store.items.upsert(
            "c1", [_update(1, state=ItemState.FAILED, attempts=3, next_retry_at=later)]
        )
        row = store.items.get("c1", ["1"])["1"]
        assert (row.state, row.attempts, row.next_retry_at) == (ItemState.FAILED, 3, later)


class TestDefaultLang:
    def test_upsert_writes_it_and_none_keeps_it(self, store: Store) -> None:
        """An upsert stores the mapped defaultLang; a later update without one keeps it."""
        store.items.upsert("c1", [item_update("1", default_lang="fr")])
        assert store.items.get("c1", ["1"])["1"].default_lang == "fr"
        store.items.upsert("c1", [item_update("1", state=ItemState.FAILED, last_error="x")])
        assert store.items.get("c1", ["1"])["1"].default_lang == "fr"
        store.items.upsert("c1", [item_update("1", default_lang="de")])
        assert store.items.get("c1", ["1"])["1"].default_lang == "de"

    def test_set_default_langs_fills_existing_rows(self, store: Store) -> None:
        """Languages of existing rows are set in one call; unknown ids are ignored."""
        store.items.upsert("c1", [item_update("1"), item_update("2")])
        store.items.set_default_langs("c1", {"1": "en", "2": "zh_tw", "3": "fr"})
        rows = store.items.get("c1", ["1", "2", "3"])
        assert {k: r.default_lang for k, r in rows.items()} == {"1": "en", "2": "zh_tw"}


class TestSeenMarks:
    def test_max_seen_at(self, store: Store, clock: FakeClock) -> None:
        """The latest seen mark of the connection comes back as aware UTC (None when unset)."""
        assert store.items.max_seen_at("c1") is None
        store.items.upsert("c1", [item_update("1"), item_update("2")])
        store.items.mark_seen("c1", ["1"], clock.now)
        store.items.mark_seen("c1", ["2"], clock.now + timedelta(seconds=5))
        assert store.items.max_seen_at("c1") == clock.now + timedelta(seconds=5)


class TestRefusedValues:
    def test_id_beyond_64_bits_raises_store_data_error(self, store: Store) -> None:
        """A Udemy id of 2**70 in a batch raises StoreDataError and writes none of the batch."""
        batch = [_update(i) for i in range(1, 100)]
        batch.append(_update(100, udemy_id=2**70))
        with pytest.raises(StoreDataError) as info:
            store.items.upsert("c1", batch)
        assert info.value.operation == "items.upsert"
        assert str(2**70) not in str(info.value)
        assert count(store, ItemRecord, connection_id="c1") == 0

    def test_nul_byte_in_external_id(self, store: Store, backend: str) -> None:
        """A NUL byte in text is refused by PostgreSQL as a StoreDataError; SQLite keeps it."""
        row = _update(1, external_id="1\x00x")
        if backend == "postgresql":
            with pytest.raises(StoreDataError, match=r"items\.upsert"):
                store.items.upsert("c1", [_update(2), row])
            assert count(store, ItemRecord, connection_id="c1") == 0
        else:
            store.items.upsert("c1", [_update(2), row])
            assert sorted(store.items.get("c1", ["2", "1\x00x"])) == ["1\x00x", "2"]

    def test_lone_surrogate_raises_store_data_error(self, store: Store) -> None:
        """A lone surrogate in text cannot be encoded: StoreDataError, nothing written."""
        with pytest.raises(StoreDataError):
            store.items.upsert("c1", [_update(2), _update(1, video_url="https://x/\ud800")])
        assert count(store, ItemRecord, connection_id="c1") == 0
