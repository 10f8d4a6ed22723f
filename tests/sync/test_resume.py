"""Crash-resume records: typed, versioned, and never trusted when they do not read back."""

from __future__ import annotations

from datetime import UTC, datetime

from udemy360.sync.resume import (
    RESUME_VERSION,
    ArchiveBatch,
    ItemBatch,
    SentArchive,
    SentItem,
    SentStat,
    StatBatch,
    dump,
    load,
)

T0 = datetime(2026, 1, 15, 5, 30, tzinfo=UTC)

STATS = StatBatch(
    items=(
        SentStat(
            course="900920",
            learner="ann@example.com",
            user_id="u1",
            hash="h",
            first_activity_at=T0,
            completed=False,
            was_sent=True,
            prior_first_activity_at=T0,
            attempts=2,
        ),
    )
)
ITEMS = ItemBatch(
    items=(
        SentItem(
            external_id="lp-7",
            kind="learning_path",
            udemy_id=7,
            hash="h",
            action="create",
            tag_names=("Design",),
            is_new=True,
        ),
    )
)


class TestResumeRecords:
    def test_each_batch_reads_back_as_written(self) -> None:
        """A stored batch is rebuilt field for field, by name, under its version."""
        archives = ArchiveBatch(items=(SentArchive(external_id="1", kind="course"),))
        for batch in (STATS, ITEMS, archives):
            stored = dump(batch)
            assert stored["version"] == RESUME_VERSION
            assert load(type(batch), stored) == batch

    def test_another_version_is_not_trusted(self) -> None:
        """A record of another version reads back as nothing (its items are sent again)."""
        assert load(StatBatch, {**dump(STATS), "version": RESUME_VERSION - 1}) is None
        assert load(StatBatch, {}) is None

    def test_a_damaged_or_foreign_record_is_not_trusted(self) -> None:
        """A record that does not validate as the expected kind reads back as nothing."""
        assert load(ItemBatch, dump(STATS)) is None
        damaged = dump(ITEMS)
        damaged["items"] = [{"external_id": "1", "kind": "webinar"}]
        assert load(ItemBatch, damaged) is None
