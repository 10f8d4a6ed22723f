"""The TLS rule, in one place: credentials never travel unencrypted.

``https://`` always; plain ``http://`` only to a loopback host (the sandboxes served locally);
no check for in-process transports (``ASGITransport``, ``MockTransport``), which never touch a
network. Settings, credentials and both clients apply this same rule.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class InsecureBaseURL(ValueError):
    """A base URL that would send credentials in clear, or is not an absolute http(s) URL."""


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_base_url(url: str, *, setting: str = "base_url") -> str:
    """Return ``url`` normalised with a trailing slash, or raise ``InsecureBaseURL``.

    ``https://`` is always accepted; plain ``http://`` only for loopback hosts (the sandboxes).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InsecureBaseURL(f"{setting} must be an absolute http(s) URL, got {url!r}")
    if parts.username or parts.password:
        raise InsecureBaseURL(f"{setting} must not embed credentials")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InsecureBaseURL(
            f"{setting} uses plain http:// for {parts.hostname!r}; credentials would travel "
            "unencrypted. Use https://, or http:// only for 127.0.0.1/localhost."
        )
    return url if url.endswith("/") else url + "/"


def require_secure_transport(
    base_url: str, transport: httpx.AsyncBaseTransport | None, *, setting: str = "base_url"
) -> None:
    """Apply the TLS rule to a client about to be built; in-process transports are exempt.

    Raises:
        InsecureBaseURL: the rule is broken.
    """
    if isinstance(transport, httpx.ASGITransport | httpx.MockTransport):
        return
    require_secure_base_url(base_url, setting=setting)
