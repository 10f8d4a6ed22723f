"""Field rules shared by courses and learning paths (DESIGN.md course table)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from udemy360.learning360.models import DifficultyLevel, Source

IMAGE_SIZES: Final = ("size_750x422", "size_480x270", "size_304x171", "size_240x135")
MIN_DURATION: Final = 1
MAX_DURATION: Final = 100_000  # ExternalCourse.duration bounds — research/360learning-api.md §11.1
DEFAULT_SOURCE: Final = "Udemy"
# An account name is the sub-domain of https://{account}.udemy.com (research/udemy-api.md §1.2).
_DNS_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

_LEVELS: Final[Mapping[str, DifficultyLevel]] = {
    "beginner": "beginner",
    "intermediate": "intermediate",
    "expert": "advanced",
}


def launch_url(url: str | None, account_name: str) -> str | None:
    """Return an HTTPS launch URL for ``url``, or None when it cannot be one.

    ``http://`` is upgraded (360Learning asks for HTTPS launch URLs — research/360learning-api.md
    §11); a relative URL (``/course/x/``) is joined to ``https://{account_name}.udemy.com``; any
    other scheme (``udemyufb://`` app links, ``javascript:``) gives None.
    """
    if url is None or not url.strip():
        return None
    url = url.strip()
    if url.startswith("//"):  # scheme-relative
        url = f"https:{url}"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0  # .port raises when out of range
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"}:
        if not parts.hostname or not port_ok:
            return None
        return urlunsplit(("https", parts.netloc, parts.path, parts.query, parts.fragment))
    if scheme or parts.netloc:
        return None
    account = account_name.strip().lower()
    if not _DNS_LABEL.match(account):
        return None
    return urljoin(f"https://{account}.udemy.com/", url)


def pick_image(images: Mapping[str, str] | None) -> str | None:
    """Return the first non-blank image of ``IMAGE_SIZES`` (largest first), or None."""
    for size in IMAGE_SIZES:
        candidate = (images or {}).get(size)
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def clamp_duration(minutes: float | None) -> int | None:
    """Return minutes clamped to 1..100000, or None (field omitted) when missing or not positive."""
    if minutes is None or not minutes > 0:  # `not > 0` is also true for NaN
        return None
    if minutes == float("inf"):
        return MAX_DURATION
    return min(max(round(minutes), MIN_DURATION), MAX_DURATION)


def clean_names(names: Iterable[str | None], *, case_insensitive: bool = False) -> tuple[str, ...]:
    """Trim ``names``, drop blanks and duplicates, and keep the first spelling in order.

    With ``case_insensitive``, ``"Python"`` and ``"python"`` count as the same name.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for name in names:
        trimmed = (name or "").strip()
        key = trimmed.casefold() if case_insensitive else trimmed
        if trimmed and key not in seen:
            seen.add(key)
            kept.append(trimmed)
    return tuple(kept)


def sources_for(names: Iterable[str | None]) -> list[Source]:
    """Return one source per cleaned name, or ``[{"name": "Udemy"}]`` when there is none."""
    cleaned = clean_names(names)
    return [Source(name=name) for name in cleaned] or [Source(name=DEFAULT_SOURCE)]


def map_difficulty(level: str | None) -> DifficultyLevel | None:
    """Return 360Learning's difficultyLevel; "All Levels" and unknown values give None (omitted).

    Matching ignores case and a trailing " Level" (``instructional_level`` spells it
    "Beginner Level" — research/360learning-api.md §17).
    """
    key = (level or "").strip().casefold().removesuffix(" level").strip()
    return _LEVELS.get(key)
