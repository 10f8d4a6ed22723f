"""The poison records, pages and servers that once stopped the connector, end to end.

One test per defect reproduced in the engine's hardening work: each runs the scenario through
the engine's entry point against both sandboxes and checks that the run ends, says what was
wrong, and does not block the runs after it. (A failing tag endpoint, killed runs and results
the store refuses are covered in tests/sync/ and tests/e2e/test_resume.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.e2e._hostile import (
    ACTIVITY,
    COURSES,
    HostileEnv,
    SlowBodies,
    activity_record,
    course_record,
    make_hostile_env,
    pg_schema,
)
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.sync import RunReport

COURSE = ID_BASE + 2
EXT = str(COURSE)


MakeEnv = Callable[..., Awaitable[HostileEnv]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store under test: in-memory SQLite (None), or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
async def make() -> AsyncIterator[MakeEnv]:
    """``make_hostile_env``, with every env it made closed after the test."""
    made: list[HostileEnv] = []

    async def make_env(**kwargs: Any) -> HostileEnv:
        env = await make_hostile_env(**kwargs)
        made.append(env)
        return env

    yield make_env
    for env in made:
        env.close()


async def _sync_all(env: HostileEnv) -> tuple[RunReport, RunReport]:
    return await env.courses(), await env.stats()


def _errors(env: HostileEnv, report: RunReport) -> dict[str, str | None]:
    assert report.run_id is not None
    return {o.external_id: o.message for o in env.store.runs.iter_outcomes(report.run_id)}


class TestPoisonRecords:
    async def test_a_nul_byte_in_a_category(self, store_url: str | None, make: MakeEnv) -> None:
        """A NUL in a category (which once crashed the PostgreSQL store after the bulk
        operation was sent, every day) is removed: the course syncs, tags too, every day."""
        env = await make(store_url=store_url, courses=5, activity_rows=20, tags_enabled=True)
        env.udemy_sb.tenant.change_course(
            COURSE,
            categories=["Data\x00 Science"],
            primary_category={"id": 1, "title": "Dev\x00elopment"},
            primary_subcategory=None,
        )
        for day in range(3):
            courses, stats = await _sync_all(env)
            assert (courses.status, stats.status) == ("succeeded", "succeeded")
            assert courses.counts["created" if day == 0 else "unchanged"] == 5
            assert env.store.bulk.pending("acme") == []
            if day == 0:
                assert stats.counts["created"] > 0  # sync all reached the statistics
            env.next_day()
        assert env.course(EXT)["subjects"] == ["Data Science", "Development"]
        tags = {t.name for t in env.lms.world.tags.values()}
        assert {"Data Science", "Development"} <= tags

    async def test_an_id_of_2_pow_70(self, store_url: str | None, make: MakeEnv) -> None:
        """A course id beyond the store's 64 bits (which once crashed every run after its bulk
        operation) is reported and never sent; the others sync and statistics are reached."""
        env = await make(store_url=store_url, courses=5, activity_rows=20)
        env.udemy_sb.tenant.change_course(COURSE, id=2**70)
        for day in range(2):
            courses, stats = await _sync_all(env)
            assert courses.status == "partial"
            assert str(_errors(env, courses)[str(2**70)]).startswith("id: ")  # its reason
            assert courses.counts["created" if day == 0 else "unchanged"] == 4
            assert stats.status == "succeeded"
            assert env.store.bulk.pending("acme") == []
            env.next_day()
        assert EXT not in env.course_ids()
        assert str(2**70) not in env.course_ids()

    async def test_lone_surrogates_in_title_category_description_and_email(
        self, make: MakeEnv
    ) -> None:
        """A lone surrogate (which once crashed mapping every day) becomes U+FFFD: the course
        and the learner's statistic are synced with it, and the next days send nothing."""
        env = await make(courses=5, tags_enabled=True)
        env.udemy_sb.tenant.change_course(
            COURSE,
            title="Data \ud800 Science",
            categories=["AI \udfff"],
            primary_category=None,
            primary_subcategory=None,
            description="<p>Learn \ud83d and \ude00 then \ud83d\ude00</p>",
        )
        env.udemy_sb.tenant.advance_learner(
            "Jo\ud800@Example.com", COURSE, progress=30, at=env.today
        )
        env.lms.add_user("jo\ufffd@example.com")
        for day in range(3):
            courses, stats = await _sync_all(env)
            assert (courses.status, stats.status) == ("succeeded", "succeeded")
            sent = courses.counts["created"] + stats.counts["created"]
            assert sent == (6 if day == 0 else 0)
            env.next_day()
        course = env.course(EXT)
        assert course["name"] == "Data \ufffd Science"
        assert course["subjects"] == ["AI \ufffd"]
        assert course["description"] == "<p>Learn \ufffd and \ufffd then \U0001f600</p>"
        assert "AI \ufffd" in {t.name for t in env.lms.world.tags.values()}
        [attempt] = env.attempts("jo\ufffd@example.com", EXT)
        assert attempt["progress"] == 30

    async def test_a_lone_surrogate_in_an_unknown_learners_email_is_reported(
        self, make: MakeEnv
    ) -> None:
        """A learner email with a lone surrogate no 360Learning user has waits as unmatched."""
        env = await make(courses=5)
        env.udemy_sb.tenant.advance_learner(
            "x\ud800y@example.com", COURSE, progress=30, at=env.today
        )
        await env.courses()
        stats = await env.stats()
        assert stats.status == "succeeded"
        assert stats.unmatched == (("x\ufffdy@example.com", 1),)

    async def test_control_characters_sent_as_short_json_escapes(self, make: MakeEnv) -> None:
        """A page whose only control characters are JSON's ``\\b`` and ``\\f`` escapes (once
        judged safe text and passed on) is made safe like any other."""
        env = await make(learners=10)
        env.udemy_sb.faults.listing(COURSES, [course_record(COURSE, title="Data\x0cScience\x08")])
        report = await env.courses()
        assert report.status == "succeeded"
        assert env.course(EXT)["name"] == "DataScience"

    async def test_video_minutes_beyond_a_float_in_milliseconds(self, make: MakeEnv) -> None:
        """1e306 watched minutes (whose milliseconds overflow a float and once crashed every
        statistics run) are sent as an unknown time spent."""
        env = await make(learners=10)
        env.udemy_sb.faults.listing(COURSES, [course_record(COURSE)])
        row = activity_record(3, COURSE, num_video_consumed_minutes=1e306)
        env.udemy_sb.faults.listing(ACTIVITY, [row])
        courses, stats = await _sync_all(env)
        assert (courses.status, stats.status) == ("succeeded", "succeeded")
        [attempt] = env.attempts(learner_email(3), EXT)
        assert (attempt["progress"], attempt["timeSpent"]) == (40, 1)


