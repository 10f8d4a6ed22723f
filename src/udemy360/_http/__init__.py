"""Shared HTTP plumbing for both API clients: retry policy, Retry-After, throttles, redaction.

Private to the package: only ``udemy`` and ``learning360`` import it.
"""

from __future__ import annotations

from udemy360._http.base import CountingClient
from udemy360._http.ratelimit import AdaptiveConcurrency, RateLimiter
from udemy360._http.redaction import Redactor, safe_url, strip_query
from udemy360._http.retry import (
    RETRIABLE_STATUSES,
    Clock,
    RetryableError,
    RetryPolicy,
    Sleep,
    parse_retry_after,
    retrying,
)
from udemy360._http.tls import require_secure_base_url

__all__ = [
    "RETRIABLE_STATUSES",
    "AdaptiveConcurrency",
    "Clock",
    "CountingClient",
    "RateLimiter",
    "Redactor",
    "RetryPolicy",
    "RetryableError",
    "Sleep",
    "parse_retry_after",
    "require_secure_base_url",
    "retrying",
    "safe_url",
    "strip_query",
]
