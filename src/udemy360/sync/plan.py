"""Pure planning: what to send, skip, archive, restore or tag. No I/O, no clock.

The engine streams Udemy pages and asks these functions, item by item, what to do, so no
function here needs the whole catalog in memory.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from udemy360.store import StatState
from udemy360.sync.errors import ArchiveGuardTripped

ItemAction = Literal["create", "update", "restore", "unchanged", "deferred"]
StatAction = Literal["send", "unchanged", "completed", "hold"]

#: Backoff for failed items never waits longer than this between attempts.
MAX_RETRY_DELAY = timedelta(days=1)
#: 360Learning accepts at most 100 tag ids per course (research/360learning-api.md §13).
MAX_TAGS_PER_COURSE = 100


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the store knows of one catalog item."""

    external_id: str
    payload_hash: str | None  # hash of the last payload 360Learning accepted
    course_id: str | None
    archived: bool = False
    failed: bool = False
    attempts: int = 0
    next_retry_at: datetime | None = None


def plan_item(payload_hash: str, known: KnownItem | None, now: datetime) -> ItemAction:
    """Decide what to do with one listed item, given its mapped hash and the store's row."""
    if known is None:
        return "create"
    if known.failed and known.next_retry_at is not None and known.next_retry_at > now:
        return "deferred"
    if known.archived:
        # upsert first, then un-archive: the docs do not say an upsert un-archives (DESIGN.md)
        return "restore"
    if known.course_id is None:
        return "create"
    if known.payload_hash != payload_hash:
        return "update"
    return "unchanged"


def next_retry_at(attempts: int, now: datetime, base: timedelta) -> datetime:
    """Return when a failed item may be retried: ``base`` doubled per attempt, capped at a day."""
    exponent = max(0, attempts - 1)
    delay: timedelta = base * (2 ** min(exponent, 30))
    return now + min(delay, MAX_RETRY_DELAY)


@dataclass(slots=True)
class ListingTally:
    """Checks one Udemy listing is complete: every page read and the envelope's count matched."""

    name: str
    count: int | None = None
    seen: int = 0
    pages: int = 0
    inconsistent: bool = False
    cut_short: str | None = None
    """Why the client stopped following ``next`` links that the server still gave, if it did."""

    def add_page(
        self, count: int, items: int, problems: int, skipped: int, *, stop: str | None = None
    ) -> None:
        """Account for one page of the listing (``stop``: the client stopped after it, why)."""
        if stop is not None:
            self.cut_short = stop
        if self.count is None:
            self.count = count
        elif self.count != count:
            self.inconsistent = True
        self.pages += 1
        self.seen += items + problems + skipped

    @property
    def complete(self) -> bool:
        """Whether sum(items + problems + skipped) equals the listing's count, and the server
        offered no page beyond it (a ``count`` that lies low must not make records vanish)."""
        return not self.inconsistent and self.cut_short is None and self.seen == (self.count or 0)

    def describe(self) -> str:
        """Say why the listing is (in)complete, for the report."""
        if self.inconsistent:
            return f"{self.name}: the total changed between pages"
        if self.cut_short is not None:
            return f"{self.name}: {self.cut_short}"
        return f"{self.name}: read {self.seen} of {self.count or 0} records"


def check_archive(
    would_archive: int,
    active: int,
    *,
    listings: Sequence[ListingTally],
    max_share: float,
    allow_mass_archive: bool,
) -> None:
    """Raise ``ArchiveGuardTripped`` unless archiving ``would_archive`` items is safe.

    Only a complete listing may archive anything (research/anchors.md §7.1); above
    ``max_share`` of the active items the run refuses unless explicitly overridden.
    """
    # a listing whose every counted record was read, but whose server still offered pages, is
    # complete enough to sync and too doubtful to archive from: it stops only an archive
    doubtful = would_archive > 0 and any(t.cut_short is not None for t in listings)
    incomplete = [t.describe() for t in listings if not t.complete and t.cut_short is None]
    if doubtful:
        incomplete += [t.describe() for t in listings if t.cut_short is not None]
    if incomplete:
        raise ArchiveGuardTripped(
            reason="incomplete_listing",
            would_archive=would_archive,
            active=active,
            max_share=max_share,
            detail="; ".join(incomplete),
        )
    if would_archive == 0 or allow_mass_archive:
        return
    if would_archive > max_share * active:
        raise ArchiveGuardTripped(
            reason="mass_archive",
            would_archive=would_archive,
            active=active,
            max_share=max_share,
        )


@dataclass(frozen=True, slots=True)
class TagPlan:
    """The tag ids to put on a course, and which of them we own there."""

    tag_ids: tuple[str, ...]
    ours: frozenset[str]
    changed: bool


def plan_course_tags(
    current: Sequence[str], ours: Collection[str], wanted: Sequence[str]
) -> TagPlan:
    """Merge the wanted tags into a course's tags, removing only tags we added that are unwanted.

    ``current`` is what the course carries now (read from 360Learning), ``ours`` the tags we
    added there before, ``wanted`` the tags its categories ask for. A wanted tag someone else
    had already put on the course is not claimed as ours, so we never remove it later.
    """
    ours_set = set(ours)
    wanted_set = set(wanted)
    current_set = set(current)
    drop = (ours_set - wanted_set) & current_set
    kept = [t for t in dict.fromkeys(current) if t not in drop]
    added = [t for t in dict.fromkeys(wanted) if t not in current_set]
    room = max(0, MAX_TAGS_PER_COURSE - len(kept))
    added = added[:room]
    final = tuple(kept + added)
    now_ours = (ours_set & wanted_set & set(final)) | set(added)
    return TagPlan(tag_ids=final, ours=frozenset(now_ours), changed=set(final) != current_set)


@dataclass(frozen=True, slots=True)
class KnownStat:
    """What the store knows of one enrollment's statistic."""

    payload_hash: str | None
    state: StatState
    completed: bool
    first_activity_at: datetime | None
    attempts: int = 0  # failed sends so far (the store resends failed rows with backoff)


def plan_statistic(
    payload_hash: str, known: KnownStat | None, *, course_known: bool, full: bool
) -> StatAction:
    """Decide whether to send one mapped statistic.

    Completion is final: an enrollment once sent as completed is never sent again. Unmatched
    learners are re-sent only when their row changed or on a full reconciliation, so a day
    with no change sends nothing.
    """
    if known is not None and known.completed and known.state == StatState.SENT:
        return "completed"
    if not course_known:
        return "hold"
    if known is None or known.state in (StatState.HELD, StatState.FAILED):
        return "send"
    if known.state == StatState.UNMATCHED:
        return "send" if full or known.payload_hash != payload_hash else "unchanged"
    return "send" if known.payload_hash != payload_hash else "unchanged"
