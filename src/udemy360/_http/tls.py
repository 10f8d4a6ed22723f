"""Base-URL checks shared by both clients: credentials never travel unencrypted."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_base_url(url: str, *, setting: str = "base_url") -> str:
    """Return ``url`` normalised with a trailing slash, or raise ``ValueError``.

    ``https://`` is always accepted; plain ``http://`` only for loopback hosts (the sandboxes).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{setting} must be an absolute http(s) URL, got {url!r}")
    if parts.username or parts.password:
        raise ValueError(f"{setting} must not embed credentials")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{setting} uses plain http:// for {parts.hostname!r}; credentials would travel "
            "unencrypted. Use https://, or http:// only for 127.0.0.1/localhost."
        )
    return url if url.endswith("/") else url + "/"
