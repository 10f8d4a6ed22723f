from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from udemy360.store import StatState
from udemy360.sync import ArchiveGuardTripped
from udemy360.sync.plan import (
    KnownItem,
    KnownStat,
    ListingTally,
    check_archive,
    next_retry_at,
    plan_course_tags,
    plan_item,
    plan_statistic,
)

NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def _known(**fields: object) -> KnownItem:
    base: dict[str, object] = {"external_id": "1", "payload_hash": "h1", "course_id": "c1"}
    base.update(fields)
    return KnownItem(**base)  # type: ignore[arg-type]


class TestPlanItem:
    def test_new_item_is_created(self) -> None:
        """An item the store has never seen is created."""
        assert plan_item("h1", None, NOW) == "create"

    def test_same_hash_is_unchanged(self) -> None:
        """An active item whose mapped hash did not move is left alone."""
        assert plan_item("h1", _known(), NOW) == "unchanged"

    def test_new_hash_is_updated(self) -> None:
        """A changed mapped payload is re-sent."""
        assert plan_item("h2", _known(), NOW) == "update"

    def test_archived_item_is_restored(self) -> None:
        """An archived item that is listed again is upserted and restored, even if unchanged."""
        assert plan_item("h1", _known(archived=True), NOW) == "restore"

    def test_never_created_item_is_created(self) -> None:
        """An item with no 360Learning course id (it failed before) is created again."""
        assert plan_item("h1", _known(course_id=None, payload_hash=None), NOW) == "create"

    def test_failed_item_waits_for_its_retry_time(self) -> None:
        """A failed item is deferred until next_retry_at, then sent again."""
        later = NOW + timedelta(minutes=5)
        failed = _known(failed=True, payload_hash=None, next_retry_at=later)
        assert plan_item("h1", failed, NOW) == "deferred"
        assert plan_item("h1", failed, later) == "update"


class TestNextRetryAt:
    @pytest.mark.parametrize(
        ("attempts", "hours"), [(1, 1), (2, 2), (3, 4), (5, 16), (6, 24), (40, 24)]
    )
    def test_backoff_doubles_and_caps_at_a_day(self, attempts: int, hours: int) -> None:
        """The wait doubles per failed attempt and never exceeds one day."""
        assert next_retry_at(attempts, NOW, timedelta(hours=1)) == NOW + timedelta(hours=hours)


class TestListingTally:
    def test_complete_when_counts_add_up(self) -> None:
        """Items, problems and skipped records summed over pages must equal the count."""
        tally = ListingTally("courses")
        tally.add_page(5, items=2, problems=1, skipped=0)
        tally.add_page(5, items=1, problems=0, skipped=1)
        assert tally.complete

    def test_short_listing_is_incomplete(self) -> None:
        """A listing that read fewer records than announced is incomplete."""
        tally = ListingTally("courses")
        tally.add_page(5, items=3, problems=0, skipped=0)
        assert not tally.complete
        assert "read 3 of 5" in tally.describe()

    def test_total_changing_between_pages_is_incomplete(self) -> None:
        """A count that moves mid-listing makes the listing untrustworthy."""
        tally = ListingTally("courses")
        tally.add_page(4, items=2, problems=0, skipped=0)
        tally.add_page(5, items=2, problems=0, skipped=0)
        assert not tally.complete

    def test_a_listing_the_client_cut_short_is_incomplete(self) -> None:
        """Records adding up to a count that lies low do not make a listing complete."""
        tally = ListingTally("courses")
        tally.add_page(2, items=2, problems=0, skipped=0, stop="2 records read, next ignored")
        assert not tally.complete
        assert "next ignored" in tally.describe()

    def test_a_listing_cut_short_stops_only_an_archive(self) -> None:
        """Read up to its count, a listing that offered more syncs, but archives nothing."""
        tally = ListingTally("courses")
        tally.add_page(2, items=2, problems=0, skipped=0, stop="next ignored")
        check_archive(0, 10, listings=[tally], max_share=0.1, allow_mass_archive=False)
        with pytest.raises(ArchiveGuardTripped, match="next ignored"):
            check_archive(1, 10, listings=[tally], max_share=0.1, allow_mass_archive=True)


