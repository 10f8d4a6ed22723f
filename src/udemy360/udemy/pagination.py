"""Pages of a Udemy listing: the strict envelope, per-record parsing, and page arithmetic.

Udemy paginates like Django REST Framework: ``{count, next, previous, results}`` with 1-based
``page`` numbers and an absolute ``next`` URL (research/udemy-api.md §2.3). DRF never sends an
empty page with a ``next`` link, nor a ``next`` link once ``count`` records are out; a listing
that does either is ended by the client and the page says why (``UdemyPage.stop``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from udemy360.udemy.models import MAX_ID, safe_text

T = TypeVar("T")

MAX_PAGE_SIZE = 100  # research/udemy-api.md §2.3: documented maximum on the sister API
_REASON_LIMIT: Final = 300
_RECORD_ID_LIMIT: Final = 64

StopKind = Literal["count_reached", "empty_page", "page_cap"]


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A record of a page that could not be parsed; the rest of the page is kept."""

    page: int
    index: int
    record_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ListingStop:
    """Why the client stopped following ``next`` links after a page, though one was given.

    ``count_reached``: every record the first page announced has been read (the listing is
    complete). ``empty_page``: a page came with no records but a ``next`` link. ``page_cap``: more
    pages than ``count`` allows at the server's page size (plus a little slack) were read. After
    the last two the listing holds fewer records than ``count``.
    """

    kind: StopKind
    page: int
    reason: str


@dataclass(frozen=True, slots=True)
class UdemyPage(Generic[T]):
    """One page of a listing.

    Summed over a complete listing, ``len(items) + len(problems) + skipped == count``. ``stop`` is
    set on the last page when the client ended the listing although the server linked further.
    """

    number: int
    count: int
    items: tuple[T, ...]
    problems: tuple[RecordProblem, ...]
    skipped: int = 0
    stop: ListingStop | None = None


class Envelope(BaseModel):
    """The page envelope, validated strictly: a broken envelope fails the page, not a record."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    count: int = Field(ge=0, le=MAX_ID)
    next: str | None
    # Records are validated one by one later; ``object`` keeps a deep or odd record from
    # failing the whole page here (and skips walking every value twice).
    results: list[object]


def describe_validation_error(exc: ValidationError) -> str:
    """Summarise a validation error without echoing input values (they may hold signed URLs).

    The summary is safe text of bounded length: it ends up in reports and the store.
    """
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    return safe_text("; ".join(parts))[:_REASON_LIMIT]


def _record_id(raw: object) -> str | None:
    """The ``id`` of a raw record as text, when it is an integer or a string."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, int) and value.bit_length() > 1024:
        return None  # str() refuses ints beyond 4,300 digits; no id is that long anyway
    return safe_text(str(value)[:_RECORD_ID_LIMIT]) or None


def parse_records(
    number: int,
    envelope: Envelope,
    parse: Callable[[object], T],
    keep: Callable[[T], bool] | None = None,
) -> UdemyPage[T]:
    """Validate records one by one: failures become ``RecordProblem``s, dropped ones ``skipped``."""
    items: list[T] = []
    problems: list[RecordProblem] = []
    skipped = 0
    for index, raw in enumerate(envelope.results):
        try:
            item = parse(raw)
        except ValidationError as exc:
            reason = describe_validation_error(exc)
            problems.append(RecordProblem(number, index, _record_id(raw), reason))
            continue
        except ValueError as exc:
            reason = safe_text(str(exc))[:_REASON_LIMIT]
            problems.append(RecordProblem(number, index, _record_id(raw), reason))
            continue
        if keep is not None and not keep(item):
            skipped += 1
            continue
        items.append(item)
    return UdemyPage(number, envelope.count, tuple(items), tuple(problems), skipped)


def page_count(count: int, page_size: int) -> int:
    """How many pages a listing of ``count`` records has (at least one, even when empty)."""
    return max(1, -(-count // page_size))


def max_pages(count: int, page_size: int) -> int:
    """The most pages a listing of ``count`` records may take at ``page_size`` per page.

    The slack (two pages and 1%) absorbs records retired while the listing is read, which shift
    later records back a page.
    """
    pages = page_count(count, page_size)
    return pages + 2 + pages // 100


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


class ListingGuard:
    """Decides, page after page of a listing followed by ``next`` links, when to stop.

    Built from page 1's ``count`` and the server's page size; it ends the listing once ``count``
    records are read, on an empty page that links further, and past ``max_pages`` pages, so a
    server that keeps sending forward links cannot keep a run reading forever.
    """

    def __init__(self, count: int, page_size: int) -> None:
        self.count = count
        self.cap = max_pages(count, max(1, page_size))
        self.pages = 0
        self.read = 0

    def stop_after(self, number: int, envelope: Envelope) -> ListingStop | None:
        """Account for page ``number``; say why its ``next`` link must not be followed, if so."""
        self.pages += 1
        self.read += len(envelope.results)
        if envelope.next is None:
            return None
        if self.read >= self.count:
            return ListingStop(
                "count_reached",
                number,
                f"all {self.count} records announced were read by page {number}; "
                "its next link is not followed",
            )
        if not envelope.results:
            return ListingStop(
                "empty_page", number, f"page {number} holds no records but links to a next page"
            )
        if self.pages >= self.cap:
            return ListingStop(
                "page_cap",
                number,
                f"{self.pages} pages read ({self.read} of {self.count} records): the most this "
                "listing may take; the server keeps linking further",
            )
        return None
