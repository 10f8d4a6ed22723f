"""Field rules shared by courses and learning paths (DESIGN.md course table)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from udemy360.learning360.models import DifficultyLevel, Source
from udemy360.mapping.urls import image_url

IMAGE_SIZES: Final = ("size_750x422", "size_480x270", "size_304x171", "size_240x135")
MIN_DURATION: Final = 1
MAX_DURATION: Final = 100_000  # ExternalCourse.duration bounds — research/360learning-api.md §11.1
DEFAULT_SOURCE: Final = "Udemy"

_LEVELS: Final[Mapping[str, DifficultyLevel]] = {
    "beginner": "beginner",
    "intermediate": "intermediate",
    "expert": "advanced",
}


def pick_image(images: Mapping[str, str] | None) -> str | None:
    """Return the first sendable image of ``IMAGE_SIZES`` (largest first), or None.

    Blank sizes and URLs ``image_url`` refuses (not https, credentials…) fall through to the next.
    """
    for size in IMAGE_SIZES:
        candidate = image_url((images or {}).get(size))
        if candidate is not None:
            return candidate
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
