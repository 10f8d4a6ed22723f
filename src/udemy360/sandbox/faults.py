"""Generic fault injection for the sandboxes: latency, throttling, server errors, cut bodies.

A ``Faults`` object is a per-run plan the sandbox app consults on every API request. It has no
knowledge of either API: paths are matched by prefix, relative to whatever root the app passes.
Randomness is seeded and time comes from an injectable clock, so a failing test replays exactly.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_ERROR_STATUSES: Final = (500, 502, 503, 504, 524)


@dataclass(frozen=True, slots=True)
class FaultResponse:
    """An error answer the app should send instead of the real one."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(slots=True)
class _Countdown:
    path_prefix: str
    remaining: int
    retry_after: str = "1"


@dataclass(slots=True)
class _Bucket:
    rps: float
    retry_after: str | None
    tokens: float
    updated: float


@dataclass(slots=True)
class _Errors:
    probability: float
    statuses: tuple[int, ...]
    path_prefix: str
    rng: random.Random = field(repr=False)


def _matches(prefix: str, path: str) -> bool:
    return path.lstrip("/").startswith(prefix.lstrip("/"))


def _json_body(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


class Faults:
    """What should go wrong, per run. Every setter returns ``self`` so calls can be chained."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep | None = None) -> None:
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._latency = 0.0
        self._bucket: _Bucket | None = None
        self._throttles: list[_Countdown] = []
        self._truncations: list[_Countdown] = []
        self._errors: _Errors | None = None

    def latency(self, seconds: float) -> Faults:
        """Delay every response by ``seconds``."""
        self._latency = max(0.0, seconds)
        return self

    def rate_limit(self, rps: float, *, retry_after: float | None = None) -> Faults:
        """Allow ``rps`` requests per second (burst ``rps``); beyond, answer 429 + Retry-After."""
        if rps <= 0:
            raise ValueError("rps must be positive")
        header = None if retry_after is None else f"{retry_after:g}"
        self._bucket = _Bucket(rps, header, max(1.0, rps), self._clock())
        return self

    def throttle(self, path_prefix: str, times: int = 1, retry_after: float | str = 1) -> Faults:
        """Answer the next ``times`` requests under ``path_prefix`` with 429 + ``Retry-After``.

        ``retry_after`` is seconds, or a string sent verbatim (e.g. an HTTP date).
        """
        header = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        self._throttles.append(_Countdown(path_prefix, times, header))
        return self

    def server_errors(
        self,
        probability: float,
        statuses: Sequence[int] = DEFAULT_ERROR_STATUSES,
        seed: int = 0,
        path_prefix: str = "",
    ) -> Faults:
        """Fail requests at random with one of ``statuses`` (seeded, so runs replay)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        self._errors = _Errors(probability, tuple(statuses), path_prefix, random.Random(seed))
        return self

    def truncate(self, path_prefix: str, times: int = 1) -> Faults:
        """Cut the body of the next ``times`` successful responses under ``path_prefix`` in half."""
        self._truncations.append(_Countdown(path_prefix, times))
        return self

    def clear(self) -> Faults:
        """Remove every fault."""
        self._latency = 0.0
        self._bucket = None
        self._throttles.clear()
        self._truncations.clear()
        self._errors = None
        return self

    def configure(self, plan: Mapping[str, object]) -> Faults:
        """Apply a JSON plan (the ``/_sandbox/faults`` body); keys mirror the method names.

        Example: ``{"latency": 0.05, "throttle": [{"path_prefix": "courses/", "times": 2}],
        "server_errors": {"probability": 0.1, "seed": 3}, "rate_limit": {"rps": 20}}``
        """
        for name, value in plan.items():
            if name == "latency" and isinstance(value, int | float):
                self.latency(float(value))
            elif name in {"throttle", "truncate"} and isinstance(value, list):
                for entry in value:
                    if not isinstance(entry, dict):
                        raise ValueError(f"{name} entries must be objects")
                    getattr(self, name)(**entry)
            elif name in {"rate_limit", "server_errors"} and isinstance(value, dict):
                getattr(self, name)(**value)
            elif name == "clear" and value:
                self.clear()
            else:
                raise ValueError(f"unknown or malformed fault {name!r}")
        return self

    def describe(self) -> dict[str, object]:
        """The active plan, as JSON-friendly data."""
        return {
            "latency": self._latency,
            "rate_limit": None if self._bucket is None else {"rps": self._bucket.rps},
            "throttle": [
                {"path_prefix": t.path_prefix, "remaining": t.remaining} for t in self._throttles
            ],
            "truncate": [
                {"path_prefix": t.path_prefix, "remaining": t.remaining} for t in self._truncations
            ],
            "server_errors": None
            if self._errors is None
            else {"probability": self._errors.probability, "statuses": list(self._errors.statuses)},
        }

    async def delay(self) -> None:
        """Wait the configured latency, if any."""
        if self._latency:
            await self._sleep(self._latency)

    def intercept(self, path: str) -> FaultResponse | None:
        """Decide whether the request to ``path`` fails; call once per request."""
        for countdown in self._throttles:
            if countdown.remaining > 0 and _matches(countdown.path_prefix, path):
                countdown.remaining -= 1
                return FaultResponse(
                    429, {"Retry-After": countdown.retry_after}, _json_body("Too many requests.")
                )
        if self._bucket is not None:
            refused = self._take_token(self._bucket)
            if refused is not None:
                return refused
        errors = self._errors
        if (
            errors is not None
            and _matches(errors.path_prefix, path)
            and errors.rng.random() < errors.probability
        ):
            status = errors.rng.choice(errors.statuses)
            return FaultResponse(status, {}, _json_body(f"Injected error {status}."))
        return None

    def should_truncate(self, path: str) -> bool:
        """Whether this (successful) response body must be cut; counts down the plan."""
        for countdown in self._truncations:
            if countdown.remaining > 0 and _matches(countdown.path_prefix, path):
                countdown.remaining -= 1
                return True
        return False

    def _take_token(self, bucket: _Bucket) -> FaultResponse | None:
        now = self._clock()
        capacity = max(1.0, bucket.rps)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * bucket.rps)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        wait = bucket.retry_after or str(max(1, math.ceil((1.0 - bucket.tokens) / bucket.rps)))
        return FaultResponse(429, {"Retry-After": wait}, _json_body("Request was throttled."))


def truncate_body(body: bytes) -> bytes:
    """Return the first half of ``body``: what a dropped connection mid-response looks like."""
    return body[: len(body) // 2]
