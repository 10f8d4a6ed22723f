from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from udemy360.sync import RunReport, SyncOptions
from udemy360.sync.report import Tally, calls_delta

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def _report(status: str = "succeeded") -> RunReport:
    return RunReport(
        run_id=7,
        connection_id="acme",
        job="courses",
        status=status,  # type: ignore[arg-type]
        dry_run=False,
        full=False,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=12.5),
        counts={"created": 3},
        calls={"udemy GET courses/list/": 2},
        errors=("course 1: boom",),
        unmatched=(("a@example.com", 2),),
    )


class TestRunReport:
    def test_duration(self) -> None:
        """Duration is the wall time between start and end."""
        assert _report().duration == 12.5

    def test_round_trips_through_dict(self) -> None:
        """A report saved with to_dict is rebuilt identically by from_dict."""
        report = _report("partial")
        assert RunReport.from_dict(report.to_dict()) == report


class TestTally:
    def test_snapshot_has_every_counter(self) -> None:
        """Counters nobody touched are reported as zero."""
        tally = Tally()
        tally.add("created", 2)
        counts = tally.snapshot_counts()
        assert counts["created"] == 2
        assert counts["archived"] == 0

    def test_errors_are_capped(self) -> None:
        """Past the cap, errors are summarised instead of growing without bound."""
        tally = Tally(max_errors=2)
        for i in range(5):
            tally.error(f"e{i}")
        assert tally.errors == ["e0", "e1", "… more errors are in the run's item outcomes"]


class TestCallsDelta:
    def test_only_calls_made_during_the_run(self) -> None:
        """Call counts are the difference between after and before, prefixed by API."""
        delta = calls_delta({"GET a": 2}, {"GET a": 5, "PUT b": 1}, "360")
        assert delta == {"360 GET a": 3, "360 PUT b": 1}


class TestSyncOptions:
    def test_rejects_batches_above_360learning_limits(self) -> None:
        """Batch sizes beyond the bulk API's limits are refused up front."""
        with pytest.raises(ValueError, match="archive_batch_size"):
            SyncOptions("c", "i", "o", "acme", archive_batch_size=1001)
