from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Env, make_env
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.store import RunStatus, StatState, Store

ROOT = Path(__file__).resolve().parents[2]


def _catalog(env: Env) -> dict[str, object]:
    return {
        ext: (env.lms.world.courses[cid].data, env.lms.world.courses[cid].status)
        for ext, cid in env.course_ids().items()
    }


def _attempts(env: Env) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    world = env.lms.world
    return {
        (world.users[user_id].mail, world.courses[course_id].external_id): [
            (a.progress, a.time_spent, a.first_activity_at, a.last_activity_at, a.completed_at)
            for a in rows
        ]
        for (user_id, course_id), rows in world.attempts.items()
    }


def _kill_mid_run(
    env: Env, tmp_path: Path, job: str, polls_before: int, udemy_url: str, lms_url: str
) -> None:
    """Start the engine in a subprocess and SIGKILL it while it waits for its first bulk op."""
    env.lms.faults.bulk_delays(pending=0.3, queued=0.0, per_item=0.0)
    udemy_creds = {
        **env.udemy_sb.credentials_dict(),
        "base_url": env.udemy_sb.base_url(udemy_url),
    }
    l360_creds = {
        "client_id": env.lms.client_id,
        "client_secret": env.lms.client_secret,
        "base_url": lms_url,
    }
    config = {
        "store": f"sqlite:///{tmp_path / 'state.db'}",
        "integration_id": env.options.integration_id,
        "owner_id": env.options.owner_id,
        "udemy_creds": json.dumps(udemy_creds),
        "l360_creds": json.dumps(l360_creds),
        "today": env.today.isoformat(),
        "job": job,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e._engine_process", json.dumps(config)],
        cwd=ROOT,
        # the child imports the same udemy360 as this process, whichever checkout that is
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    try:
        while _bulk_polls(env) <= polls_before:
            assert proc.poll() is None, "the engine ended before it could be killed"
            assert time.monotonic() < deadline, "the engine never submitted a bulk operation"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    env.lms.faults.bulk_delays(pending=0.0, queued=0.0, per_item=0.0)


def _upserted(env: Env, start: int = 0) -> list[str]:
    """externalIds of every course upsert the sandbox received from request ``start`` on."""
    ids: list[str] = []
    for r in env.lms.requests[start:]:
        if r.method == "PUT" and r.path.startswith("/api/v2/bulk/") and r.path.endswith("/courses"):
            body = r.json if isinstance(r.json, dict) else {}
            ids += [str(item["externalId"]) for item in body.get("input", [])]
    return ids


def _bulk_polls(env: Env) -> int:
    return sum(
        1
        for r in env.lms.requests
        if r.method == "GET" and r.path.startswith("/api/v2/bulk/operations/")
    )


@pytest.mark.e2e
class TestKillAndResume:
    async def test_killed_runs_resume_to_the_uninterrupted_state(self, tmp_path: Path) -> None:
        """Runs SIGKILLed mid-run end, once started again, like uninterrupted runs."""
        reference = await make_env(courses=20, activity_rows=60)
        reference.set_options(course_batch_size=5, stats_batch_size=10)
        await reference.courses()
        reference.next_day()
        await reference.stats()

        env = await make_env(courses=20, activity_rows=60)
        env.store.close()
        # a real clock: the killed process's 10-minute lease is taken over because it is dead
        env.store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
        env.store.connections.ensure("acme", udemy_account="acme", group_id=env.lms.group_id)
        env.store.connections.set_integration("acme", env.options.integration_id)
        env.set_options(course_batch_size=5, stats_batch_size=10)

        with (
            serve_in_thread(env.udemy_sb.app) as udemy_url,
            serve_in_thread(env.lms.app) as lms_url,
        ):
            urls = (udemy_url, lms_url)
            _kill_mid_run(env, tmp_path, "courses", _bulk_polls(env), *urls)
            assert env.store.bulk.pending("acme")  # recorded before waiting
            killed_sent = _upserted(env)
            assert killed_sent
            resumed_from = len(env.lms.requests)
            report = await env.courses()
            assert report.status == "succeeded"
            assert not env.store.bulk.pending("acme")
            # the killed run's row no longer says "running": the next run closed it
            statuses = [(r.job, r.status) for r in env.store.runs.list("acme")]
            assert statuses == [
                ("courses", RunStatus.SUCCEEDED),
                ("courses", RunStatus.INTERRUPTED),
            ]
            assert _catalog(env) == _catalog(reference)
            # the resumed run sends only what the killed run had not: each course exactly once,
            # as in the uninterrupted reference run
            resumed_sent = _upserted(env, resumed_from)
            assert not set(resumed_sent) & set(killed_sent)
            assert Counter(killed_sent + resumed_sent) == Counter(_upserted(reference))
            env.next_day()
            report = await env.courses()
            assert (report.counts["created"], report.counts["updated"]) == (0, 0)

            env.next_day()
            _kill_mid_run(env, tmp_path, "stats", _bulk_polls(env), *urls)
            report = await env.stats()
        assert report.status == "succeeded"
        assert _attempts(env) == _attempts(reference)


class TestCancelledStatistics:
    async def test_resumed_statistics_keep_their_first_activity(self) -> None:
        """A statistics batch recovered after a crash is recorded as sent, not sent again."""
        env = await make_env(courses=10, activity_rows=0)
        await env.courses()
        start = env.today - timedelta(days=3)
        env.udemy_sb.tenant.advance_learner(0, ID_BASE + 4, progress=10, at=start)
        env.udemy_sb.tenant.advance_learner(0, ID_BASE + 4, progress=40, at=env.today)
        env.lms.faults.bulk_delays(pending=10_000.0, queued=0.0, per_item=0.0)
        run = asyncio.create_task(env.stats())
        for _ in range(100_000):  # until the import is recorded, before it ends
            if env.store.bulk.pending("acme"):
                break
            await asyncio.sleep(0)
        run.cancel()  # the process dies while 360Learning processes the import
        with pytest.raises(asyncio.CancelledError):
            await run
        env.lms.process_bulk()
        env.lms.faults.bulk_delays(pending=0.0, queued=0.0, per_item=0.0)
        posts = _stat_posts(env)
        assert posts == 1
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["created"] == 1  # recorded from the resumed operation
        assert _stat_posts(env) == posts  # nothing sent again
        key = (str(ID_BASE + 4), learner_email(0))
        row = env.store.stats.get("acme", [key])[key]
        assert row.state == StatState.SENT
        assert row.first_activity_at == start
        assert [a["progress"] for a in env.attempts(learner_email(0), str(ID_BASE + 4))] == [40]
        env.close()


def _stat_posts(env: Env) -> int:
    return sum(
        1
        for r in env.lms.requests
        if r.method == "POST" and r.path.startswith("/api/v2/bulk/") and r.path.endswith("/stats")
    )
