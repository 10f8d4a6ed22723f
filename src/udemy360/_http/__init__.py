"""Shared HTTP plumbing for both API clients: one send path (deadline, counts, TLS rule), one
retry idiom, Retry-After, throttles, body parsing, redaction.

Private to the package: the two clients import it; ``config`` and ``logs`` use the TLS rule and
the redactor.
"""

from __future__ import annotations

from udemy360._http.base import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, ENDPOINT_EXTENSION, ApiClient
from udemy360._http.body import UnusableBody, may_hold_unsafe_text, parse_json
from udemy360._http.ratelimit import AdaptiveConcurrency, RateLimiter
from udemy360._http.redaction import Redactor, safe_url, strip_query
from udemy360._http.retry import (
    RETRIABLE_STATUSES,
    Clock,
    RetryableError,
    RetryPolicy,
    Sleep,
    call_with_retries,
    parse_retry_after,
)
from udemy360._http.tls import InsecureBaseURL, require_secure_base_url, require_secure_transport

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "ENDPOINT_EXTENSION",
    "RETRIABLE_STATUSES",
    "AdaptiveConcurrency",
    "ApiClient",
    "Clock",
    "InsecureBaseURL",
    "RateLimiter",
    "Redactor",
    "RetryPolicy",
    "RetryableError",
    "Sleep",
    "UnusableBody",
    "call_with_retries",
    "may_hold_unsafe_text",
    "parse_json",
    "parse_retry_after",
    "require_secure_base_url",
    "require_secure_transport",
    "safe_url",
    "strip_query",
]
