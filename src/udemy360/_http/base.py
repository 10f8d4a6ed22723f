"""What both API clients share: one owned ``httpx.AsyncClient``, async-context use, call counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Self

import httpx


class CountingClient:
    """Owns an ``httpx.AsyncClient`` and counts HTTP attempts per endpoint for run reports.

    Subclasses set ``self._http`` and add to ``self._counts`` (retries included).
    """

    _http: httpx.AsyncClient

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

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
        """HTTP attempts so far per endpoint (a read-only view; retries count)."""
        return MappingProxyType(self._counts)