class TestHostilePages:
    async def test_a_body_nested_100000_deep(self, make: MakeEnv) -> None:
        """A page nested 100,000 deep (once a RecursionError) ends the run with a clear error;
        nothing is archived, and the next day reads the listing again."""
        env = await make(courses=30, activity_rows=20)
        await _sync_all(env)
        env.next_day()
        env.udemy_sb.faults.nested(COURSES, depth=100_000, times=99)
        env.udemy_sb.faults.nested(ACTIVITY, depth=100_000, times=99)
        courses, stats = await _sync_all(env)
        for report in (courses, stats):
            assert report.status == "failed"
            assert any("nested too deeply" in e for e in report.errors)
            assert not any("Recursion" in e for e in report.errors)
        assert courses.counts["archived"] == 0
        assert len(env.active_external_ids()) == 30
        env.udemy_sb.faults.clear()
        env.next_day()
        courses, stats = await _sync_all(env)
        assert (courses.status, stats.status) == ("succeeded", "succeeded")

    @pytest.mark.parametrize("repeat", [False, True])
    async def test_ignored_page_size_and_a_next_link_that_never_ends(
        self, make: MakeEnv, repeat: bool
    ) -> None:
        """A server that ignores page_size and links to a next page for ever (once followed
        22,572 pages in 60 s) is read up to its count, in bounded pages, and left: what it
        listed syncs, but a listing cut short archives nothing."""
        env = await make(courses=30)
        env.udemy_sb.faults.ignore_page_size(COURSES, 7).endless_next(COURSES, repeat=repeat)
        report = await env.courses()
        assert (report.status, report.counts["created"]) == ("succeeded", 30)
        assert env.udemy_sb.requests.count(COURSES) == 5  # 30 records, 7 a page
        env.next_day()
        env.udemy_sb.tenant.retire_course(COURSE)
        report = await env.courses()
        assert report.status == "failed"
        assert any("listing incomplete, nothing archived" in e for e in report.errors)
        assert (report.counts["unchanged"], report.counts["archived"]) == (29, 0)
        assert EXT in env.active_external_ids()

    async def test_a_count_the_pages_never_reach_ends_on_an_empty_page(self, make: MakeEnv) -> None:
        """A count above what the server has, with endless empty pages, stops at the first
        empty page: the listing is incomplete, so nothing is archived."""
        env = await make(courses=30)
        await env.courses()
        env.next_day()
        env.udemy_sb.requests.clear()
        env.udemy_sb.tenant.retire_course(COURSE)
        env.udemy_sb.faults.ignore_page_size(COURSES, 7).endless_next(COURSES)
        for page in range(1, 8):
            env.udemy_sb.faults.envelope(COURSES, page, count=10_000)
        report = await env.courses()
        assert report.status == "failed"
        assert any("incomplete" in e for e in report.errors)
        assert report.counts["archived"] == 0
        assert env.udemy_sb.requests.count(COURSES) == 6  # 29 records, 7 a page, 1 empty page

    async def test_a_next_link_to_another_host_is_not_followed(self, make: MakeEnv) -> None:
        """Only the page number of a ``next`` link is used: over real HTTP, a link to another
        host still reads the next page from Udemy (the credentials never leave for it)."""
        env = await make(courses=30, http=True)
        env.udemy_sb.faults.ignore_page_size(COURSES, 7)  # ``next`` is followed page by page
        env.udemy_sb.faults.envelope(COURSES, 1, next="https://evil.example/steal?page=2")
        report = await env.courses()
        assert (report.status, report.counts["created"]) == ("succeeded", 30)
        assert env.udemy_sb.requests.count(COURSES) == 5

    async def test_a_count_that_lies_low_on_every_page_archives_nothing(
        self, make: MakeEnv
    ) -> None:
        """A count below the records a server still links to (once read as a complete listing
        whose tail was archived) leaves the listing incomplete: nothing is archived."""
        env = await make(courses=105, learning_paths=0)
        assert (await env.courses()).counts["created"] == 105
        env.next_day()
        env.udemy_sb.faults.envelope(COURSES, 1, count=100)
        env.udemy_sb.faults.envelope(COURSES, 2, count=100)
        report = await env.courses()
        assert report.status == "failed"
        assert any("listing incomplete, nothing archived" in e for e in report.errors)
        assert report.counts["archived"] == 0
        assert len(env.active_external_ids()) == 105


