"""What may leave as a URL: launch URLs, image URLs and the links in a path's description.

URLs from Udemy are data like any other: a ``javascript:`` image or a launch URL on someone
else's site must not reach 360Learning. Every URL we send is parsed, checked and rebuilt from its
checked parts:

- everything is ``https``; plain ``http`` stays only for loopback hosts (the sandboxes);
- no credentials (``user:pass@``), no whitespace, control characters or backslashes, a valid port;
- a launch URL must also be on Udemy: the account's host (``{account}.udemy.com``), ``udemy.com``
  or ``www.udemy.com`` (Udemy's own public pages, which redirect a signed-in learner to the
  account), or a host the caller allows (the configured Udemy base URL's host). Anything else is
  a per-item problem: 360Learning would send learners there.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

UDEMY_HOSTS: Final = frozenset({"udemy.com", "www.udemy.com"})
"""Hosts every launch URL may point to, whatever the account."""

# An account name is the sub-domain of https://{account}.udemy.com (research/udemy-api.md §1.2).
_DNS_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})
_MAX_SHOWN: Final = 80


@dataclass(frozen=True, slots=True)
class RejectedUrl:
    """A URL that cannot be sent, and why (the reason names the URL's role: "launch URL …")."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Url:
    scheme: str
    host: str  # lower-case, no trailing dot, no IPv6 brackets
    port: int | None
    parts: SplitResult

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def render(self, scheme: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port is None else f"{host}:{self.port}"
        return urlunsplit((scheme, netloc, self.parts.path, self.parts.query, self.parts.fragment))


def is_loopback(host: str) -> bool:
    """Whether ``host`` is 127.0.0.0/8, ::1 or localhost: where plain http is tolerated."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def account_host(account_name: str) -> str | None:
    """Return ``{account}.udemy.com``, or None when the name is not a single DNS label."""
    account = account_name.strip().lower()
    return f"{account}.udemy.com" if _DNS_LABEL.match(account) else None


def launch_hosts(base_url: str | None) -> frozenset[str]:
    """Return the host of the configured Udemy base URL as a set for ``MappingContext``."""
    if not base_url:
        return frozenset()
    try:
        host = urlsplit(base_url.strip()).hostname
    except ValueError:
        return frozenset()
    return frozenset({host.rstrip(".")}) if host else frozenset()


def _unsafe(text: str) -> bool:
    """Whether ``text`` holds what is never valid unencoded in a URL.

    Whitespace, control and format characters, lone surrogates and backslashes: each is a known
    way to make two URL parsers (ours, a browser's) disagree on the host.
    """
    return "\\" in text or " " in text or not text.isprintable()


def _shown(text: str) -> str:
    """Quote a piece of untrusted text for a reason, cut to a readable length."""
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…")


def _parse(url: str | None, role: str, account_name: str | None) -> _Url | RejectedUrl:
    """Parse an absolute, scheme-relative or (with ``account_name``) relative URL.

    Only the scheme and the host are judged here; the callers decide which of them they accept.
    """
    if url is None or not url.strip():
        return RejectedUrl(f"has no {role}")
    text = url.strip()
    if _unsafe(text):
        return RejectedUrl(
            f"{role} holds characters a URL cannot hold unencoded (whitespace, control "
            "characters, a backslash)"
        )
    if text.startswith("//"):  # scheme-relative: we only ever send https
        text = f"https:{text}"
    try:
        parts = urlsplit(text)
        if not parts.scheme and not parts.netloc:  # relative: /course/x/ (research §3.1)
            host = account_host(account_name) if account_name is not None else None
            if host is None:
                return RejectedUrl(
                    f"{role} is relative and cannot be resolved: the account name is not a "
                    "valid host label"
                )
            parts = urlsplit(urljoin(f"https://{host}/", text))
        port = parts.port  # raises ValueError when not a number in 0..65535
    except ValueError:  # e.g. an unclosed IPv6 bracket, a port out of range
        return RejectedUrl(f"{role} is not a valid URL")
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        return RejectedUrl(f"{role} scheme {_shown(scheme)} is not allowed: only https is sent")
    if "@" in parts.netloc:
        return RejectedUrl(f"{role} embeds credentials (user@ or user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return RejectedUrl(f"{role} has no host")
    if port == 0:
        return RejectedUrl(f"{role} is not a valid URL")
    return _Url(scheme, host, port, parts)


def launch_url(
    url: str | None, account_name: str, *, hosts: frozenset[str] = frozenset()
) -> str | RejectedUrl:
    """Return the launch URL to send for ``url``, or why it cannot be sent.

    A relative URL (``/course/x/``) is joined to ``https://{account_name}.udemy.com``. ``http``
    is upgraded on Udemy's hosts (DESIGN.md course table; 360Learning asks for HTTPS launch URLs
    — research/360learning-api.md §11) and kept only on loopback. The host must be the account's,
    ``udemy.com``, ``www.udemy.com`` or one of ``hosts`` (lower-case).
    """
    parsed = _parse(url, "launch URL", account_name)
    if isinstance(parsed, RejectedUrl):
        return parsed
    own = account_host(account_name)
    if parsed.host not in UDEMY_HOSTS and parsed.host != own and parsed.host not in hosts:
        allowed = ", ".join([*([own] if own else []), *sorted(UDEMY_HOSTS), *sorted(hosts)])
        return RejectedUrl(
            f"launch URL host {_shown(parsed.host)} is not allowed: it must be one of {allowed}"
        )
    return parsed.render("http" if parsed.scheme == "http" and parsed.loopback else "https")


def link_url(url: str | None, account_name: str) -> str | None:
    """Return an https link for a path item's ``url`` (any host), or None to show plain text.

    A path item may be an external article, so the host is free; the other launch-URL rules
    apply (relative joined to the account, http upgraded outside loopback, no credentials).
    """
    parsed = _parse(url, "link", account_name)
    if isinstance(parsed, RejectedUrl):
        return None
    return parsed.render("http" if parsed.scheme == "http" and parsed.loopback else "https")


def image_url(url: str | None) -> str | None:
    """Return ``url`` if it can be sent as ``imageUrl``: https, or http on loopback; else None.

    An unusable image is omitted rather than reported: the course is still worth sending.
    """
    parsed = _parse(url, "image URL", None)
    if isinstance(parsed, RejectedUrl):
        return None
    if parsed.scheme == "http" and not parsed.loopback:
        return None
    return parsed.render(parsed.scheme)
