"""A transport wrapper that records every request sent to 360Learning and checks it.

``RecordingTransport(inner)`` forwards to ``inner`` (the sandbox's ``ASGITransport``, a loopback
``AsyncHTTPTransport``, …), and hands each request and its response to a ``ContractRecorder``,
which validates both against the official definitions. The session-wide ``RECORDER`` collects
violations from every test; the plugin fails the session when any were found.
"""

from __future__ import annotations

import os
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


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to ``inner`` and records each request/response pair with ``recorder``."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, recorder: ContractRecorder | None = None
    ) -> None:
        self._inner = inner
        self.recorder = recorder if recorder is not None else RECORDER

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self._inner.handle_async_request(request)
        try:
            raw = response.content  # already read (e.g. MockTransport)
        except httpx.ResponseNotRead:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
        self.recorder.record(
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

    async def aclose(self) -> None:
        await self._inner.aclose()
