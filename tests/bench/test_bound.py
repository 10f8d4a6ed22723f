"""The benchmark's bound: tag calls wait for their batch's results and share the write budget."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bench.bound import BulkWork, Limits, Workload, compute_bound

LIMITS = Limits()


def catalog(**tags: int) -> Workload:
    """An initial catalog of 3,000 courses over 30 pages, with the given tag calls."""
    return Workload(udemy_pages=30, bulk=(BulkWork("courses", 3_000),), **tags)


class TestTagWrites:
    def test_no_tags_no_tag_writes(self) -> None:
        """Without tag calls the bound counts only the bulk submit."""
        bound = compute_bound(catalog(), LIMITS)
        assert (bound.tag_writes, bound.l360_writes) == (0, 1)

    def test_tag_puts_are_paced_by_the_write_budget(self) -> None:
        """3,000 tag replacements at 10 writes/s cannot end sooner than 300 s after the results."""
        plain = compute_bound(catalog(), LIMITS)
        tagged = compute_bound(catalog(tag_puts=3_000), LIMITS)
        assert tagged.tag_writes == 3_000
        assert tagged.l360_writes == 3_001
        # the first replacement waits for the batch's results; then one every 0.1 s
        assert tagged.seconds >= plain.seconds + 2_999 / LIMITS.l360_writes_per_second

    def test_tag_creates_share_the_budget_before_the_results(self) -> None:
        """Tags created while the catalog is read use write slots before the replacements."""
        puts_only = compute_bound(catalog(tag_puts=100), LIMITS)
        with_creates = compute_bound(catalog(tag_puts=100, tag_creates=20), LIMITS)
        assert with_creates.tag_writes == 120
        # the 20 creations fit before the batch's results: the end does not move
        assert with_creates.seconds == pytest.approx(puts_only.seconds)

    def test_reading_tags_first_costs_one_round_trip(self) -> None:
        """A course whose tags must be read first is written one latency later."""
        new = compute_bound(catalog(tag_puts=10), LIMITS)
        known = compute_bound(catalog(tag_puts=10, tag_reads=10), LIMITS)
        assert known.seconds == pytest.approx(new.seconds + LIMITS.l360_latency)
        assert known.l360_reads == new.l360_reads + 10

    def test_tag_puts_follow_their_own_batch(self) -> None:
        """With two batches, each batch's course is tagged after that batch's own results."""
        work = Workload(udemy_pages=200, bulk=(BulkWork("courses", 20_000),))
        plain = compute_bound(work, LIMITS)
        tagged = compute_bound(replace(work, tag_puts=2), LIMITS)
        # had both waited for the last results, the second would end a write gap (0.1 s) later
        assert tagged.seconds == pytest.approx(plain.seconds + LIMITS.l360_latency)
