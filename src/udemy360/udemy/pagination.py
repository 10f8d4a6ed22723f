"""Pages of a Udemy listing: the strict envelope, per-record parsing, and page arithmetic.

Udemy paginates like Django REST Framework: ``{count, next, previous, results}`` with 1-based
``page`` numbers and an absolute ``next`` URL (research/udemy-api.md §2.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 100  # research/udemy-api.md §2.3: documented maximum on the sister API


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A record of a page that could not be parsed; the rest of the page is kept."""

    page: int
    index: int
    record_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class UdemyPage(Generic[T]):
    """One page of a listing.

    Summed over a complete listing, ``len(items) + len(problems) + skipped == count``.
    """

    number: int
    count: int
    items: tuple[T, ...]
    problems: tuple[RecordProblem, ...]
    skipped: int = 0


class Envelope(BaseModel):
    """The page envelope, validated strictly: a broken envelope fails the page, not a record."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    count: int = Field(ge=0)
    next: str | None
    results: list[JsonValue]


def describe_validation_error(exc: ValidationError) -> str:
    """Summarise a validation error without echoing input values (they may hold signed URLs)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_records(
    number: int,
    envelope: Envelope,
    parse: Callable[[JsonValue], T],
    keep: Callable[[T], bool] | None = None,
) -> UdemyPage[T]:
    """Validate records one by one: failures become ``RecordProblem``s, dropped ones ``skipped``."""
    items: list[T] = []
    problems: list[RecordProblem] = []
    skipped = 0
    for index, raw in enumerate(envelope.results):
        record_id = None
        if isinstance(raw, dict) and raw.get("id") is not None:
            record_id = str(raw["id"])[:64]
        try:
            item = parse(raw)
        except ValidationError as exc:
            problems.append(RecordProblem(number, index, record_id, describe_validation_error(exc)))
            continue
        except ValueError as exc:
            problems.append(RecordProblem(number, index, record_id, str(exc)[:300]))
            continue
        if keep is not None and not keep(item):
            skipped += 1
            continue
        items.append(item)
    return UdemyPage(number, envelope.count, tuple(items), tuple(problems), skipped)


def page_count(count: int, page_size: int) -> int:
    """How many pages a listing of ``count`` records has (at least one, even when empty)."""
    return max(1, math.ceil(count / page_size))


def page_number_of(next_url: str) -> int | None:
    """The ``page`` query parameter of a ``next`` URL, if it has a valid one."""
    values = parse_qs(urlsplit(next_url).query).get("page")
    if not values:
        return None
    try:
        number = int(values[0])
    except ValueError:
        return None
    return number if number >= 1 else None
