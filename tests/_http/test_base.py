"""The send path both clients share: an overall deadline per attempt, over real loopback HTTP.

httpx's own timeouts bound each network operation, so a server sending one byte at a time
never trips them; the deadline bounds the whole attempt. Deadlines here are real and short
(a fraction of a second); the retry policy's waits are fake.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from udemy360._http import RetryPolicy
from udemy360.learning360 import Learning360Client, Learning360Credentials
from udemy360.learning360.errors import Learning360TransportError
from udemy360.sandbox.faults import Faults
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy import UdemyFaults, UdemySandbox, UdemyTenant
from udemy360.udemy import UdemyClient, UdemyCredentials, UdemyTransportError

TOKEN = "POST /api/v2/oauth2/token"
USER = "GET /api/v2/users/{userId}"
COURSES = "GET courses/list/"


class FakeSleep:
    """Records the retry policy's waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Trickling:
    """Wraps an ASGI app: its first ``times`` answers go out at ``rate`` bytes per second."""

    def __init__(self, app: ASGIApp, *, times: int, rate: float = 50.0) -> None:
        self.app = app
        self.times = times
        self.rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.times <= 0:
            await self.app(scope, receive, send)
            return
        self.times -= 1
        status = 500
        headers: dict[str, str] = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() != b"content-length":
                        headers[key.decode("latin-1")] = value.decode("latin-1")
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        # Starlette's streaming response stops when the client hangs up
        slow = Faults().trickled(bytes(body), self.rate)
        await StreamingResponse(slow, status, headers=headers)(scope, receive, send)


@contextmanager
def udemy_client(
    *, stalls: int, attempts: int, sleep: FakeSleep, deadline: float
) -> Iterator[UdemyClient]:
    sandbox = UdemySandbox(
        UdemyTenant(seed=3, courses=5, learning_paths=0, learners=1, activity_rows=0),
        faults=UdemyFaults(),  # real sleep: the body really trickles
    )
    sandbox.faults.trickle("courses/list/", bytes_per_second=50, times=stalls)
    with serve_in_thread(sandbox.app) as root:
        creds = UdemyCredentials(**sandbox.credentials_dict(), base_url=sandbox.base_url(root))
        policy = RetryPolicy(max_attempts=attempts, sleep=sleep)
        yield UdemyClient(creds, retry=policy, deadline=deadline)


@contextmanager
def l360_client(
    *, stalls: int, attempts: int, sleep: FakeSleep, deadline: float
) -> Iterator[tuple[Learning360Client, Learning360Sandbox]]:
    sandbox = Learning360Sandbox()
    with serve_in_thread(Trickling(sandbox.app, times=stalls)) as root:
        creds = Learning360Credentials(
            client_id=sandbox.client_id, client_secret=sandbox.client_secret, base_url=root
        )
        policy = RetryPolicy(max_attempts=attempts, sleep=sleep)
        yield Learning360Client(creds, retry=policy, sleep=sleep, deadline=deadline), sandbox


@pytest.mark.e2e
class TestDeadline:
    async def test_udemy_stall_is_retried(self) -> None:
        """A Udemy page trickling past the deadline is abandoned and fetched again."""
        sleep = FakeSleep()
        with udemy_client(stalls=1, attempts=3, sleep=sleep, deadline=0.3) as client:
            async with client:
                pages = [page async for page in client.iter_course_pages()]
            assert sum(len(p.items) for p in pages) == 5
            assert client.call_counts[COURSES] == 2
            assert len(sleep.calls) == 1

    async def test_udemy_server_that_always_stalls(self) -> None:
        """Every attempt stalls: the budget ends in UdemyTransportError naming the deadline."""
        sleep = FakeSleep()
        with udemy_client(stalls=99, attempts=2, sleep=sleep, deadline=0.2) as client:
            async with client:
                with pytest.raises(UdemyTransportError, match="deadline"):
                    await anext(client.iter_course_pages())
            assert client.call_counts[COURSES] == 2
            assert client.deadline == 0.2

    async def test_360learning_stall_is_retried_and_the_token_lock_freed(self) -> None:
        """A token answer trickling past the deadline is retried; the renewal lock is free again."""
        sleep = FakeSleep()
        with l360_client(stalls=1, attempts=3, sleep=sleep, deadline=0.3) as (client, sandbox):
            async with client:
                user = await client.get_user(sandbox.owner_id)
            assert user.id == sandbox.owner_id
            assert dict(client.call_counts) == {TOKEN: 2, USER: 1}

    async def test_360learning_server_that_always_stalls(self) -> None:
        """Every attempt stalls: Learning360TransportError once the budget is spent."""
        sleep = FakeSleep()
        with l360_client(stalls=99, attempts=2, sleep=sleep, deadline=0.2) as (client, _):
            async with client:
                with pytest.raises(Learning360TransportError, match="deadline"):
                    await client.check_token()
            assert dict(client.call_counts) == {TOKEN: 2}


async def test_httpcore_detects_asyncio_without_a_failing_import() -> None:
    """sniffio is installed: httpcore's per-request check of the async library is a lookup."""
    from httpcore._synchronization import current_async_library

    assert current_async_library() == "asyncio"
    # without sniffio httpcore answers "asyncio" too, but retries the import on every request
    assert "sniffio" in sys.modules
