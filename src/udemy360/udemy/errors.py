"""Errors raised by the Udemy Business client.

::

    UdemyError
    ├── UdemyTransportError   connection failure or timeout, after retries
    ├── UdemyAuthError        401/403: bad credentials or no API access (never retried)
    ├── UdemyRateLimited      429 after the retry budget, or a Retry-After longer than allowed
    └── UdemyResponseError    other non-2xx, invalid envelope, non-JSON body, pagination loop

    UdemyConfigError (ValueError)   a bad account name/id or base URL, raised before any request

Every field is safe to log: URLs go through ``safe_url`` and body excerpts through the client's
redactor, so no credential or signed query string ends up in a message.
"""

from __future__ import annotations


class UdemyConfigError(ValueError):
    """A Udemy setting is invalid; the message names the setting and how to fix it."""


class UdemyError(Exception):
    """Base class of every error the Udemy client raises at runtime."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} ({self.url})" if self.url else self.message


class UdemyTransportError(UdemyError):
    """The request never got an HTTP answer (connection error, timeout), after retries."""


class UdemyAuthError(UdemyError):
    """Udemy refused the credentials (401) or the account has no API access (403)."""

    def __init__(self, message: str, *, status: int, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


class UdemyRateLimited(UdemyError):
    """Udemy kept answering 429, or asked us to wait longer than the policy allows."""

    def __init__(self, message: str, *, retry_after: float | None, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.retry_after = retry_after


class UdemyResponseError(UdemyError):
    """Udemy answered, but not with something we can use."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.body_excerpt = body_excerpt
