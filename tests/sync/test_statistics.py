"""The statistics job, through the engine's entry point against the sandboxes."""

from __future__ import annotations

from tests.e2e.conftest import make_env


class TestUnpairableResults:
    async def test_a_missing_result_is_a_failure_retried_later(self) -> None:
        """Results shifted by a missing one are not trusted: the batch is retried, not lost."""
        env = await make_env(courses=5, learning_paths=0, learners=10, activity_rows=20)
        await env.courses()
        env.lms.faults.unpairable_results("missing", index=0)
        report = await env.stats()
        assert report.status == "partial"
        failed = report.counts["failed"]
        assert failed >= 1
        assert any("did not match what was sent" in e for e in report.errors)
        env.next_day()
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["created"] + report.counts["updated"] == failed
