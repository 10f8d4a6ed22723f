"""Generic fault injection for the sandboxes: latency, throttling, server errors, cut bodies,
bodies sent a few bytes at a time, and bodies replaced by arbitrary bytes (deep nesting, not text).

A ``Faults`` object is a per-run plan the sandbox app consults on every API request. It has no
knowledge of either API: paths are matched by prefix, relative to whatever root the app passes.
Randomness is seeded and time comes from an injectable clock, so a failing test replays exactly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
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
class _Trickle:
    path_prefix: str
    remaining: int
    bytes_per_second: float


@dataclass(slots=True)
class _Body:
    path_prefix: str
    remaining: int
    status: int
    body: bytes = field(repr=False)


@dataclass(slots=True)
class _Errors:
    probability: float
    statuses: tuple[int, ...]
    path_prefix: str
    rng: random.Random = field(repr=False)


def path_matches(prefix: str, path: str) -> bool:
    """Whether ``path`` is under ``prefix`` (leading slashes ignored on both)."""
    return path.lstrip("/").startswith(prefix.lstrip("/"))


def _json_body(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


def nested_json(depth: int) -> bytes:
    """A page envelope whose one record is an array nested ``depth`` deep (``json`` recurses)."""
    return b'{"count":1,"next":null,"results":[' + b"[" * depth + b"]" * depth + b"]}"


class Faults:
    """What should go wrong, per run. Every setter returns ``self`` so calls can be chained."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep | None = None) -> None:
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._latency = 0.0
        self._bucket: _Bucket | None = None
        self._throttles: list[_Countdown] = []
        self._truncations: list[_Countdown] = []
        self._trickles: list[_Trickle] = []
        self._bodies: list[_Body] = []
        self._errors: _Errors | None = None

    @property
    def sleep(self) -> Sleep:
        """The sleep this plan waits with (injected in tests)."""
        return self._sleep

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

    def trickle(self, path_prefix: str, *, bytes_per_second: float = 1.0, times: int = 1) -> Faults:
        """Send the next ``times`` successful bodies under ``path_prefix`` at this rate.

        The status and headers go out at once and the body follows slowly, as from a server
        that stalls mid-response; waiting uses the plan's ``sleep``.
        """
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        self._trickles.append(_Trickle(path_prefix, times, bytes_per_second))
        return self

    def replace_body(
        self, path_prefix: str, body: bytes | str, *, status: int = 200, times: int = 1
    ) -> Faults:
        """Answer the next ``times`` requests under ``path_prefix`` with ``body`` as it is.

        Any bytes go (not UTF-8, not JSON, nested 100,000 deep: see ``nested_json``); a string
        is sent UTF-8 encoded, with lone surrogates passed through as their raw bytes.
        """
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
        self._bodies.append(_Body(path_prefix, times, status, raw))
        return self

    def nested(self, path_prefix: str, *, depth: int = 100_000, times: int = 1) -> Faults:
        """Answer the next ``times`` requests with a page whose record is nested ``depth`` deep."""
        return self.replace_body(path_prefix, nested_json(depth), times=times)

    def clear(self) -> Faults:
        """Remove every fault."""
        self._latency = 0.0
        self._bucket = None
        self._throttles.clear()
        self._truncations.clear()
        self._trickles.clear()
        self._bodies.clear()
        self._errors = None
        return self

    def configure(self, plan: Mapping[str, object]) -> Faults:
        """Apply a JSON plan (the ``/_sandbox/faults`` body); keys mirror the method names.

        Example: ``{"latency": 0.05, "throttle": [{"path_prefix": "courses/", "times": 2}],
        "server_errors": {"probability": 0.1, "seed": 3}, "rate_limit": {"rps": 20},
        "trickle": [{"path_prefix": "courses/", "bytes_per_second": 1}],
        "nested": [{"path_prefix": "courses/", "depth": 100000}],
        "replace_body": [{"path_prefix": "courses/", "body_base64": "/w=="}]}``
        (``replace_body`` takes ``body`` as text or ``body_base64`` for any bytes).
        """
        for name, value in plan.items():
            if name == "latency" and isinstance(value, int | float):
                self.latency(float(value))
            elif name in {"throttle", "truncate", "trickle", "nested"} and isinstance(value, list):
                for entry in value:
                    if not isinstance(entry, dict):
                        raise ValueError(f"{name} entries must be objects")
                    getattr(self, name)(**entry)
            elif name == "replace_body" and isinstance(value, list):
                for entry in value:
                    if not isinstance(entry, dict):
                        raise ValueError(f"{name} entries must be objects")
                    entry = dict(entry)
                    if "body_base64" in entry:
                        entry["body"] = base64.b64decode(str(entry.pop("body_base64")))
                    self.replace_body(**entry)
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
            "trickle": [
                {
                    "path_prefix": t.path_prefix,
                    "remaining": t.remaining,
                    "bytes_per_second": t.bytes_per_second,
                }
                for t in self._trickles
            ],
            "replace_body": [
                {"path_prefix": b.path_prefix, "remaining": b.remaining, "status": b.status}
                for b in self._bodies
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
            if countdown.remaining > 0 and path_matches(countdown.path_prefix, path):
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
            and path_matches(errors.path_prefix, path)
            and errors.rng.random() < errors.probability
        ):
            status = errors.rng.choice(errors.statuses)
            return FaultResponse(status, {}, _json_body(f"Injected error {status}."))
        for body in self._bodies:
            if body.remaining > 0 and path_matches(body.path_prefix, path):
                body.remaining -= 1
                return FaultResponse(body.status, {}, body.body)
        return None

    def should_truncate(self, path: str) -> bool:
        """Whether this (successful) response body must be cut; counts down the plan."""
        for countdown in self._truncations:
            if countdown.remaining > 0 and path_matches(countdown.path_prefix, path):
                countdown.remaining -= 1
                return True
        return False

    def trickle_rate(self, path: str) -> float | None:
        """Bytes per second to send this (successful) body at, if it must trickle; counts down."""
        for trickle in self._trickles:
            if trickle.remaining > 0 and path_matches(trickle.path_prefix, path):
                trickle.remaining -= 1
                return trickle.bytes_per_second
        return None

    async def trickled(self, body: bytes, bytes_per_second: float) -> AsyncIterator[bytes]:
        """Yield ``body`` in small pieces, waiting between them to keep to the rate."""
        # about twenty pieces a second, at least one byte each
        piece = max(1, int(bytes_per_second / 20))
        for start in range(0, len(body), piece):
            chunk = body[start : start + piece]
            await self._sleep(len(chunk) / bytes_per_second)
            yield chunk

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
