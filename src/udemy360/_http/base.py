"""The base both API clients share: their ``httpx.AsyncClient``, TLS rule, counts and deadline.

One attempt of one request goes through ``_send_once``, bounded by an overall deadline. Each
request carries the endpoint it calls (``ENDPOINT_EXTENSION``, e.g. ``"GET courses/list/"``)
and is counted when it is sent, by an event hook: retries and the requests an auth flow adds
(360Learning's token request) count too, and no client keeps its own tally.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Final, Self

import httpx

from udemy360._http.retry import RetryPolicy
from udemy360._http.tls import require_secure_transport

ENDPOINT_EXTENSION: Final = "udemy360.endpoint"
# Connect + send + read of the whole body. httpx's own timeouts bound each network operation,
# so a server trickling one byte at a time never trips them; this bounds the attempt. It stays
# above the 100 s after which Cloudflare answers 524 (research/udemy-api.md §5.1), so that
# answer is still seen and retried as such.
DEFAULT_DEADLINE: Final = 180.0
# Per network operation (connect, each read, each write), as before the deadline existed.
DEFAULT_TIMEOUT: Final = 60.0


class ApiClient:
    """Owns an ``httpx.AsyncClient``, counts HTTP requests per endpoint, bounds each attempt.

    Use as an async context manager. Subclasses send through ``_send_once`` inside
    ``call_with_retries(self._retry, …)``, so both clients retry, count and time out alike.

    Raises:
        InsecureBaseURL: on construction, when ``base_url`` breaks the TLS rule.
    """

    def __init__(
        self,
        *,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        if not deadline > 0:
            raise ValueError(f"deadline must be a positive number of seconds, got {deadline}")
        require_secure_transport(base_url, transport)
        self._retry = retry
        self._deadline = deadline
        self._counts: Counter[str] = Counter()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers=headers,
            event_hooks={"request": [self._count]},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    @property
    def call_counts(self) -> Mapping[str, int]:
        """HTTP requests sent so far per endpoint (a read-only view; retries count)."""
        return MappingProxyType(self._counts)

    @property
    def deadline(self) -> float:
        """Seconds one attempt may take, from connecting to the last byte of the body."""
        return self._deadline

    async def _count(self, request: httpx.Request) -> None:
        endpoint = request.extensions.get(ENDPOINT_EXTENSION)
        self._counts[endpoint if isinstance(endpoint, str) else request.method] += 1

    def _request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """Build a request tagged with the endpoint it is counted under."""
        return self._http.build_request(
            method,
            url,
            params=params,
            content=content,
            headers=headers,
            extensions={ENDPOINT_EXTENSION: endpoint},
        )

    async def _send_once(
        self,
        request: httpx.Request,
        *,
        unreachable: Callable[[str], Exception],
        with_auth: bool = True,
    ) -> httpx.Response:
        """Send ``request`` and read its whole body within the deadline.

        A transport failure or a stall past the deadline raises ``unreachable(reason)``: the
        client decides whether that is a ``RetryableError`` or final.
        """
        try:
            async with asyncio.timeout(self._deadline):
                if with_auth:
                    return await self._http.send(request)
                return await self._http.send(request, auth=None)
        except TimeoutError as exc:
            reason = f"no complete response within the {self._deadline:g} s deadline"
            raise unreachable(reason) from exc
        except httpx.TransportError as exc:
            raise unreachable(type(exc).__name__) from exc
