"""The catalog job, through the engine's entry point against the sandboxes."""

from __future__ import annotations

from tests.e2e.conftest import Env, make_env
from udemy360.sync.context import ENDPOINT_FAILURE_BUDGET


def _tag_puts(env: Env) -> int:
    return sum(
        1
        for r in env.lms.requests
        if r.method == "PUT" and r.path.startswith("/api/v2/courses/") and r.path.endswith("/tags")
    )


class TestEndpointBudget:
    async def test_a_tag_outage_costs_a_few_retry_budgets_not_one_per_course(self) -> None:
        """With the tags endpoint down, the run stops calling it after its budget and finishes."""
        env = await make_env(courses=20, learning_paths=0, tags_enabled=True)
        env.lms.faults.fail_next("PUT", "/api/v2/courses/", 503, "serviceUnavailable", times=10**6)
        report = await env.courses()
        assert report.status == "partial"
        assert report.counts["created"] == 20
        # each failing course cost the client's retries (6 attempts); then no more calls
        assert _tag_puts(env) == ENDPOINT_FAILURE_BUDGET * 6
        assert report.counts["tags_deferred"] == 20 - ENDPOINT_FAILURE_BUDGET
        assert any("tags endpoint kept failing" in e for e in report.errors)
        env.lms.faults.clear()
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert report.counts["tagged"] == 20

    async def test_one_course_refused_does_not_spend_the_budget(self) -> None:
        """A per-course refusal (4xx) is that course's failure: the others are still tagged."""
        env = await make_env(courses=8, learning_paths=0, tags_enabled=True)
        env.lms.faults.fail_next("PUT", "/api/v2/courses/", 400, "invalidInput", times=5)
        report = await env.courses()
        assert report.counts["failed"] == 5
        assert report.counts["tagged"] == 3
        assert report.counts.get("tags_deferred", 0) == 0


class TestUnpairableResults:
    async def test_a_result_naming_another_item_is_not_trusted(self) -> None:
        """An echo of another course fails the item it was for; the next run sends it again."""
        env = await make_env(courses=4, learning_paths=0)
        env.lms.faults.unpairable_results("echo_other", index=1)
        report = await env.courses()
        assert report.status == "partial"
        assert report.counts["created"] == 3
        assert report.counts["failed"] == 1
        assert any("did not match what was sent" in e for e in report.errors)
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert report.counts["created"] + report.counts["updated"] == 1
        assert report.counts["unchanged"] == 3


class TestHostileListing:
    async def test_an_endless_next_link_ends_the_listing_and_archives_nothing(self) -> None:
        """A server that keeps sending a forward ``next`` is read up to ``count``, then left."""
        env = await make_env(courses=5, learning_paths=0)
        assert (await env.courses()).status == "succeeded"
        env.udemy_sb.faults.endless_next("courses/list/")
        env.next_day()
        report = await env.courses()
        assert report.counts["unchanged"] == 5
        assert report.counts.get("archived", 0) == 0
        assert env.active_external_ids() == set(env.course_ids())
