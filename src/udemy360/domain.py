"""The vocabulary every layer shares: what a catalog item is, and what "now" is.

It sits below everything else (mapping, store, engine, faces all import it) so that one concept
has one type: an item kind is ``ItemKind`` everywhere, and a wall clock is a ``Now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

ItemKind = Literal["course", "learning_path"]
"""What a catalog item is on the Udemy side; both become 360Learning external courses."""

Now = Callable[[], datetime]
"""A wall clock returning an aware UTC datetime (injected so tests and benchmarks can move time)."""


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
