"""Client-side throttles: a request-rate limiter and an adaptive concurrency limit.

Both take injectable ``clock``/``sleep`` so tests run without real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from udemy360._http.retry import Clock, Sleep


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class RateLimiter:
    """Spaces calls so that no more than ``rate`` start in any second (GCRA, burst 1 by default).

    Waiters reserve their slot under a lock and then sleep outside it, so concurrent callers are
    served in order without holding each other up longer than the rate requires.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = _real_sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._tat = float("-inf")
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more call may start."""
        async with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            wait = tat - self._tolerance - now
            self._tat = tat + self._interval
        if wait > 0:
            await self._sleep(wait)


class AdaptiveConcurrency:
    """A concurrency limit that halves on throttling and climbs back one step at a time.

    Additive increase, multiplicative decrease: after ``limit`` successes in a row the limit grows
    by one, up to ``maximum``; each throttle halves it, down to ``minimum``.
    """

    def __init__(self, maximum: int, *, minimum: int = 1, initial: int | None = None) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        self.maximum = maximum
        self.minimum = minimum
        self._limit = min(maximum, max(minimum, initial or maximum))
        self._in_flight = 0
        self._successes = 0
        self._cond = asyncio.Condition()

    @property
    def limit(self) -> int:
        """The current number of calls allowed at once."""
        return self._limit

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the current slots for the duration of the block."""
        async with self._cond:
            await self._cond.wait_for(lambda: self._in_flight < self._limit)
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def on_success(self) -> None:
        """Record a call that was not throttled."""
        self._successes += 1
        if self._successes >= self._limit and self._limit < self.maximum:
            self._limit += 1
            self._successes = 0

    def on_throttle(self) -> None:
        """Record a throttled call: halve the limit."""
        self._successes = 0
        self._limit = max(self.minimum, self._limit // 2)
