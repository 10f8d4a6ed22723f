"""Keep credentials and signed URLs out of logs, errors and reprs.

Modelled on dlt's ``rest_client/redaction.py``: sanitise a URL before it is logged or put in an
exception, and scrub known secret values from any text that came back from a server.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

REDACTED = "REDACTED"

# Query keys that carry credentials or CDN signatures (Udemy's promo videos are signed
# CloudFront URLs: Expires, Signature, Key-Pair-Id — research/udemy-api.md §3.1).
_SENSITIVE_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "client_id",
        "client_secret",
        "expires",
        "key",
        "key-pair-id",
        "password",
        "policy",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    }
)


def safe_url(url: str | httpx.URL) -> str:
    """Return ``url`` without user-info and with sensitive query values replaced."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [
            (k, REDACTED if k.lower() in _SENSITIVE_KEYS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[],@-",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_query(url: str) -> str:
    """Return ``url`` without its query string and fragment (a signed URL's stable part)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Redactor:
    """Replaces known secret values (and their Basic-auth encoding) in free text."""

    __slots__ = ("_needles",)

    def __init__(self, secrets: Iterable[str]) -> None:
        needles = {s for s in secrets if s and len(s) >= 4}
        self._needles = sorted(needles, key=len, reverse=True)

    @classmethod
    def for_basic_auth(cls, username: str, password: str) -> Redactor:
        """Build a redactor for a Basic-auth pair, including its base64 header form."""
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return cls([password, token])

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._needles)} secrets>)"
