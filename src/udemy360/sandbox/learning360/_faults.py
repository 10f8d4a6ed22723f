"""Fault plans and throttles of the 360Learning sandbox: latency, errors, rate limits, bulk."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

__all__ = ["BulkDelays", "FailRule", "Learning360Faults", "ResultsFault"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# research/360learning-api.md §6: 50 GET/s and 10 writes/s per company.
DEFAULT_READS_PER_SECOND: Final = 50.0
DEFAULT_WRITES_PER_SECOND: Final = 10.0


@dataclass(frozen=True, slots=True)
class BulkDelays:
    """How long, in seconds of sandbox clock, a bulk operation spends in each stage."""

    pending: float = 0.05
    queued: float = 0.05
    per_item: float = 0.0005


ResultsFaultKind: TypeAlias = Literal["echo_other", "missing", "extra", "shuffled"]


@dataclass(frozen=True, slots=True)
class ResultsFault:
    """Results of one bulk operation that cannot be paired with its inputs.

    ``echo_other``: the result at ``index`` echoes another item's input (its neighbour's, or an
    item that was never sent when the operation has only one); ``missing``: the result at
    ``index`` is left out; ``extra``: a copy of the result at ``index`` is appended; ``shuffled``:
    the results come in reverse order. ``index`` is clamped to the results.
    """

    kind: ResultsFaultKind
    index: int = 0

    def apply(self, results: list[dict[str, object]]) -> list[dict[str, object]]:
        """Return ``results`` spoiled as this fault says (the list is changed in place)."""
        if not results:
            return results
        at = max(0, min(self.index, len(results) - 1))
        if self.kind == "missing":
            del results[at]
        elif self.kind == "extra":
            results.append(copy.deepcopy(results[at]))
        elif self.kind == "shuffled":
            results.reverse()
        elif len(results) > 1:
            results[at] = {**results[at], "input": results[(at + 1) % len(results)]["input"]}
        else:
            results[at] = {**results[at], "input": _another_item(results[at]["input"])}
        return results


def _another_item(echo: object) -> object:
    """An input like ``echo`` that names an item nobody sent."""
    if not isinstance(echo, dict):
        return echo
    other = copy.deepcopy(echo)
    if "externalId" in other:
        other["externalId"] = f"{other['externalId']}-other"
    user = other.get("userIdentifier")
    if isinstance(user, dict):
        user["value"] = f"other.{user.get('value')}"
    return other


@dataclass(slots=True)
class FailRule:
    """Answer the next ``times`` matching requests with ``status`` and error ``code``."""

    method: str
    path_prefix: str
    status: int
    code: str
    times: int
    retry_after: float | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        return (
            self.times > 0
            and self.method.upper() in {method.upper(), "*"}
            and path.startswith(self.path_prefix)
        )


class _TokenBucket:
    """A token bucket holding at most one second of requests, refilled by the sandbox clock."""

    __slots__ = ("_clock", "_last", "_tokens", "rate")

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class Learning360Faults:
    """What the sandbox does wrong on purpose; ``clear()`` returns to the defaults.

    Rate limits are on by default (50 reads/s and 10 writes/s per company, by the sandbox clock),
    as on the real platform. ``latency`` awaits the injected ``sleep``.
    """

    def __init__(self, clock: Clock, *, sleep: Sleep = _real_sleep) -> None:
        self._clock = clock
        self.sleep = sleep
        self.delay = 0.0
        self.rules: list[FailRule] = []
        self.bulk_failures = 0
        self.results_faults: list[ResultsFault] = []
        self.delays = BulkDelays()
        self.expired_generation = 0
        self._reads: _TokenBucket | None = None
        self._writes: _TokenBucket | None = None
        self.rate_limit()

    def latency(self, seconds: float) -> None:
        """Delay every API response by ``seconds`` (awaiting the injected ``sleep``)."""
        self.delay = seconds

    def rate_limit(
        self,
        reads_per_second: float | None = DEFAULT_READS_PER_SECOND,
        writes_per_second: float | None = DEFAULT_WRITES_PER_SECOND,
    ) -> None:
        """Set the per-company token buckets; ``None`` switches that limit off."""
        self._reads = _TokenBucket(reads_per_second, self._clock) if reads_per_second else None
        self._writes = _TokenBucket(writes_per_second, self._clock) if writes_per_second else None

    def disable_rate_limit(self) -> None:
        """Switch both rate limits off (benchmarks that measure the client's own throttle)."""
        self.rate_limit(None, None)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        code: str,
        times: int = 1,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` requests under ``path_prefix`` with ``status`` and ``code``.

        ``method`` ``"*"`` matches any method.
        """
        self.rules.append(FailRule(method, path_prefix, status, code, times, retry_after))

    def bulk_error(self, next_n: int = 1) -> None:
        """Make the next ``next_n`` bulk operations end in status ``error``."""
        self.bulk_failures += next_n

    def unpairable_results(
        self, kind: ResultsFaultKind, *, index: int = 0, next_n: int = 1
    ) -> None:
        """Make the next ``next_n`` bulk operations answer results that cannot be paired.

        See :class:`ResultsFault` for the kinds; the operations themselves are applied normally.
        """
        self.results_faults.extend([ResultsFault(kind, index)] * next_n)

    def expire_tokens(self) -> None:
        """Invalidate every token issued so far (the next call gets 401 ``invalid_token``)."""
        self.expired_generation += 1

    def bulk_delays(
        self, pending: float = 0.05, queued: float = 0.05, per_item: float = 0.0005
    ) -> None:
        """Set bulk stage durations: pending, queued, and running per item (sandbox seconds)."""
        self.delays = BulkDelays(pending, queued, per_item)

    def clear(self) -> None:
        """Remove every injected fault and restore default rate limits and bulk delays."""
        self.delay = 0.0
        self.rules.clear()
        self.bulk_failures = 0
        self.results_faults.clear()
        self.delays = BulkDelays()
        self.rate_limit()

    def take_rule(self, method: str, path: str) -> FailRule | None:
        """Consume and return the first rule matching this request, if any."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.times -= 1
                return rule
        return None

    def allow(self, *, write: bool) -> bool:
        """Take one token from the read or write bucket; False means answer 429."""
        bucket = self._writes if write else self._reads
        return bucket is None or bucket.take()

    def take_results_fault(self) -> ResultsFault | None:
        """The results fault of the operation being created, if one is planned."""
        return self.results_faults.pop(0) if self.results_faults else None

    def take_bulk_failure(self) -> bool:
        """Whether the operation being created must end in ``error``."""
        if self.bulk_failures > 0:
            self.bulk_failures -= 1
            return True
        return False
