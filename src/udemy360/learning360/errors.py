"""Errors raised by the 360Learning client.

::

    Learning360Error
     ├ Learning360TransportError      network failure (after retries when the call was idempotent)
     ├ Learning360AuthError           401 invalid_client, or invalid_token even after one renewal
     ├ Learning360ScopeError          403 invalid_scope; names the OAuth scope the call needs
     ├ Learning360NotFound            404 *NotFound codes (integrationNotFound, courseNotFound, …)
     ├ Learning360RateLimited         429 tooManyRequests with the retry budget spent
     ├ BulkConcurrencyLimitReached    429 bulkOperationsConcurrencyLimitReached, waited too long
     ├ BulkOperationFailed            a bulk operation ended with status "error"
     ├ BulkOperationTimeout           a bulk operation did not end within the client's bulk_timeout
     ├ Learning360ServerError         5xx (including 503 bulkAPIDisabled) with the budget spent
     ├ Learning360ResponseError       a 2xx whose body is not what the API documents
     └ Learning360RequestError        other 4xx: invalidInput, reservedPlatformName,
                                      duplicateExternalPlatform, tagNameNotAvailable, …

Every error carries ``status``, ``code``, a sanitised ``url`` and a ``body_excerpt`` (≤ 2 KB, with
known secrets scrubbed), never a token or a client secret.
"""

from __future__ import annotations

from typing import Final

BODY_EXCERPT_LIMIT: Final = 2048


class Learning360Error(Exception):
    """Base class of every error raised by ``udemy360.learning360``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        url: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.url = url
        self.body_excerpt = body_excerpt[:BODY_EXCERPT_LIMIT] if body_excerpt else body_excerpt

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None or self.code:
            parts.append(f"(status={self.status}, code={self.code})")
        if self.url:
            parts.append(f"[{self.url}]")
        return " ".join(parts)


class Learning360TransportError(Learning360Error):
    """The request never got an HTTP answer (connection, timeout, protocol error)."""


class Learning360AuthError(Learning360Error):
    """The credentials were refused, or a fresh token was refused again."""


class Learning360ScopeError(Learning360Error):
    """The API credentials lack the OAuth scope the operation needs."""

    def __init__(
        self,
        message: str,
        *,
        scope: str | None = None,
        status: int | None = None,
        code: str | None = None,
        url: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, url=url, body_excerpt=body_excerpt)
        self.scope = scope


class Learning360NotFound(Learning360Error):
    """The resource (integration, course, tag, user, bulk operation) does not exist."""


class Learning360RateLimited(Learning360Error):
    """360Learning kept answering 429 tooManyRequests until the retry budget was spent."""


class BulkConcurrencyLimitReached(Learning360Error):
    """All of the company's bulk-operation slots stayed busy for longer than we wait."""


class BulkOperationFailed(Learning360Error):
    """A bulk operation ended with status ``error``; ``error_message`` is 360Learning's reason."""

    def __init__(
        self, operation_id: str, error_message: str | None, *, operation_type: str | None = None
    ) -> None:
        super().__init__(
            f"bulk operation {operation_id} ({operation_type or 'unknown type'}) failed: "
            f"{error_message or 'no message given'}",
            code="bulkOperationError",
        )
        self.operation_id = operation_id
        self.operation_type = operation_type
        self.error_message = error_message


class BulkOperationTimeout(Learning360Error):
    """A bulk operation was still not finished when the client stopped waiting for it."""

    def __init__(self, operation_id: str, last_status: str, waited: float) -> None:
        super().__init__(
            f"bulk operation {operation_id} still {last_status!r} after waiting {waited:.0f}s; "
            "it keeps running on 360Learning and can be resumed by polling its id",
            code="bulkOperationTimeout",
        )
        self.operation_id = operation_id
        self.last_status = last_status
        self.waited = waited


class Learning360ServerError(Learning360Error):
    """360Learning answered 5xx (or 503 bulkAPIDisabled) until the retry budget was spent."""


class Learning360ResponseError(Learning360Error):
    """A successful status came with a body or headers unlike what the API documents."""


class Learning360RequestError(Learning360Error):
    """360Learning rejected the request (4xx other than auth, scope, not-found and throttling)."""
