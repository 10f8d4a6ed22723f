"""One retry idiom for both clients: capped exponential backoff with jitter, Retry-After first.

An attempt that deserves another raises ``RetryableError`` carrying the error to raise if the
budget runs out (``final``); ``call_with_retries`` runs attempts and raises that error. Built on
tenacity. Waiting goes through an injectable ``sleep`` so tests never really sleep, and
the total-time cap counts the waits themselves (tenacity's ``idle_for``), so it is deterministic.
A Retry-After longer than ``max_retry_after`` is not shortened: the last error is raised with it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
T = TypeVar("T")

# 524 is Cloudflare's "a timeout occurred", seen on slow Udemy reporting pulls
# (research/udemy-api.md §5.1).
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 524})

logger = logging.getLogger(__name__)


class RetryableError(Exception):
    """Raised inside an attempt to ask for another one.

    Carries the server's Retry-After and ``final``, the client's own error that is raised in its
    place when no attempt is left.
    """

    def __init__(self, reason: str, *, final: Exception, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header given as seconds or as an HTTP date; ``None`` when absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds on retrying one request."""

    max_attempts: int = 6
    max_elapsed: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 900.0
    sleep: Sleep = field(default=_real_sleep, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Return the wait before retry number ``attempt`` (1-based): half fixed, half jitter."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0.0, ceiling / 2)


def retrying(policy: RetryPolicy, *, what: str) -> AsyncRetrying:
    """Return a tenacity controller that retries ``RetryableError`` under ``policy``.

    The last ``RetryableError`` is re-raised when the budget is spent; callers translate it.
    """

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            return float(exc.retry_after)
        return policy.backoff(state.attempt_number)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        if (
            isinstance(exc, RetryableError)
            and exc.retry_after is not None
            and exc.retry_after > policy.max_retry_after
        ):
            return True
        return state.idle_for + wait(state) > policy.max_elapsed

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "retrying %s: attempt=%d wait=%.2fs reason=%s",
            what,
            state.attempt_number,
            delay,
            getattr(exc, "reason", type(exc).__name__),
        )

    return AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception_type(RetryableError),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


async def call_with_retries(
    policy: RetryPolicy, call: Callable[[], Awaitable[T]], *, what: str
) -> T:
    """Run ``call`` until it returns, retrying each ``RetryableError`` under ``policy``.

    When the budget is spent, the last attempt's ``final`` error is raised (chained to it).
    Any other exception ends the call at once: a bug is never retried.
    """
    try:
        async for attempt in retrying(policy, what=what):
            with attempt:
                return await call()
    except RetryableError as exc:
        raise exc.final from exc
    raise AssertionError("unreachable: retrying() either returns or raises")  # pragma: no cover
