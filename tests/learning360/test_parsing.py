"""Small parsing and throttling cases on hand-built responses (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import heapq
import json
from collections.abc import Callable, Coroutine

import httpx
import pytest

from udemy360.learning360 import (
    Learning360Client,
    Learning360Credentials,
    Learning360NotFound,
    Learning360RequestError,
    Learning360ResponseError,
)
from udemy360.learning360.auth import error_code

CREDS = Learning360Credentials(client_id="client", client_secret="s3cret-value")
Handler = Callable[[httpx.Request], httpx.Response]


def _token(request: httpx.Request) -> httpx.Response | None:
    if request.url.path == "/api/v2/oauth2/token":
        # the guide's example has expires_in as a string
        return httpx.Response(
            200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": "3600"}
        )
    return None


def _client(handler: Handler, **kw: object) -> Learning360Client:
    def route(request: httpx.Request) -> httpx.Response:
        return _token(request) or handler(request)

    async def no_sleep(_: float) -> None:
        return None

    kw.setdefault("sleep", no_sleep)
    return Learning360Client(CREDS, transport=httpx.MockTransport(route), **kw)  # type: ignore[arg-type]


class TestErrorEnvelopes:
    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"error": "invalid_token"}, ("invalid_token", None)),
            ({"error": {"code": "tagNotFound", "message": "No tag."}}, ("tagNotFound", "No tag.")),
            ({"code": "userNotFound", "message": "No user."}, ("userNotFound", "No user.")),
            ([1, 2], (None, None)),
        ],
    )
    def test_error_code_reads_every_envelope(self, body, expected):
        """Flat, nested and top-level error shapes all yield (code, message)."""
        assert error_code(json.dumps(body).encode()) == expected

    async def test_nested_envelope_becomes_typed_error(self):
        """A nested 404 envelope gives Learning360NotFound with code, status and a safe url."""

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(404, json={"error": {"code": "userNotFound", "message": "gone"}})

        async with _client(handler) as client:
            with pytest.raises(Learning360NotFound) as info:
                await client.get_user("a" * 24)
        err = info.value
        assert (err.status, err.code) == (404, "userNotFound")
        assert err.url == f"https://app.360learning.com/api/v2/users/{'a' * 24}"
        assert "gone" in str(err)
        assert "gone" in (err.body_excerpt or "")

    async def test_flat_envelope_becomes_typed_error(self):
        """A flat {"error": "code"} 400 gives Learning360RequestError with that code."""

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(400, json={"error": "invalidInput"})

        async with _client(handler) as client:
            with pytest.raises(Learning360RequestError) as info:
                await client.set_course_archived("a" * 24, True)
        assert (info.value.status, info.value.code) == (400, "invalidInput")

    async def test_secret_echoed_by_server_is_scrubbed(self):
        """A server echoing the client secret does not put it into the exception."""

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(400, json={"error": {"code": "x", "message": "s3cret-value"}})

        async with _client(handler) as client:
            with pytest.raises(Learning360RequestError) as info:
                await client.set_course_archived("a" * 24, True)
        assert "s3cret-value" not in (info.value.body_excerpt or "")


class TestPagination:
    async def test_follows_link_headers(self):
        """Tags are read across pages until no Link header is left."""

        def handler(request: httpx.Request) -> httpx.Response:
            page = int(request.url.params.get("next", "0"))
            headers = {
                "Link": f'<https://app.360learning.com/api/v2/tags?next={page + 1}>; rel="next"'
            }
            tag = {"_id": f"{page:024d}", "name": f"t{page}", "isMain": False, "source": "native"}
            return httpx.Response(200, json=[tag], headers=headers if page < 2 else None)

        async with _client(handler) as client:
            names = [tag.name async for tag in client.iter_tags()]
            assert client.call_counts["GET /api/v2/tags"] == 3
        assert names == ["t0", "t1", "t2"]

    async def test_pagination_loop_is_refused(self):
        """A next link pointing at a page already read raises instead of looping."""

        def handler(request: httpx.Request) -> httpx.Response:
            link = '<https://app.360learning.com/api/v2/tags?next=same>; rel="next"'
            return httpx.Response(200, json=[], headers={"Link": link})

        async with _client(handler) as client:
            with pytest.raises(Learning360ResponseError, match="loop"):
                _ = [tag async for tag in client.iter_tags()]

    async def test_link_to_other_host_is_refused(self):
        """The token is never sent to a host named by a pagination link."""
        hosts: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            hosts.append(request.url.host)
            return httpx.Response(
                200, json=[], headers={"Link": '<https://evil.example/x>; rel="next"'}
            )

        async with _client(handler) as client:
            with pytest.raises(Learning360ResponseError, match="another host"):
                _ = [tag async for tag in client.iter_tags()]
        assert hosts == ["app.360learning.com"]


class VirtualTime:
    """Event-loop-driven fake time: sleepers wake in deadline order, exactly at their deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._heap, (self.now + max(0.0, seconds), self._seq, future))
        await future

    async def run(self, main: Coroutine[object, object, object]) -> object:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(20):
                await asyncio.sleep(0)
            if self._heap and not task.done():
                when, _, future = heapq.heappop(self._heap)
                self.now = max(self.now, when)
                future.set_result(None)
        return task.result()


def _max_in_window(times: list[float], width: float = 1.0) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + width) for t in times)


class TestRateLimits:
    async def test_100_concurrent_writes_stay_within_10_per_second(self):
        """100 concurrent writes never put more than 10 into any 1-second window."""
        vt = VirtualTime()
        sent: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(vt.now)
            return httpx.Response(200, json={})

        async with _client(handler, clock=vt.clock, sleep=vt.sleep) as client:

            async def burst() -> None:
                await asyncio.gather(
                    *(client.set_course_archived(f"{i:024d}", True) for i in range(100))
                )

            await vt.run(burst())
        assert len(sent) == 100
        assert _max_in_window(sent) <= 10
        assert sent[-1] >= 9.0  # and it did not crawl: ~10/s

    async def test_concurrent_reads_stay_within_configured_rate(self):
        """Reads honour a configured lower rate (20/s) under concurrency."""
        vt = VirtualTime()
        sent: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(vt.now)
            return httpx.Response(200, json={"_id": "a" * 24, "mail": "x@example.com"})

        async with _client(
            handler, clock=vt.clock, sleep=vt.sleep, reads_per_second=20.0
        ) as client:

            async def burst() -> None:
                await asyncio.gather(*(client.get_user("a" * 24) for _ in range(60)))

            await vt.run(burst())
        assert _max_in_window(sent) <= 20

    def test_rates_above_the_platform_limits_refused(self):
        """Configuring more than 10 writes/s or 50 reads/s is a ValueError."""
        with pytest.raises(ValueError, match="writes_per_second"):
            Learning360Client(CREDS, writes_per_second=11)
        with pytest.raises(ValueError, match="reads_per_second"):
            Learning360Client(CREDS, reads_per_second=51)
        with pytest.raises(ValueError, match="max_bulk_in_flight"):
            Learning360Client(CREDS, max_bulk_in_flight=4)
