"""The shared retry policy: Retry-After first, capped backoff, bounded attempts and time."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from udemy360._http import RetryableError, RetryPolicy, call_with_retries, parse_retry_after


class FakeSleep:
    """Records waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class TestParseRetryAfter:
    def test_seconds(self) -> None:
        """A number of seconds is returned as a float."""
        assert parse_retry_after("7") == 7.0

    def test_http_date(self) -> None:
        """An HTTP date is turned into the seconds left until it."""
        now = datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC)
        assert parse_retry_after("Sat, 28 Nov 2026 08:00:30 GMT", now=now) == 30.0

    def test_past_date_is_zero(self) -> None:
        """A date already past means no wait, never a negative one."""
        now = datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC)
        assert parse_retry_after("Sat, 28 Nov 2026 07:00:00 GMT", now=now) == 0.0

    @pytest.mark.parametrize("value", [None, "", "soon", "-"])
    def test_unusable_values(self, value: str | None) -> None:
        """Missing or unparseable headers give None so backoff applies."""
        assert parse_retry_after(value) is None


class Final(Exception):
    """What a client would raise once its retry budget is spent."""


def retry(reason: str, *, retry_after: float | None = None) -> RetryableError:
    return RetryableError(reason, final=Final(reason), retry_after=retry_after)


class TestCallWithRetries:
    async def _run(self, policy: RetryPolicy, failures: list[RetryableError]) -> int:
        calls = 0

        async def attempt() -> int:
            nonlocal calls
            calls += 1
            if failures:
                raise failures.pop(0)
            return calls

        return await call_with_retries(policy, attempt, what="test")

    async def test_retry_after_wins_over_backoff(self) -> None:
        """A server's Retry-After is waited exactly, then the call's value is returned."""
        sleep = FakeSleep()
        policy = RetryPolicy(sleep=sleep)
        calls = await self._run(policy, [retry("429", retry_after=7.0)])
        assert calls == 2
        assert sleep.calls == [7.0]

    async def test_backoff_grows_and_is_capped(self) -> None:
        """Without Retry-After, waits grow exponentially within [ceiling/2, ceiling]."""
        sleep = FakeSleep()
        policy = RetryPolicy(
            max_attempts=6, base_delay=1.0, max_delay=4.0, sleep=sleep, rng=random.Random(1)
        )
        await self._run(policy, [retry("503") for _ in range(5)])
        ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
        assert len(sleep.calls) == 5
        for wait, ceiling in zip(sleep.calls, ceilings, strict=True):
            assert ceiling / 2 <= wait <= ceiling

    async def test_attempt_budget_raises_the_last_final_error(self) -> None:
        """When attempts run out the last attempt's final error is raised, chained to it."""
        sleep = FakeSleep()
        policy = RetryPolicy(max_attempts=3, sleep=sleep)
        with pytest.raises(Final, match="third") as info:
            await self._run(policy, [retry("first"), retry("second"), retry("third")])
        assert isinstance(info.value.__cause__, RetryableError)
        assert len(sleep.calls) == 2

    async def test_total_time_budget(self) -> None:
        """Waits that would pass max_elapsed stop the retries."""
        sleep = FakeSleep()
        policy = RetryPolicy(max_attempts=100, max_elapsed=10.0, sleep=sleep)
        with pytest.raises(Final):
            await self._run(policy, [retry("x", retry_after=4.0) for _ in range(10)])
        assert sleep.calls == [4.0, 4.0]

    async def test_long_retry_after_is_not_shortened(self) -> None:
        """A Retry-After above max_retry_after raises at once instead of waiting less."""
        sleep = FakeSleep()
        policy = RetryPolicy(max_retry_after=60.0, sleep=sleep)
        with pytest.raises(Final) as info:
            await self._run(policy, [retry("429", retry_after=3600.0)])
        cause = info.value.__cause__
        assert isinstance(cause, RetryableError)
        assert cause.retry_after == 3600.0
        assert sleep.calls == []

    async def test_other_exceptions_are_not_retried(self) -> None:
        """Only RetryableError triggers a retry; a bug fails at once."""
        sleep = FakeSleep()
        calls = 0

        async def buggy() -> None:
            nonlocal calls
            calls += 1
            raise KeyError("bug")

        with pytest.raises(KeyError):
            await call_with_retries(RetryPolicy(sleep=sleep), buggy, what="test")
        assert calls == 1
        assert sleep.calls == []
