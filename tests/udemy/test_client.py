"""The Udemy client against the sandbox: listings, paging, faults, throttling, auth."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import TypeVar
from urllib.parse import parse_qs

import httpx
import pytest

from tests.udemy.conftest import SECRET, ClientFactory, FakeTime
from udemy360._http import RetryPolicy
from udemy360.sandbox.udemy import UdemyFaults, UdemySandbox, UdemyTenant
from udemy360.udemy import (
    UdemyAuthError,
    UdemyCourse,
    UdemyPage,
    UdemyRateLimited,
    UdemyResponseError,
    UdemyTransportError,
)

T = TypeVar("T")


async def collect(pages: AsyncIterator[UdemyPage[T]], limit: int = 1_000) -> list[UdemyPage[T]]:
    """Every page of a listing; a listing longer than ``limit`` pages fails instead of hanging."""
    out: list[UdemyPage[T]] = []
    async for page in pages:
        out.append(page)
        assert len(out) <= limit, f"the listing did not end within {limit} pages"
    return out


def accounted(pages: list[UdemyPage[T]]) -> int:
    return sum(len(p.items) + len(p.problems) + p.skipped for p in pages)


def small(courses: int) -> UdemySandbox:
    return UdemySandbox(
        UdemyTenant(seed=3, courses=courses, learning_paths=0, learners=1, activity_rows=0)
    )


class TestListings:
    async def test_courses_stream_every_course_once(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Every course of the collection arrives exactly once and the count matches."""
        pages = await collect(make_client().iter_course_pages())
        ids = [c.id for p in pages for c in p.items]
        assert sorted(ids) == sorted(sandbox.tenant.course_ids())
        assert {p.count for p in pages} == {200}
        assert accounted(pages) == 200

    async def test_courses_ask_only_for_mapped_fields(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """The course request names its fields and a page size of 100."""
        await collect(make_client().iter_course_pages())
        query = parse_qs(next(iter(sandbox.requests)).query)
        assert query["page_size"] == ["100"]
        assert "promo_video_url" in query["fields[course]"][0].split(",")
        assert "requirements" not in query["fields[course]"][0].split(",")

    async def test_learning_paths_skip_non_public(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Paths with is_public false are counted as skipped, the others come sorted."""
        pages = await collect(make_client().iter_learning_path_pages())
        paths = [lp for p in pages for lp in p.items]
        assert all(lp.is_public is not False for lp in paths)
        assert sum(p.skipped for p in pages) == 3  # every 4th of 12 is private
        assert accounted(pages) == 12
        for path in paths:
            orders = [s.order for s in path.sections]
            assert orders == sorted(orders)
            for section in path.sections:
                assert [i.order for i in section.items] == sorted(
                    i.order or 0 for i in section.items
                )
            assert all(e.email is None for e in path.editors)  # fields[user]=display_name

    async def test_activity_window_is_sent_and_applied(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """from_date/to_date travel as YYYY-MM-DD and only rows inside the window come back."""
        low, high = date(2024, 3, 1), date(2024, 3, 31)
        pages = await collect(make_client().iter_activity_pages(from_date=low, to_date=high))
        rows = [r for p in pages for r in p.items]
        assert rows
        assert accounted(pages) == pages[0].count < 1_500
        for row in rows:
            day = row.course_last_accessed_date or row.course_enroll_date
            assert day is not None
            assert low <= day.date() <= high
        query = parse_qs(next(iter(sandbox.requests)).query)
        assert query["from_date"] == ["2024-03-01"]
        assert query["to_date"] == ["2024-03-31"]

    async def test_activity_full_report(self, make_client: ClientFactory) -> None:
        """Without a window every activity row is listed, in UTC."""
        pages = await collect(make_client().iter_activity_pages())
        rows = [r for p in pages for r in p.items]
        assert len(rows) == accounted(pages) == 1_500
        assert all(r.course_enroll_date and r.course_enroll_date.tzinfo == UTC for r in rows)
        assert any(r.user_email == "Anonymized User" for r in rows)

    async def test_get_course_and_missing_course(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """get_course returns the course, and None once it is retired."""
        client = make_client()
        course_id = next(sandbox.tenant.course_ids())
        course = await client.get_course(course_id)
        assert isinstance(course, UdemyCourse)
        assert course.id == course_id
        sandbox.tenant.retire_course(course_id)
        assert await client.get_course(course_id) is None
        assert client.call_counts == {"GET courses/list/{id}/": 2}


class TestPageSizes:
    @pytest.mark.parametrize(
        ("courses", "requests"), [(0, 1), (1, 1), (100, 1), (101, 2), (200, 2)]
    )
    async def test_invariant_holds_at_page_edges(
        self, make_client: ClientFactory, courses: int, requests: int
    ) -> None:
        """Items + problems + skipped equal count at page-size edges, with no extra request."""
        sb = small(courses)
        client = make_client(sb)
        pages = await collect(client.iter_course_pages())
        assert accounted(pages) == courses
        assert all(p.count == courses for p in pages)
        assert client.call_counts["GET courses/list/"] == requests

    async def test_small_pages_exactly_full_last_page(self, make_client: ClientFactory) -> None:
        """With page_size 10 and 30 courses, three pages are read and none past the end."""
        sb = small(30)
        client = make_client(sb, page_size=10)
        pages = await collect(client.iter_course_pages())
        assert sorted(p.number for p in pages) == [1, 2, 3]
        assert accounted(pages) == 30
        assert sb.requests.count(status=404) == 0

    async def test_listing_that_shrinks_ends_on_invalid_page(
        self, make_client: ClientFactory
    ) -> None:
        """A 404 "Invalid page." mid-listing ends it; the shortfall shows against count."""
        sb = small(30)
        client = make_client(sb, page_size=10, concurrency=1)
        pages = client.iter_course_pages()
        first = await anext(pages)
        for course_id in list(sb.tenant.course_ids())[:15]:
            sb.tenant.retire_course(course_id)
        rest = await collect(pages)
        assert accounted([first, *rest]) < first.count
        assert sb.requests.count(status=404) == 1

    def test_page_size_above_100_is_refused(self, make_client: ClientFactory) -> None:
        """page_size is capped at 100 like the API."""
        with pytest.raises(ValueError, match="page_size"):
            make_client(page_size=101)


class TestRetries:
    async def test_429_retry_after_seconds_is_waited(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """A 429 with Retry-After: 7 is waited out once, then the listing completes."""
        sandbox.faults.throttle("courses/list/", times=1, retry_after=7)
        pages = await collect(make_client().iter_course_pages())
        assert fake_time.calls == [7.0]
        assert accounted(pages) == 200

    async def test_429_retry_after_http_date_is_waited(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """A Retry-After given as an HTTP date is turned into the seconds until then."""
        when = datetime.now(UTC) + timedelta(seconds=30)
        sandbox.faults.throttle(
            "courses/list/", times=1, retry_after=format_datetime(when, usegmt=True)
        )
        await collect(make_client().iter_course_pages())
        assert len(fake_time.calls) == 1
        assert 25 <= fake_time.calls[0] <= 30

    async def test_retry_after_beyond_cap_raises(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """A Retry-After longer than the policy allows is not shortened: it is raised."""
        sandbox.faults.throttle("courses/list/", times=1, retry_after=3600)
        with pytest.raises(UdemyRateLimited) as info:
            await collect(make_client().iter_course_pages())
        assert info.value.retry_after == 3600
        assert fake_time.calls == []

    async def test_server_errors_are_retried(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Random 5xx/524 answers are retried and the listing still completes."""
        sandbox.faults.server_errors(0.3, seed=4)
        client = make_client(page_size=10)
        pages = await collect(client.iter_course_pages())
        failed = {r.status for r in sandbox.requests if r.status >= 500}
        assert failed
        assert failed <= {500, 502, 503, 504, 524}
        assert accounted(pages) == 200
        assert client.call_counts["GET courses/list/"] == 20 + sum(
            1 for r in sandbox.requests if r.status >= 500
        )

    async def test_spent_budget_raises_response_error(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """When every attempt gets a 524 the error names the status after max_attempts."""
        sandbox.faults.server_errors(1.0, statuses=(524,))
        client = make_client()
        with pytest.raises(UdemyResponseError) as info:
            await collect(client.iter_course_pages())
        assert info.value.status == 524
        assert client.call_counts["GET courses/list/"] == 4
        assert len(fake_time.calls) == 3

    async def test_truncated_json_is_retried(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A cut JSON body is fetched again and the page is not lost."""
        sandbox.faults.truncate("courses/list/", times=1)
        client = make_client()
        pages = await collect(client.iter_course_pages())
        assert accounted(pages) == 200
        assert client.call_counts["GET courses/list/"] == 3

    async def test_non_json_forever_reports_url(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A body that never parses ends in UdemyResponseError with the safe URL."""
        sandbox.faults.truncate("courses/list/", times=99)
        with pytest.raises(UdemyResponseError) as info:
            await collect(make_client().iter_course_pages())
        assert info.value.url
        assert "courses/list/" in info.value.url
        assert "JSON" in str(info.value)
        assert SECRET not in str(info.value)
        assert "Signature=" not in info.value.body_excerpt.replace("Signature=REDACTED", "")

    async def test_rate_budget_is_respected(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """Against a 2 requests/s budget the client waits as told and finishes."""
        sandbox.faults.rate_limit(2)
        client = make_client(page_size=10)
        pages = await collect(client.iter_course_pages())
        assert accounted(pages) == 200
        assert sandbox.requests.count(status=429) >= 1
        assert fake_time.calls
        assert all(w >= 1 for w in fake_time.calls)

    async def test_rate_budget_without_recovery_raises(
        self, make_client: ClientFactory, sandbox: UdemySandbox, fake_time: FakeTime
    ) -> None:
        """If the server keeps throttling, UdemyRateLimited carries the last Retry-After."""
        sandbox.faults.throttle("courses/list/", times=50, retry_after=5)
        client = make_client()
        with pytest.raises(UdemyRateLimited) as info:
            await collect(client.iter_course_pages())
        assert info.value.retry_after == 5
        assert client.call_counts["GET courses/list/"] == 4

    async def test_transport_errors_are_retried_then_raised(
        self, make_client: ClientFactory
    ) -> None:
        """Connection errors are retried, then surface as UdemyTransportError."""

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        client = make_client(transport=httpx.MockTransport(refuse))
        with pytest.raises(UdemyTransportError):
            await collect(client.iter_course_pages())
        assert client.call_counts["GET courses/list/"] == 4


class TestConcurrency:
    async def test_limit_halves_on_429_and_recovers(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """One 429 halves the concurrency limit; successes bring it back to the maximum."""
        sandbox.faults.throttle("courses/list/", times=1, retry_after=1)
        client = make_client(page_size=10, concurrency=4)
        pages = client.iter_course_pages()
        await anext(pages)
        assert client.concurrency_limit == 2
        await collect(pages)
        assert client.concurrency_limit == 4

    async def test_requests_per_second_spaces_calls(
        self, make_client: ClientFactory, fake_time: FakeTime
    ) -> None:
        """A 5 requests/s budget makes 20 requests wait (20-1)/5 seconds in total."""
        client = make_client(page_size=10, requests_per_second=5)
        await collect(client.iter_course_pages())
        assert sum(fake_time.calls) == pytest.approx(19 / 5)

    async def test_pages_arrive_once_each_with_numbers(self, make_client: ClientFactory) -> None:
        """Concurrent pages carry their numbers; every page is yielded exactly once."""
        pages = await collect(make_client(page_size=7, concurrency=6).iter_course_pages())
        assert sorted(p.number for p in pages) == list(range(1, 30))

    async def test_stopping_early_cancels_outstanding_pages(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Leaving the stream after two pages fetches at most a window more."""
        client = make_client(page_size=10, concurrency=3)
        pages = client.iter_course_pages()
        await anext(pages)
        await anext(pages)
        await pages.aclose()  # type: ignore[attr-defined]
        assert client.call_counts["GET courses/list/"] <= 1 + 3 + 1


class TestAuth:
    async def test_bad_secret_raises_auth_error_without_retry(
        self, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A 401 raises UdemyAuthError at once; neither message nor logs hold the secret."""
        caplog.set_level(logging.DEBUG)
        client = make_client(creds={"client_secret": "wrong-secret-value"})
        with pytest.raises(UdemyAuthError) as info:
            await collect(client.iter_course_pages())
        assert info.value.status == 401
        assert client.call_counts == {"GET courses/list/": 1}
        for text in (str(info.value), repr(info.value), caplog.text):
            assert "wrong-secret-value" not in text
            assert SECRET not in text

    async def test_wrong_account_is_a_permission_error(self, make_client: ClientFactory) -> None:
        """An account id the credentials do not belong to gives a 403 UdemyAuthError."""
        sb = UdemySandbox(UdemyTenant(courses=1), client_secret=SECRET)
        client = make_client(sb, creds={"base_url": "http://test/api-2.0/organizations/999/"})
        with pytest.raises(UdemyAuthError) as info:
            await collect(client.iter_course_pages())
        assert info.value.status == 403


class TestMalformedResponses:
    async def test_bad_record_becomes_problem_and_page_survives(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A course without a title is reported by id; the other 99 of its page are kept."""
        bad_id = next(sandbox.tenant.course_ids())
        sandbox.tenant.change_course(bad_id, title=None)
        pages = await collect(make_client().iter_course_pages())
        problems = [pr for p in pages for pr in p.problems]
        assert len(problems) == 1
        assert problems[0].record_id == str(bad_id)
        assert problems[0].page == 1
        assert problems[0].index == 0
        assert "title" in problems[0].reason
        assert accounted(pages) == 200

    async def test_invalid_envelope_raises(self, make_client: ClientFactory) -> None:
        """A page whose envelope lacks count is a UdemyResponseError, not an empty listing."""
        transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"results": []}))
        with pytest.raises(UdemyResponseError, match="envelope"):
            await collect(make_client(transport=transport).iter_course_pages())

    async def test_pagination_loop_is_refused(self, make_client: ClientFactory) -> None:
        """A next link that does not move forward raises instead of looping forever."""

        def handler(request: httpx.Request) -> httpx.Response:
            page = int(request.url.params["page"])
            body = {"count": 500, "next": f"{request.url}&page=2" if page == 1 else "x?page=2"}
            return httpx.Response(200, json={**body, "results": [{"id": page, "title": "t"}]})

        client = make_client(transport=httpx.MockTransport(handler))
        with pytest.raises(UdemyResponseError, match="pagination loop"):
            await collect(client.iter_course_pages())

    async def test_error_body_is_redacted(self, make_client: ClientFactory) -> None:
        """A server error that echoes the Authorization header has it redacted in body_excerpt."""

        def handler(request: httpx.Request) -> httpx.Response:
            echo = f"{request.headers['Authorization']} {SECRET} ?Signature=abc&Expires=1"
            return httpx.Response(418, text=echo)

        with pytest.raises(UdemyResponseError) as info:
            await collect(make_client(transport=httpx.MockTransport(handler)).iter_course_pages())
        excerpt = info.value.body_excerpt
        assert SECRET not in excerpt
        assert "Basic" in excerpt
        assert "abc" not in excerpt
        assert info.value.status == 418


class TestHostileBodies:
    async def test_deeply_nested_body_is_a_response_error(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A page nested 100,000 deep is a UdemyResponseError (not RecursionError), not retried."""
        sandbox.faults.nested("courses/list/", depth=100_000, times=99)
        client = make_client()
        with pytest.raises(UdemyResponseError, match="nested too deeply") as info:
            await collect(client.iter_course_pages())
        assert info.value.status == 200
        assert client.call_counts["GET courses/list/"] == 1

    async def test_deep_single_course_is_a_response_error(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """get_course meets the same hostile body with the same clear error."""
        sandbox.faults.nested("courses/list/", depth=100_000)
        with pytest.raises(UdemyResponseError, match="nested too deeply"):
            await make_client().get_course(next(sandbox.tenant.course_ids()))

    async def test_non_utf8_body_is_a_response_error(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A body with a byte that is not UTF-8 is a clear UdemyResponseError, not retried."""
        body = b'{"count": 1, "next": null, "results": [{"id": 1, "title": "caf\xe9 \xff"}]}'
        sandbox.faults.replace_body("courses/list/", body, times=99)
        client = make_client()
        with pytest.raises(UdemyResponseError, match="not UTF-8") as info:
            await collect(client.iter_course_pages())
        assert "caf" in info.value.body_excerpt
        assert client.call_counts["GET courses/list/"] == 1

    async def test_body_cut_inside_a_character_is_retried(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A body that ends inside a multi-byte character was cut short: it is fetched again."""
        sandbox.faults.replace_body("courses/list/", '{"count": 1, "results": ["é'.encode()[:-1])
        client = make_client()
        pages = await collect(client.iter_course_pages())
        assert accounted(pages) == 200
        assert client.call_counts["GET courses/list/"] == 3

    async def test_integer_too_long_to_read_is_a_response_error(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A 5,000-digit number cannot be read; that is a response error, not a ValueError."""
        body = '{"count": 1, "next": null, "results": [{"id": ' + "9" * 5_000 + ', "title": "t"}]}'
        sandbox.faults.replace_body("courses/list/", body)
        with pytest.raises(UdemyResponseError, match="cannot be read"):
            await collect(make_client().iter_course_pages())

    async def test_hostile_records_on_page_two_are_problems(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Raw records injected into page 2 are reported one by one; every other page is kept."""
        raw: list[object] = [
            {"id": 2**70, "title": "too big"},
            {"id": -7, "title": "negative"},
            {"id": 5, "title": "\ud800\x00 fine once made safe"},
            {"id": 6, "title": ["wrong", "type"]},
            None,
        ]
        sandbox.faults.page_records("courses/list/", 2, raw)
        pages = await collect(make_client().iter_course_pages())
        page2 = next(p for p in pages if p.number == 2)
        assert [p.record_id for p in page2.problems] == [str(2**70), "-7", "6", None]
        assert [c.title for c in page2.items] == ["\ufffd fine once made safe"]
        assert sum(len(p.items) for p in pages if p.number != 2) == 100


class TestSafeText:
    async def test_raw_surrogate_bytes_and_del_are_made_safe(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """A surrogate sent as raw UTF-8 bytes and a raw DEL are cleaned like escaped ones."""
        body = b'{"count": 1, "next": null, "results": [{"id": 1, "title": "a\xed\xa0\x80b\x7f"}]}'
        sandbox.faults.replace_body("courses/list/", body)
        pages = await collect(make_client().iter_course_pages())
        assert [c.title for c in pages[0].items] == ["a\ufffdb"]

    async def test_activity_text_is_made_safe(
        self, make_client: ClientFactory, sandbox: UdemySandbox
    ) -> None:
        """Learner emails and names with surrogates or NULs arrive safe; clean pages unchanged."""
        rows: list[object] = [
            {"user_email": "ann\ud800@example.com", "user_name": "A\x00nn", "course_id": 1},
            {"user_email": "bob@example.com", "course_title": "\x00", "course_id": 2},
        ]
        sandbox.faults.listing("analytics/user-course-activity/", rows)
        pages = await collect(make_client().iter_activity_pages())
        got = [(r.user_email, r.user_name, r.course_title) for p in pages for r in p.items]
        assert got == [("ann\ufffd@example.com", "Ann", None), ("bob@example.com", None, None)]


class TestListingStops:
    async def test_forward_next_after_count_is_not_followed(
        self, make_client: ClientFactory
    ) -> None:
        """A server that ignores page_size and links on forever is read up to count, then left."""
        sb = small(30)
        sb.faults.ignore_page_size("courses/list/", 7).endless_next("courses/list/", repeat=True)
        client = make_client(sb, page_size=10)
        pages = await collect(client.iter_course_pages(), limit=50)
        assert accounted(pages) == 30
        assert client.call_counts["GET courses/list/"] == 5
        stop = pages[-1].stop
        assert stop is not None
        assert (stop.kind, stop.page) == ("count_reached", 5)
        assert all(p.stop is None for p in pages[:-1])

    async def test_concurrent_listing_reports_a_next_link_past_count(
        self, make_client: ClientFactory
    ) -> None:
        """Pages fetched by number end at count; the last one's further link is reported."""
        sb = small(30)
        sb.faults.endless_next("courses/list/", repeat=True)
        client = make_client(sb, page_size=10)
        pages = await collect(client.iter_course_pages(), limit=50)
        assert accounted(pages) == 30
        assert client.call_counts["GET courses/list/"] == 3
        stops = [p.stop for p in pages if p.stop is not None]
        assert [(s.kind, s.page) for s in stops] == [("count_reached", 3)]

    async def test_empty_page_with_next_ends_the_listing(
        self, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An empty page that links further ends the listing, logged, short of count."""
        sb = small(30)
        sb.faults.ignore_page_size("courses/list/", 7).endless_next("courses/list/")
        sb.faults.envelope("courses/list/", 1, count=1_000)
        client = make_client(sb, page_size=10)
        with caplog.at_level(logging.WARNING):
            pages = await collect(client.iter_course_pages(), limit=50)
        assert accounted(pages) == 30
        assert client.call_counts["GET courses/list/"] == 6
        stop = pages[-1].stop
        assert stop is not None
        assert (stop.kind, stop.page) == ("empty_page", 6)
        assert "ended early" in caplog.text

    async def test_page_cap_ends_a_listing_that_trickles_records(
        self, make_client: ClientFactory
    ) -> None:
        """After a page of 10, pages of one record each stop at the cap count allows."""
        sb = small(0)
        records = [{"id": i, "title": f"c{i}"} for i in range(1, 31)]
        sb.faults.listing("courses/list/", records).ignore_page_size("courses/list/", 10)
        sb.faults.endless_next("courses/list/")
        for page in range(2, 31):
            sb.faults.page_records("courses/list/", page, [records[page - 1]])
        client = make_client(sb, page_size=20)
        pages = await collect(client.iter_course_pages(), limit=50)
        assert client.call_counts["GET courses/list/"] == 5
        assert accounted(pages) == 14 < pages[0].count
        stop = pages[-1].stop
        assert stop is not None
        assert (stop.kind, stop.page) == ("page_cap", 5)

    async def test_backward_next_still_raises(self, make_client: ClientFactory) -> None:
        """A next link back to page 1 is a pagination loop, as before."""
        sb = small(30)
        sb.faults.ignore_page_size("courses/list/", 7)
        sb.faults.envelope("courses/list/", 2, next="https://x/courses/list/?page=1")
        with pytest.raises(UdemyResponseError, match="pagination loop"):
            await collect(make_client(sb, page_size=10).iter_course_pages(), limit=50)


class TestDeadline:
    """The deadline is real time, kept short; the retry policy's waits are fake."""

    def trickling(self, times: int) -> UdemySandbox:
        sb = UdemySandbox(
            UdemyTenant(seed=3, courses=5, learning_paths=0, learners=1, activity_rows=0),
            faults=UdemyFaults(),  # real sleep: the body really trickles
        )
        sb.faults.trickle("courses/list/", bytes_per_second=100, times=times)
        return sb

    async def test_a_stalled_body_is_retried(
        self, make_client: ClientFactory, fake_time: FakeTime
    ) -> None:
        """A body trickling past the deadline is abandoned and fetched again."""
        client = make_client(self.trickling(times=1), deadline=0.2)
        pages = await collect(client.iter_course_pages())
        assert accounted(pages) == 5
        assert client.call_counts["GET courses/list/"] == 2
        assert len(fake_time.calls) == 1

    async def test_a_server_that_always_stalls_is_a_transport_error(
        self, make_client: ClientFactory, fake_time: FakeTime
    ) -> None:
        """When every attempt stalls, the retry budget ends in UdemyTransportError."""
        policy = RetryPolicy(max_attempts=2, sleep=fake_time.sleep)
        client = make_client(self.trickling(times=99), deadline=0.1, retry=policy)
        with pytest.raises(UdemyTransportError, match="deadline") as info:
            await collect(client.iter_course_pages())
        assert info.value.url
        assert "courses/list/" in info.value.url
        assert client.call_counts["GET courses/list/"] == 2

    def test_deadline_must_be_positive(self, make_client: ClientFactory) -> None:
        """A zero deadline is refused when the client is built."""
        with pytest.raises(ValueError, match="deadline"):
            make_client(deadline=0)


@pytest.mark.e2e
class TestLoopback:
    async def test_client_over_a_real_socket(self, policy: object) -> None:
        """Over real loopback HTTP the client lists every course and follows the port."""
        from udemy360._http import RetryPolicy
        from udemy360.sandbox.server import serve_in_thread
        from udemy360.udemy import UdemyClient, UdemyCredentials

        sb = UdemySandbox(UdemyTenant(courses=150, learning_paths=2), client_secret=SECRET)
        with serve_in_thread(sb.app) as root:
            creds = UdemyCredentials(**sb.credentials_dict(), base_url=sb.base_url(root))
            assert isinstance(policy, RetryPolicy)
            async with UdemyClient(creds, retry=policy) as client:
                pages = await collect(client.iter_course_pages())
        assert accounted(pages) == 150
        assert all(r.status == 200 for r in sb.requests)
