"""Inputs and results shared by the course and learning-path mappers."""

from __future__ import annotations

from dataclasses import dataclass

from udemy360.domain import ItemKind
from udemy360.learning360.models import ExternalCourse


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Everything a mapper needs besides the Udemy item; built once per catalog run."""

    account_name: str
    """Udemy Business account name: relative URLs are joined to ``https://{account_name}.udemy.com``."""
    owner_lang: str | None
    """The connector owner's 360Learning language, used when a course has no usable locale."""
    tags_enabled: bool = False
    learning_paths_enabled: bool = False
    launch_hosts: frozenset[str] = frozenset()
    """Hosts (lower-case) a launch URL may point to besides ``{account_name}.udemy.com``,
    ``udemy.com`` and ``www.udemy.com``: the configured Udemy base URL's host, from
    ``launch_hosts(base_url)``. Empty allows only those three."""


@dataclass(frozen=True, slots=True)
class MappedCourse:
    """A course or learning path ready to upsert, with the hash that detects changes."""

    kind: ItemKind
    external_id: str
    udemy_id: int
    payload: ExternalCourse
    tag_names: tuple[str, ...]
    """Titles to turn into 360Learning tags; empty when tag sync is off and for paths."""
    video_url: str | None
    """Highest-quality promo video (kept in the store, never sent: v2 has no video field)."""
    hash: str


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """An item that cannot be mapped (per-item error, never fatal to the run)."""

    external_id: str | None
    udemy_id: int | None
    reason: str
