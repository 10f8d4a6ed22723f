"""A transport wrapper that records every request sent to 360Learning and checks it.

``RecordingTransport(inner)`` forwards to ``inner`` (the sandbox's ``ASGITransport``, a loopback
``AsyncHTTPTransport``, …), and hands each request and its response to a ``ContractRecorder``,
which validates both against the official definitions. The session-wide ``RECORDER`` collects
violations from every test; the plugin fails the session when any were found.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from tests.contract.openapi import Contract, Exchange, Violation, shared_contract

_NOT_API = ("/_sandbox",)


@dataclass(frozen=True, slots=True)
class Finding:
    """Violations found in one exchange, with the test that produced it."""

    test: str
    method: str
    path: str
    violations: tuple[Violation, ...]


@dataclass(slots=True)
class ContractRecorder:
    """Validates exchanges as they happen and keeps what failed."""

    contract: Contract | None
    requests_checked: int = 0
    responses_checked: int = 0
    request_findings: list[Finding] = field(default_factory=list)
    response_findings: list[Finding] = field(default_factory=list)

    @classmethod
    def from_shared(cls) -> ContractRecorder:
        """Load the shared definitions; inert (checks nothing) when they are absent."""
        return cls(contract=shared_contract())

    def record(self, exchange: Exchange) -> None:
        """Check one exchange; the request always, the response when its status is documented."""
        if self.contract is None or exchange.path.startswith(_NOT_API):
            return
        test = os.environ.get("PYTEST_CURRENT_TEST", "<outside a test>").rsplit(" ", 1)[0]
        self.requests_checked += 1
        problems = self.contract.check_request(exchange)
        if problems:
            self.request_findings.append(
                Finding(test, exchange.method, exchange.path, tuple(problems))
            )
        if exchange.status is not None:
            self.responses_checked += 1
            problems = self.contract.check_response(exchange)
            if problems:
                self.response_findings.append(
                    Finding(test, exchange.method, exchange.path, tuple(problems))
                )


RECORDER = ContractRecorder.from_shared()


_RECORDED = "udemy360_contract_recorded"
_OUR_AGENT = "udemy360/"
_API_PREFIX = "/api/v2/"

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


async def _send_recorded(
    recorder: ContractRecorder, request: httpx.Request, send: Send
) -> httpx.Response:
    """Send ``request`` with ``send`` and hand the exchange to ``recorder``."""
    request.extensions[_RECORDED] = True
    body = await request.aread()
    response = await send(request)
    try:
        raw = response.content  # already read (e.g. MockTransport)
    except httpx.ResponseNotRead:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
    decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
    recorder.record(
        Exchange(
            method=request.method,
            path=request.url.path,
            query=tuple(request.url.params.multi_items()),
            headers=dict(request.headers),
            body=body,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=decoded.content,
        )
    )
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        request=request,
        extensions=response.extensions,
    )


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to ``inner`` and records each request/response pair with ``recorder``."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, recorder: ContractRecorder | None = None
    ) -> None:
        self._inner = inner
        self.recorder = recorder if recorder is not None else RECORDER

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await _send_recorded(self.recorder, request, self._inner.handle_async_request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def record_every_client_request(recorder: ContractRecorder) -> Callable[[], None]:
    """Record every request udemy360 sends to a 360Learning API, whatever transport it uses.

    Hooks httpx's two concrete async transports (loopback HTTP and in-process ASGI), so the sync
    engine's and the CLI's tests are checked too, not only those that wrap their transport in
    ``RecordingTransport``. Only requests carrying udemy360's User-Agent on ``/api/v2/`` paths
    count: the sandbox's own tests send deliberately invalid raw requests. Returns the undo.
    """
    originals: list[tuple[type[httpx.AsyncBaseTransport], Send]] = []
    for cls in (httpx.AsyncHTTPTransport, httpx.ASGITransport):
        original = cls.handle_async_request
        originals.append((cls, original))  # type: ignore[arg-type]

        async def handle(
            self: httpx.AsyncBaseTransport,
            request: httpx.Request,
            _original: Callable[..., Awaitable[httpx.Response]] = original,
        ) -> httpx.Response:
            ours = request.headers.get("user-agent", "").startswith(_OUR_AGENT)
            if (
                not ours
                or request.extensions.get(_RECORDED)
                or not request.url.path.startswith(_API_PREFIX)
            ):
                return await _original(self, request)
            return await _send_recorded(recorder, request, lambda r: _original(self, r))

        cls.handle_async_request = handle  # type: ignore[method-assign,assignment]

    def undo() -> None:
        for cls, original in originals:
            cls.handle_async_request = original  # type: ignore[method-assign,assignment]

    return undo
