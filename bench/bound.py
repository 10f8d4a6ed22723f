"""The best time any connector could reach, given the two APIs' limits and the work a sync needs.

The bound is a small deterministic schedule, not a measurement: Udemy pages are read as fast as
the Udemy budget allows, each 360Learning bulk batch is submitted as soon as its last item has
been read (and a bulk slot and a write slot are free), is processed for the sandbox's configured
time, and is then confirmed with one poll and one results read. With tag sync on, each course's
tag call waits for its batch's results (it needs the course id), and every write — bulk submits,
tag creations, tag replacements — shares one write budget. Everything that can overlap
overlaps; only the dependencies the APIs impose are serialised. See BENCHMARKS.md for the formula.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

UDEMY_PAGE_SIZE = 100  # research/udemy-api.md §2.3: page_size at most 100
UPSERT_BATCH = 10_000  # research/360learning-api.md §10.5: courses and statistics per submit
ARCHIVE_BATCH = 1_000  # research/360learning-api.md §10.5: external ids per archive submit


@dataclass(frozen=True, slots=True)
class Limits:
    """The API limits and latencies the sandboxes were started with (all are bench flags)."""

    udemy_latency: float = 0.2
    udemy_rps: float = 20.0
    l360_latency: float = 0.05
    l360_reads_per_second: float = 50.0
    l360_writes_per_second: float = 10.0
    bulk_concurrency: int = 3
    bulk_pending: float = 0.2
    bulk_queued: float = 0.2
    bulk_per_item: float = 0.0005

    def processing(self, items: int) -> float:
        """Return how long the sandbox takes to process one bulk operation of ``items``."""
        return self.bulk_pending + self.bulk_queued + self.bulk_per_item * items


@dataclass(frozen=True, slots=True)
class BulkWork:
    """Items of one kind that must be sent in bulk, spread evenly over the Udemy pages read."""

    kind: str  # "courses", "stats" or "archive"
    items: int
    batch_size: int = UPSERT_BATCH

    @property
    def batches(self) -> int:
        """Return the number of submits needed: ceil(items / batch size)."""
        return math.ceil(self.items / self.batch_size) if self.items else 0


@dataclass(frozen=True, slots=True)
class Workload:
    """What one run needs: Udemy pages to read and 360Learning work to do.

    ``after_listing`` marks work that may only start once every page is read (archiving needs a
    complete listing — DESIGN.md "Catalog rules").
    """

    udemy_pages: int
    bulk: tuple[BulkWork, ...] = ()
    after_listing: tuple[BulkWork, ...] = ()
    l360_reads_at_start: int = 1  # the owner's language (catalog runs), read before mapping
    l360_token_requests: int = 1
    # Tag sync: tags created (`POST /tags`, possible once the first page is read), course tag
    # replacements (`PUT /courses/{id}/tags`, possible once the course's batch has results),
    # and course tag reads made before a replacement (`GET /courses/{id}/tags`).
    tag_creates: int = 0
    tag_puts: int = 0
    tag_reads: int = 0
    tag_kind: str = "courses"  # the bulk kind whose results the tag replacements wait for


@dataclass(frozen=True, slots=True)
class Bound:
    """The bound for one workload, with the parts that explain it."""

    seconds: float
    udemy_seconds: float
    l360_tail_seconds: float
    udemy_requests: int
    l360_writes: int
    l360_reads: int
    notes: tuple[str, ...] = field(default=())
    tag_writes: int = 0


def udemy_read_time(pages: int, limits: Limits) -> float:
    """Return when the last of ``pages`` pages has arrived, reading as fast as allowed.

    Page 1 of a listing must come back before the others can be asked for (it carries ``count``),
    so it costs one full latency; the rest start every 1/rps seconds and the last one still takes
    one latency: ``L + (N - 2)/R + L`` for N >= 2.
    """
    if pages <= 0:
        return 0.0
    if pages == 1:
        return limits.udemy_latency
    return 2 * limits.udemy_latency + (pages - 2) / limits.udemy_rps


def _page_arrival(page: int, pages: int, limits: Limits) -> float:
    """Return when page number ``page`` (1-based) of ``pages`` has arrived in the ideal schedule."""
    if page <= 1:
        return limits.udemy_latency
    return udemy_read_time(page, limits)


def _ready_times(
    work: BulkWork, pages: int, limits: Limits, floor: float
) -> list[tuple[float, int]]:
    """Return (ready time, items) per batch, items spread evenly over the pages."""
    out: list[tuple[float, int]] = []
    for b in range(work.batches):
        size = min(work.batch_size, work.items - b * work.batch_size)
        last_item = b * work.batch_size + size  # 1-based index of the batch's last item
        page = max(1, math.ceil(last_item * pages / work.items)) if pages else 0
        ready = _page_arrival(page, pages, limits) if pages else 0.0
        out.append((max(ready, floor), size))
    return out


def compute_bound(work: Workload, limits: Limits) -> Bound:
    """Return the shortest time a connector could complete ``work`` under ``limits``."""
    lat = limits.l360_latency
    write_gap = 1.0 / limits.l360_writes_per_second
    read_gap = 1.0 / limits.l360_reads_per_second
    udemy_done = udemy_read_time(work.udemy_pages, limits)
    # The token and the owner's language are 360Learning round trips made before the first item
    # can be mapped; they overlap with the first Udemy page.
    start_calls = work.l360_token_requests + work.l360_reads_at_start
    mapping_floor = start_calls * lat

    # (ready, items, tag replacements waiting for this batch's results)
    batches: list[tuple[float, int, int]] = []
    for w in work.bulk:
        ready = _ready_times(w, work.udemy_pages, limits, mapping_floor)
        tags = _spread(work.tag_puts, [n for _, n in ready]) if w.kind == work.tag_kind else []
        batches.extend((r, n, tags[i] if tags else 0) for i, (r, n) in enumerate(ready))
    for w in work.after_listing:
        size_left = w.items
        for _ in range(w.batches):
            size = min(w.batch_size, size_left)
            size_left -= size
            batches.append((max(udemy_done, mapping_floor), size, 0))
    batches.sort()

    # Greedy list schedule: at most ``bulk_concurrency`` operations unfinished at once, writes
    # (submits and tag calls) spaced by the write rate, each operation followed by one poll and
    # one results read (reads at <= 50/s), then its courses' tag calls.
    slots: list[float] = [0.0] * limits.bulk_concurrency
    heapq.heapify(slots)
    writes = _WriteBudget(write_gap)
    next_read = 0.0
    finish = 0.0
    tag_ready: list[float] = []
    first_page = max(_page_arrival(1, work.udemy_pages, limits), mapping_floor)
    tag_ready.extend([first_page] * work.tag_creates)
    # a course whose tags must be read first costs one more round trip before its write
    read_first = lat if work.tag_reads else 0.0
    for ready, size, tags in batches:
        slot_free = heapq.heappop(slots)
        submit = writes.take(max(ready, slot_free))
        accepted = submit + lat
        ended = accepted + limits.processing(size)
        poll = max(ended, next_read)
        next_read = poll + read_gap
        terminal_seen = poll + lat
        heapq.heappush(slots, terminal_seen)
        results = max(terminal_seen, next_read)
        next_read = results + read_gap
        finish = max(finish, results + lat)
        tag_ready.extend([results + lat + read_first] * tags)
    for ready in sorted(tag_ready):
        finish = max(finish, writes.take(ready) + lat)

    total = max(udemy_done, finish, mapping_floor)
    tag_writes = work.tag_creates + work.tag_puts
    return Bound(
        seconds=total,
        udemy_seconds=udemy_done,
        l360_tail_seconds=max(0.0, total - udemy_done),
        udemy_requests=work.udemy_pages,
        l360_writes=len(batches) + tag_writes,
        l360_reads=work.l360_reads_at_start + 2 * len(batches) + work.tag_reads,
        tag_writes=tag_writes,
    )


class _WriteBudget:
    """The 360Learning write budget: any two writes at least ``gap`` seconds apart.

    Each write takes the earliest time, not before it is ready, that keeps it ``gap`` away from
    every write already scheduled (a gap left between earlier writes may be used). The
    sandbox's bucket also allows a one-second burst, which this ignores: at most one second.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.busy: list[float] = []  # start times of scheduled writes, ascending

    def take(self, ready: float) -> float:
        """Schedule one write at the first time >= ``ready`` that is ``gap`` from every other."""
        at = ready
        i = bisect.bisect_left(self.busy, at - self.gap + 1e-12)
        while i < len(self.busy) and self.busy[i] < at + self.gap - 1e-12:
            at = self.busy[i] + self.gap
            i += 1
        bisect.insort(self.busy, at)
        return at


def _spread(total: int, sizes: Sequence[int]) -> list[int]:
    """Split ``total`` over batches in proportion to their ``sizes`` (sums exactly)."""
    whole = sum(sizes)
    if not whole or not total:
        return [0] * len(sizes)
    out: list[int] = []
    done = 0
    running = 0
    for size in sizes:
        running += size
        upto = round(total * running / whole)
        out.append(upto - done)
        done = upto
    return out


def pages_for(count: int) -> int:
    """Return the pages a listing of ``count`` records takes (an empty one is still a page)."""
    return max(1, math.ceil(count / UDEMY_PAGE_SIZE))


def efficiency(bound_seconds: float, measured_seconds: float) -> float:
    """Return bound ÷ measured (1.0 = as fast as the APIs allow)."""
    return bound_seconds / measured_seconds if measured_seconds > 0 else 0.0


def describe(items: Sequence[BulkWork]) -> str:
    """Return a short human description of bulk work, e.g. ``courses 3100 in 1``."""
    return ", ".join(f"{w.kind} {w.items} in {w.batches}" for w in items if w.items)