class TestSlowServers:
    async def test_udemy_trickling_the_body_ends_the_run_with_a_clear_error(
        self, make: MakeEnv
    ) -> None:
        """A Udemy server trickling its body (which once held a run and its lock for ever) is
        abandoned at the deadline, retried, and ends the run with a clear error."""
        env = await make(courses=5, deadline=0.2, attempts=2)
        env.udemy_sb.faults.trickle(COURSES, bytes_per_second=1, times=99)
        report = await env.courses()
        assert report.status == "failed"
        assert any("0.2 s deadline" in e for e in report.errors)
        assert env.udemy_sb.requests.count(COURSES) == 2
        env.udemy_sb.faults.clear()
        env.next_day()
        assert (await env.courses()).status == "succeeded"

    async def test_one_trickled_answer_is_retried(self, make: MakeEnv) -> None:
        """A single stalled answer costs one attempt: the retry reads the page."""
        env = await make(courses=5, deadline=0.2, attempts=2)
        env.udemy_sb.faults.trickle(COURSES, bytes_per_second=1, times=1)
        report = await env.courses()
        assert (report.status, report.counts["created"]) == ("succeeded", 5)

    async def test_360learning_trickling_the_body_ends_the_run_then_resumes(
        self, make: MakeEnv
    ) -> None:
        """A 360Learning server trickling the bulk operation's status ends the run with a clear
        error; the next run resumes the operation it had sent."""
        env = await make(courses=5, deadline=0.2, attempts=2)
        env.lms_app = SlowBodies(env.lms.app, "/api/v2/bulk/operations", rate=1, times=99)
        report = await env.courses()
        assert report.status == "failed"
        assert any("0.2 s deadline" in e for e in report.errors)
        assert len(env.store.bulk.pending("acme")) == 1
        env.lms_app = None
        env.next_day()
        report = await env.courses()
        assert (report.status, report.counts["unchanged"]) == ("succeeded", 5)
        assert env.store.bulk.pending("acme") == []


class TestUrls:
    async def test_unsafe_images_are_not_sent_and_a_foreign_launch_url_is_reported(
        self, make: MakeEnv
    ) -> None:
        """``javascript:`` and plain-http images (once sent as imageUrl) are left out; a launch
        URL on another host is a problem of that course."""
        env = await make(courses=5)
        tenant = env.udemy_sb.tenant
        tenant.change_course(ID_BASE, images={"size_750x422": "javascript:alert(1)"})
        tenant.change_course(
            ID_BASE + 1,
            images={
                "size_750x422": "http://img.example.com/750.jpg",
                "size_480x270": "http://img.example.com/480.jpg",
            },
        )
        tenant.change_course(COURSE, url="https://evil.example/course/x/")
        report = await env.courses()
        assert report.status == "partial"
        assert "launch URL host 'evil.example' is not allowed" in str(_errors(env, report)[EXT])
        assert EXT not in env.course_ids()
        for course_id in (ID_BASE, ID_BASE + 1):
            assert "imageUrl" not in env.course(str(course_id))
        image = env.course(str(ID_BASE + 3))["imageUrl"]
        assert str(image).startswith("https://img-c.udemycdn.com/")


class TestTagNames:
    async def test_categories_equal_once_case_folded_share_one_tag(self, make: MakeEnv) -> None:
        """Categories equal once case-folded, as 360Learning compares tag names, share one tag
        (compared lower-cased, 'STRASSE' was refused beside 'Straße' and failed every day)."""
        env = await make(courses=3, tags_enabled=True)
        no_primary = {"primary_category": None, "primary_subcategory": None}
        env.udemy_sb.tenant.change_course(ID_BASE, categories=["Straße"], **no_primary)
        env.udemy_sb.tenant.change_course(ID_BASE + 1, categories=["STRASSE"], **no_primary)
        for day in range(2):
            report = await env.courses()
            assert report.status == "succeeded", report.errors
            assert report.counts["created" if day == 0 else "unchanged"] == 3
            env.next_day()
        tags = env.lms.world.course_tags
        [tag] = tags[str(env.course(str(ID_BASE))["_id"])]
        assert tags[str(env.course(str(ID_BASE + 1))["_id"])] == [tag]
