from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.e2e.conftest import Env, make_env
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.store import StatState, StatUpdate
from udemy360.store.records import ItemRecord
from udemy360.sync.statistics import MAX_STATISTIC_ATTEMPTS

COURSE = ID_BASE + 4
EXT = str(COURSE)


def _course_reads(env: Env) -> int:
    """GET /api/v2/integrations/{id}/courses/{externalId} calls the sandbox answered."""
    prefix = f"/api/v2/integrations/{env.options.integration_id}/courses/"
    return sum(1 for r in env.lms.requests if r.method == "GET" and r.path.startswith(prefix))


def _activity_queries(env: Env) -> list[str]:
    return [r.query for r in env.udemy_sb.requests if "user-course-activity" in r.path]


async def _env(*, http: bool = False) -> Env:
    """No generated activity: each test writes the rows it needs."""
    env = await make_env(courses=10, activity_rows=0, http=http)
    await env.courses()
    return env


@pytest.fixture
async def stats_env(transport: str) -> AsyncIterator[Env]:
    """``_env`` through each transport in turn (servers stopped afterwards)."""
    env = await _env(http=transport == "http")
    yield env
    env.close()


class TestStatisticMapping:
    """Over the ASGI transport and over real loopback HTTP (fixture ``stats_env``)."""

    async def test_activity_fields_land_as_the_design_says(self, stats_env: Env) -> None:
        """Every row of the activity table lands with its exact value in the attempt."""
        env = stats_env
        start = env.today - timedelta(days=3)
        env.udemy_sb.tenant.advance_learner(0, COURSE, progress=10, at=start)
        env.udemy_sb.tenant.advance_learner(0, COURSE, progress=42.9, minutes=2.5, at=env.today)
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["created"] == 1
        (attempt,) = env.attempts(learner_email(0), EXT)
        assert attempt["progress"] == 42  # rounded down
        assert attempt["timeSpent"] == 150_000
        assert attempt["firstActivityAt"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert attempt["lastActivityAt"] == env.today.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert attempt["lang"] == env.course(EXT)["defaultLang"]
        assert "completedAt" not in attempt

    async def test_completion_sets_progress_and_date(self, stats_env: Env) -> None:
        """A completion date gives progress 100 and becomes the attempt's completion time."""
        env = stats_env
        env.udemy_sb.tenant.advance_learner(
            1, COURSE, progress=20, at=env.today - timedelta(days=2)
        )
        env.udemy_sb.tenant.advance_learner(1, COURSE, complete=True, at=env.today)
        await env.stats()
        (attempt,) = env.attempts(learner_email(1), EXT)
        assert attempt["progress"] == 100
        assert attempt["completedAt"] == env.today.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class TestCourseLanguage:
    async def test_stats_run_reads_no_course_back(self) -> None:
        """After a catalog run the course language comes from the store: no course GET."""
        env = await _env()
        env.udemy_sb.tenant.advance_learner(0, COURSE, progress=10, at=env.today)
        env.udemy_sb.tenant.advance_learner(1, ID_BASE + 5, progress=20, at=env.today)
        reads = _course_reads(env)
        report = await env.stats()
        assert report.counts["created"] == 2
        assert _course_reads(env) == reads
        (attempt,) = env.attempts(learner_email(0), EXT)
        assert attempt["lang"] == env.course(EXT)["defaultLang"]

    async def test_rows_without_language_fall_back_then_get_one(self) -> None:
        """An item row with no language is read back once; the next catalog run stores it."""
        env = await _env()
        with env.store.engine.begin() as conn:
            conn.execute(update(ItemRecord).values(default_lang=None))
        env.udemy_sb.tenant.advance_learner(0, COURSE, progress=10, at=env.today)
        reads = _course_reads(env)
        await env.stats()
        assert _course_reads(env) == reads + 1
        (attempt,) = env.attempts(learner_email(0), EXT)
        assert attempt["lang"] == env.course(EXT)["defaultLang"]
        env.next_day()
        writes = env.lms.write_count
        await env.courses()
        assert env.lms.write_count == writes  # unchanged items: only the store is filled in
        assert (
            env.store.items.get("acme", [EXT])[EXT].default_lang == env.course(EXT)["defaultLang"]
        )


class TestStatisticRules:
    async def test_completion_is_final_and_first_activity_stable(self) -> None:
        """Daily runs update one attempt; after completion a dropped ratio is never sent."""
        env = await _env()
        tenant = env.udemy_sb.tenant
        tenant.advance_learner(2, COURSE, progress=10, at=env.today)
        await env.stats()
        env.next_day()
        tenant.advance_learner(2, COURSE, progress=60, at=env.today)
        report = await env.stats()
        assert report.counts["updated"] == 1
        assert len(env.attempts(learner_email(2), EXT)) == 1
        env.next_day()
        tenant.advance_learner(2, COURSE, complete=True, at=env.today)
        await env.stats()
        env.next_day()
        tenant.advance_learner(2, COURSE, retake=True, progress=30, at=env.today)
        writes = env.lms.write_count
        report = await env.stats()
        assert env.lms.write_count == writes
        (attempt,) = env.attempts(learner_email(2), EXT)
        assert attempt["progress"] == 100

    async def test_unchanged_day_sends_nothing(self) -> None:
        """A day with no change in Udemy sends no write."""
        env = await _env()
        env.udemy_sb.tenant.advance_learner(3, COURSE, progress=10, at=env.today)
        await env.stats()
        env.next_day()
        writes = env.lms.write_count
        report = await env.stats()
        assert env.lms.write_count == writes
        assert report.counts["created"] + report.counts["updated"] == 0

    async def test_unmatched_learners_reported_and_never_sent_while_unknown(self) -> None:
        """Unknown learners are reported every day and sent nothing while they stay unknown."""
        env = await _env()
        unknown = learner_email(24)  # seed: every 25th learner has no 360Learning account
        env.udemy_sb.tenant.advance_learner(24, COURSE, progress=10, at=env.today)
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["unmatched"] == 1
        assert report.unmatched == ((unknown, 1),)
        outcomes = list(env.store.runs.iter_outcomes(report.run_id or 0, outcome="unmatched"))
        assert [o.learner_mail for o in outcomes] == [unknown]
        env.next_day()
        writes = env.lms.write_count
        await env.stats(full=False)
        assert env.lms.write_count == writes
        report = await env.stats(full=True)
        assert report.counts["unmatched"] == 1
        assert env.lms.write_count == writes

    async def test_anonymized_rows_are_skipped_and_counted(self) -> None:
        """Rows without a usable email are skipped and counted, never sent."""
        env = await _env()
        env.udemy_sb.tenant.advance_learner("Anonymized User", COURSE, progress=10, at=env.today)
        report = await env.stats()
        assert report.counts["skipped"] == 1
        assert report.counts["created"] == 0

    async def test_held_row_is_sent_once_the_course_arrives(self) -> None:
        """Activity for a course not yet in 360Learning is held, then sent once it arrives."""
        env = await _env()
        new_course = env.udemy_sb.tenant.add_course(title="Brand new")
        env.udemy_sb.tenant.advance_learner(
            5, new_course, progress=50, at=env.today - timedelta(days=6)
        )
        report = await env.stats()
        assert report.counts["held"] == 1
        env.next_day()
        await env.courses()
        env.next_day()  # the row is now outside the incremental window
        pulls_before = len(_activity_queries(env))
        report = await env.stats(full=False)
        assert report.counts["created"] == 1
        (attempt,) = env.attempts(learner_email(5), str(new_course))
        assert attempt["progress"] == 50
        assert attempt["lang"] == env.course(str(new_course))["defaultLang"]
        # sent from the store: the run pulled its usual window, not the whole history
        pulls = _activity_queries(env)[pulls_before:]
        assert pulls
        assert all("from_date=" in query for query in pulls)
        key = (str(new_course), learner_email(5))
        row = env.store.stats.get("acme", [key])[key]
        assert (row.state, row.payload) == (StatState.SENT, None)
        env.next_day()
        writes = env.lms.write_count
        report = await env.stats(full=True)  # the full pull finds it unchanged
        assert env.lms.write_count == writes

    async def test_launch_then_sync(self) -> None:
        """START gives a completed 0% attempt; the next sync adds the Udemy progress (spec)."""
        env = await _env()
        mail = learner_email(6)
        env.lms.launch(mail=mail, course_id=str(env.course(EXT)["_id"]))
        launched = env.attempts(mail, EXT)
        assert [(a["progress"], "completedAt" in a) for a in launched] == [(0, True)]
        env.time.now += 3600
        env.udemy_sb.tenant.advance_learner(
            6, COURSE, progress=35, at=env.today + timedelta(hours=2)
        )
        await env.stats()
        attempts = env.attempts(mail, EXT)
        assert [(a["progress"], "completedAt" in a) for a in attempts] == [(0, True), (35, False)]
        env.next_day()
        env.udemy_sb.tenant.advance_learner(6, COURSE, progress=70, at=env.today)
        await env.stats()
        attempts = env.attempts(mail, EXT)
        assert [a["progress"] for a in attempts] == [0, 70]

    async def test_dry_run_sends_nothing(self) -> None:
        """A statistics dry run counts what it would send and writes nothing."""
        env = await _env()
        env.udemy_sb.tenant.advance_learner(7, COURSE, progress=10, at=env.today)
        writes = env.lms.write_count
        report = await env.stats(dry_run=True)
        assert report.counts["would_send"] == 1
        assert env.lms.write_count == writes


def _stat_posts(env: Env) -> int:
    """Statistics imports (POST /api/v2/bulk/integrations/{id}/stats) the sandbox answered."""
    return sum(
        1
        for r in env.lms.requests
        if r.method == "POST" and r.path.startswith("/api/v2/bulk/") and r.path.endswith("/stats")
    )


def _utc(env: Env) -> datetime:
    """The 360Learning sandbox's current time, as an aware datetime."""
    return datetime.fromtimestamp(env.time.now, UTC)


class TestLaunchBeforeSync:
    async def test_udemy_start_before_launch_leaves_only_the_launch_attempt(self) -> None:
        """Known limitation: a Udemy start before START in 360Learning updates nothing."""
        env = await _env()
        mail = learner_email(8)
        # the learner opens the course on Udemy first; no statistics run sends it yet
        env.udemy_sb.tenant.advance_learner(
            8, COURSE, progress=10, at=_utc(env) - timedelta(days=1)
        )
        # then presses START in 360Learning: a completed 0% attempt (defaultCompletion)
        env.lms.launch(mail=mail, course_id=str(env.course(EXT)["_id"]))
        env.time.now += 3600
        report = await env.stats()
        # accepted without error: firstActivityAt (the Udemy start) is earlier than the
        # completed launch attempt, and completed attempts are never updated (§15.2)
        assert report.status == "succeeded"
        assert report.counts["created"] == 1
        assert [(a["progress"], "completedAt" in a) for a in env.attempts(mail, EXT)] == [(0, True)]
        env.next_day()
        env.udemy_sb.tenant.advance_learner(8, COURSE, progress=80, at=env.today)
        report = await env.stats()
        assert report.counts["updated"] == 1
        assert [a["progress"] for a in env.attempts(mail, EXT)] == [0]  # still, silently


class TestHeldWithoutPayload:
    async def test_expired_after_one_full_pull(self) -> None:
        """A held row with no payload that a full pull did not find stops forcing full pulls."""
        env = await _env()
        await env.stats()  # the first (full) run
        env.store.stats.upsert(
            "acme", [StatUpdate(EXT, learner_email(9), StatState.HELD, "h", payload=None)]
        )
        env.next_day()
        pulls = len(_activity_queries(env))
        report = await env.stats(full=False)
        assert [q for q in _activity_queries(env)[pulls:] if "from_date=" in q] == []
        assert report.counts["expired"] == 1
        key = (EXT, learner_email(9))
        row = env.store.stats.get("acme", [key])[key]
        assert row.state == StatState.FAILED
        assert row.last_error is not None
        assert "no longer has this enrollment" in row.last_error
        env.next_day()
        pulls = len(_activity_queries(env))
        await env.stats(full=False)
        later = _activity_queries(env)[pulls:]
        assert later
        assert all("from_date=" in q for q in later)


class TestFailedStatistics:
    async def test_failed_row_is_resent_from_the_store(self) -> None:
        """A statistic 360Learning refused is sent again by a later run, without a new pull."""
        env = await _env()
        index = env.lms.world.external_index
        course_key = (env.options.integration_id, EXT)
        course_id = index.pop(course_key)  # 360Learning answers courseNotFound for this course
        env.udemy_sb.tenant.advance_learner(
            0, COURSE, progress=30, at=env.today - timedelta(days=10)
        )
        report = await env.stats()
        assert report.status == "partial"
        key = (EXT, learner_email(0))
        row = env.store.stats.get("acme", [key])[key]
        assert (row.state, row.attempts) == (StatState.FAILED, 1)
        assert row.payload is not None
        index[course_key] = course_id
        env.next_day()  # the row is outside the incremental window now
        report = await env.stats(full=False)
        assert report.status == "succeeded"
        assert report.counts["created"] == 1
        assert [a["progress"] for a in env.attempts(learner_email(0), EXT)] == [30]
        row = env.store.stats.get("acme", [key])[key]
        assert (row.state, row.payload, row.attempts) == (StatState.SENT, None, 0)

    async def test_resends_stop_after_the_last_attempt(self) -> None:
        """A row failing every time is sent at most MAX_STATISTIC_ATTEMPTS times, then waits."""
        env = await _env()
        env.lms.world.external_index.pop((env.options.integration_id, EXT))
        env.udemy_sb.tenant.advance_learner(
            0, COURSE, progress=30, at=env.today - timedelta(days=10)
        )
        await env.stats()
        for _ in range(MAX_STATISTIC_ATTEMPTS + 1):
            env.next_day()
            await env.stats(full=False)
        assert _stat_posts(env) == MAX_STATISTIC_ATTEMPTS
        key = (EXT, learner_email(0))
        assert env.store.stats.get("acme", [key])[key].attempts == MAX_STATISTIC_ATTEMPTS
        env.next_day()
        await env.stats(full=True)  # the weekly full pull still tries it
        assert _stat_posts(env) == MAX_STATISTIC_ATTEMPTS + 1


class TestPullWindow:
    async def test_incremental_window_and_weekly_full_pull(self) -> None:
        """Daily runs read from the last successful run minus 2 days; every 7th day is full."""
        env = await _env()
        first = await env.stats()
        assert first.full
        assert all("from_date=" not in q for q in _activity_queries(env))
        fulls = []
        for day in range(1, 8):
            env.next_day()
            pulls = len(_activity_queries(env))
            report = await env.stats()
            fulls.append(report.full)
            queries = _activity_queries(env)[pulls:]
            if day < 7:
                expected = (env.today - timedelta(days=1 + 2)).date().isoformat()
                assert queries
                assert all(f"from_date={expected}" in q for q in queries)
            else:
                assert all("from_date=" not in q for q in queries)
        assert fulls == [False] * 6 + [True]
        assert env.store.runs.list("acme", limit=1)[0].full  # stored with the run

    async def test_overlap_follows_the_option(self) -> None:
        """stats_overlap_days moves the start of the incremental window."""
        env = await _env()
        env.set_options(stats_overlap_days=5)
        await env.stats()
        env.next_day()
        pulls = len(_activity_queries(env))
        await env.stats()
        expected = (env.today - timedelta(days=1 + 5)).date().isoformat()
        queries = _activity_queries(env)[pulls:]
        assert queries
        assert all(f"from_date={expected}" in q for q in queries)