class TestCheckArchive:
    def _complete(self) -> list[ListingTally]:
        tally = ListingTally("courses")
        tally.add_page(10, items=10, problems=0, skipped=0)
        return [tally]

    def test_within_share_is_allowed(self) -> None:
        """Archiving up to the configured share of active items passes."""
        check_archive(10, 100, listings=self._complete(), max_share=0.10, allow_mass_archive=False)

    def test_above_share_refuses_with_fields(self) -> None:
        """Archiving more than the share raises with the numbers for the report."""
        with pytest.raises(ArchiveGuardTripped) as info:
            check_archive(
                11, 100, listings=self._complete(), max_share=0.10, allow_mass_archive=False
            )
        assert (info.value.reason, info.value.would_archive, info.value.active) == (
            "mass_archive",
            11,
            100,
        )
        assert "allow_mass_archive" in info.value.message

    def test_override_allows_mass_archive(self) -> None:
        """The explicit override lets a large archive through."""
        check_archive(90, 100, listings=self._complete(), max_share=0.1, allow_mass_archive=True)

    def test_incomplete_listing_never_archives(self) -> None:
        """Even the override cannot archive after an incomplete listing."""
        tally = ListingTally("courses")
        tally.add_page(10, items=9, problems=0, skipped=0)
        with pytest.raises(ArchiveGuardTripped) as info:
            check_archive(1, 100, listings=[tally], max_share=0.5, allow_mass_archive=True)
        assert info.value.reason == "incomplete_listing"


class TestPlanCourseTags:
    def test_merges_with_foreign_tags(self) -> None:
        """Wanted tags are added next to tags someone else put on the course."""
        plan = plan_course_tags(["human"], [], ["t1", "t2"])
        assert plan.tag_ids == ("human", "t1", "t2")
        assert plan.ours == {"t1", "t2"}
        assert plan.changed

    def test_removes_only_our_unwanted_tags(self) -> None:
        """A tag we added that is no longer wanted goes; a foreign one stays."""
        plan = plan_course_tags(["human", "t1", "t2"], ["t1", "t2"], ["t2"])
        assert plan.tag_ids == ("human", "t2")
        assert plan.ours == {"t2"}

    def test_foreign_tag_that_is_wanted_is_not_claimed(self) -> None:
        """A wanted tag already put there by someone else is never counted as ours."""
        plan = plan_course_tags(["t1"], [], ["t1"])
        assert plan.ours == frozenset()
        assert not plan.changed
        assert plan_course_tags(["t1"], plan.ours, []).tag_ids == ("t1",)

    def test_caps_at_one_hundred_tags(self) -> None:
        """No more than 100 tag ids are ever put on a course."""
        current = [f"h{i}" for i in range(99)]
        plan = plan_course_tags(current, [], ["a", "b"])
        assert len(plan.tag_ids) == 100
        assert plan.ours == {"a"}


class TestPlanStatistic:
    def test_new_row_for_known_course_is_sent(self) -> None:
        """A first statistic for a synced course is sent."""
        assert plan_statistic("h", None, course_known=True, full=False) == "send"

    def test_row_for_unknown_course_is_held(self) -> None:
        """A statistic for a course 360Learning does not have yet is held back."""
        assert plan_statistic("h", None, course_known=False, full=False) == "hold"

    def test_held_row_is_sent_once_course_arrives(self) -> None:
        """A held statistic is sent once its course is known, even if unchanged."""
        held = KnownStat("h", StatState.HELD, completed=False, first_activity_at=None)
        assert plan_statistic("h", held, course_known=True, full=False) == "send"

    def test_completed_is_final(self) -> None:
        """An enrollment once sent as completed is never sent again."""
        done = KnownStat("h", StatState.SENT, completed=True, first_activity_at=None)
        assert plan_statistic("other", done, course_known=True, full=True) == "completed"

    def test_unchanged_sent_row_is_not_resent(self) -> None:
        """A statistic whose payload did not change is not sent, even on a full pull."""
        sent = KnownStat("h", StatState.SENT, completed=False, first_activity_at=None)
        assert plan_statistic("h", sent, course_known=True, full=True) == "unchanged"
        assert plan_statistic("h2", sent, course_known=True, full=False) == "send"

    def test_unmatched_is_resent_on_change_or_full(self) -> None:
        """Unmatched learners are retried when their row changes or on a full reconciliation."""
        unmatched = KnownStat("h", StatState.UNMATCHED, completed=False, first_activity_at=None)
        assert plan_statistic("h", unmatched, course_known=True, full=False) == "unchanged"
        assert plan_statistic("h2", unmatched, course_known=True, full=False) == "send"
        assert plan_statistic("h", unmatched, course_known=True, full=True) == "send"
