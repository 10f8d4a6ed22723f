"""Client-side throttles: the request-rate limiter and the adaptive concurrency limit."""

from __future__ import annotations

import asyncio

import pytest

from udemy360._http import AdaptiveConcurrency, RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Each sleeper advances to its own wake-up time; the latest wins, as in real time.
        self.now = max(self.now, self.now + seconds)
        await asyncio.sleep(0)


class TestRateLimiter:
    async def test_spaces_calls_at_the_rate(self) -> None:
        """Sequential callers start no more than `rate` per second."""
        t = FakeTime()
        limiter = RateLimiter(10.0, clock=t.clock, sleep=t.sleep)
        starts = []
        for _ in range(25):
            await limiter.acquire()
            starts.append(t.now)
        for i in range(len(starts) - 10):
            assert starts[i + 10] - starts[i] >= 1.0 - 1e-9

    async def test_concurrent_callers_share_one_budget(self) -> None:
        """Fifty callers arriving at once are scheduled no more than `rate` per second."""
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        limiter = RateLimiter(10.0, clock=lambda: 0.0, sleep=record)
        await asyncio.gather(*(limiter.acquire() for _ in range(50)))
        # The clock stands still, so each caller starts at its wait (0 for the one that
        # did not wait at all).
        starts = sorted([0.0] * (50 - len(waits)) + waits)
        assert len(starts) == 50
        for i in range(len(starts) - 10):
            assert starts[i + 10] - starts[i] >= 1.0 - 1e-9

    def test_rejects_non_positive_rate(self) -> None:
        """A zero rate is a configuration error, not an infinite wait."""
        with pytest.raises(ValueError, match="rate"):
            RateLimiter(0)


class TestAdaptiveConcurrency:
    def test_halves_on_throttle_and_recovers_gradually(self) -> None:
        """A throttle halves the limit; successes raise it one step at a time."""
        limit = AdaptiveConcurrency(8)
        limit.on_throttle()
        assert limit.limit == 4
        limit.on_throttle()
        assert limit.limit == 2
        for _ in range(2):
            limit.on_success()
        assert limit.limit == 3
        for _ in range(3):
            limit.on_success()
        assert limit.limit == 4

    def test_never_below_minimum(self) -> None:
        """Repeated throttles stop at the minimum."""
        limit = AdaptiveConcurrency(4, minimum=1)
        for _ in range(5):
            limit.on_throttle()
        assert limit.limit == 1

    async def test_slots_bound_calls_in_flight(self) -> None:
        """No more than `limit` blocks run at once."""
        limit = AdaptiveConcurrency(3)
        running = 0
        peak = 0

        async def work() -> None:
            nonlocal running, peak
            async with limit.slot():
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                running -= 1

        await asyncio.gather(*(work() for _ in range(12)))
        assert peak == 3
