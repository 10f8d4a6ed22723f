"""The run context: lease, closing dead runs, resuming operations, aborting cleanly."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import make_env
from udemy360.store import RunStatus
from udemy360.sync.resume import ItemBatch, SentItem, dump


class _ExplodingProgress:
    """A progress sink with a bug: it raises on the first page."""

    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, n: int = 1) -> None:
        raise RuntimeError("a bug in a progress display")

    def finish(self, task: str) -> None:
        pass


class TestInterruptedRuns:
    async def test_a_run_left_running_is_closed_as_interrupted_by_the_next(self) -> None:
        """A run row whose process died is closed as interrupted, with its saved counts."""
        env = await make_env(courses=5, learning_paths=0)
        dead = env.store.runs.start("acme", "courses", dry_run=False, now=env.now())
        env.store.runs.save_progress(dead, {"fetched": 3}, {})
        report = await env.courses()
        assert report.status == "succeeded"
        row = env.store.runs.get(dead)
        assert row is not None
        assert row.status == RunStatus.INTERRUPTED
        assert row.counts["fetched"] == 3
        assert row.ended_at is not None

    async def test_an_unexpected_error_closes_the_run_as_aborted(self) -> None:
        """A bug inside a run propagates, and the run row is not left running."""
        env = await make_env(courses=5, learning_paths=0)
        with pytest.raises(ExceptionGroup) as raised:
            await env.courses(progress=_ExplodingProgress())
        assert raised.group_contains(RuntimeError, match="a bug in a progress display")
        [row] = env.store.runs.list("acme")
        assert row.status == RunStatus.ABORTED
        assert any("aborted" in e for e in row.errors)
        report = await env.courses()
        assert report.status == "succeeded"


class TestUnrecordableOperation:
    async def test_results_the_store_refuses_never_block_the_next_run(self) -> None:
        """An operation whose results cannot be stored is closed, and runs go on."""
        env = await make_env(courses=3, learning_paths=0)
        assert (await env.courses()).status == "succeeded"
        target = sorted(env.course_ids())[0]
        async with env.lms_client() as l360:
            op = await l360.submit_archive(env.options.integration_id, [target])
        poisoned = SentItem(
            external_id=target, kind="course", udemy_id=2**70, hash="x", action="update"
        )
        env.store.bulk.record(
            "acme", None, op.id, "courses", 1, env.now(), context=dump(ItemBatch(items=(poisoned,)))
        )
        env.next_day()
        report = await env.courses()
        assert report.status in ("succeeded", "partial")
        assert any("could not be recorded" in e for e in report.errors)
        assert env.store.bulk.pending("acme") == []
        env.next_day()
        assert (await env.courses()).status == "succeeded"
