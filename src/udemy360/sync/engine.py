"""Run orchestration: the catalog run and the statistics run.

Each run takes the connection's lock, resumes bulk operations a crashed run left behind,
streams Udemy pages, maps and diffs them against the store, sends only what changed in bulk
batches while the next pages are still being read, records every outcome, and ends with a
``RunReport`` persisted with the run. Client errors end the run as "failed", never as a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from udemy360.learning360 import (
    BulkItemResult,
    BulkOperation,
    BulkOperationFailed,
    ExternalStatistic,
    Learning360Client,
    Learning360Error,
    Learning360NotFound,
    Learning360RequestError,
)
from udemy360.mapping import (
    CourseKind,
    MappedCourse,
    MappedStatistic,
    MappingContext,
    MappingProblem,
    SkippedRow,
    map_activity,
    map_course,
    map_learning_path,
    normalize_email,
    path_external_id,
)
from udemy360.store import (
    ItemOutcome,
    ItemRow,
    ItemState,
    ItemUpdate,
    LockHeld,
    RunStatus,
    StatRow,
    StatState,
    StatUpdate,
    Store,
)
from udemy360.sync.errors import ArchiveGuardTripped, SyncError
from udemy360.sync.options import SyncOptions
from udemy360.sync.plan import (
    ItemAction,
    KnownItem,
    KnownStat,
    ListingTally,
    check_archive,
    next_retry_at,
    plan_course_tags,
    plan_item,
    plan_statistic,
)
from udemy360.sync.report import Job, ProgressSink, RunReport, Status, Tally, calls_delta
from udemy360.udemy import UdemyClient, UdemyCourseActivity, UdemyError

logger = logging.getLogger(__name__)

Now = Callable[[], datetime]

#: Default lease on a connection; renewed while the run goes.
LOCK_TTL = 600.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _owner(job: str) -> str:
    return f"{job}@{socket.gethostname()}:{os.getpid()}"


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_error(exc: BaseException) -> BaseException:
    """Return the first leaf of an exception group (task groups wrap what a task raised)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


# 360Learning's per-item message for a learner it does not know (research/360learning-api.md
# §15.4 leaves it undocumented; these words are what the API and the sandbox use).
_UNKNOWN_LEARNER_HINTS = ("user not found", "usernotfound", "unknown user", "no user")


def is_unknown_learner(message: str | None) -> bool:
    """Whether a statistic's per-item error means 360Learning does not know the learner."""
    text = (message or "").lower().replace(" ", "")
    return any(hint.replace(" ", "") in text for hint in _UNKNOWN_LEARNER_HINTS)


class _NoProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, n: int = 1) -> None:
        pass

    def finish(self, task: str) -> None:
        pass


@dataclass(slots=True)
class _Lease:
    """Renews the store lease now and then while the run goes."""

    lease: object
    ttl: float
    last: float = field(default_factory=time.monotonic)

    def keep_alive(self) -> None:
        if time.monotonic() - self.last > self.ttl / 3:
            renew = getattr(self.lease, "renew", None)
            if callable(renew):
                renew()
            self.last = time.monotonic()


class _Run:
    """What both jobs share: lock, run row, call counting, report."""

    job: Job = "courses"

    def __init__(
        self,
        store: Store,
        udemy: UdemyClient,
        l360: Learning360Client,
        options: SyncOptions,
        *,
        dry_run: bool,
        now: Now,
        progress: ProgressSink | None,
        lock_ttl: float,
    ) -> None:
        self.store = store
        self.udemy = udemy
        self.l360 = l360
        self.options = options
        self.conn = options.connection_id
        self.dry_run = dry_run
        self.now = now
        self.progress: ProgressSink = progress or _NoProgress()
        self.lock_ttl = lock_ttl
        self.tally = Tally()
        self.full = False
        self.run_id: int | None = None
        self.lease: _Lease | None = None
        self.outcomes: list[ItemOutcome] = []

    async def execute(self) -> RunReport:
        started = self.now()
        udemy_before = dict(self.udemy.call_counts)
        l360_before = dict(self.l360.call_counts)
        try:
            lock_cm: AbstractContextManager[object] = self.store.lock(
                self.conn, owner=_owner(self.job), ttl=self.lock_ttl
            )
            with lock_cm as lease:
                self.lease = _Lease(lease, self.lock_ttl)
                return await self._locked(started, udemy_before, l360_before)
        except LockHeld as exc:
            ended = self.now()
            return RunReport(
                run_id=None,
                connection_id=self.conn,
                job=self.job,
                status="locked",
                dry_run=self.dry_run,
                full=self.full,
                started_at=started,
                ended_at=ended,
                counts=self.tally.snapshot_counts(),
                calls={},
                errors=(f"another run holds the lock: {exc.holder} until {exc.expires_at}",),
            )

    async def _locked(
        self, started: datetime, udemy_before: Mapping[str, int], l360_before: Mapping[str, int]
    ) -> RunReport:
        self.decide_full(started)
        self.run_id = self.store.start_run(
            self.conn, self.job, dry_run=self.dry_run, full=self.full, now=started
        )
        status: Status
        try:
            if not self.dry_run:
                await self.resume_pending()
            status = await self.body(started)
        except ArchiveGuardTripped as exc:
            self.tally.error(exc.message)
            status = "refused" if exc.reason == "mass_archive" else "failed"
        except (UdemyError, Learning360Error, SyncError) as exc:
            self.tally.error(f"run failed: {exc}")
            status = "failed"
        except BaseExceptionGroup as group:
            leaf = _first_error(group)
            if not isinstance(leaf, UdemyError | Learning360Error | SyncError):
                raise
            self.tally.error(f"run failed: {leaf}")
            status = "failed"
        self.flush_outcomes()
        ended = self.now()
        calls = calls_delta(udemy_before, self.udemy.call_counts, "udemy")
        calls.update(calls_delta(l360_before, self.l360.call_counts, "360"))
        report = RunReport(
            run_id=self.run_id,
            connection_id=self.conn,
            job=self.job,
            status=status,
            dry_run=self.dry_run,
            full=self.full,
            started_at=started,
            ended_at=ended,
            counts=self.tally.snapshot_counts(),
            calls=calls,
            errors=tuple(self.tally.errors),
            unmatched=tuple(sorted(self.tally.unmatched.items())),
        )
        self.store.finish_run(
            self.run_id,
            # the store has no "refused" status; the report keeps the exact one
            status=RunStatus.FAILED if status == "refused" else RunStatus(status),
            ended_at=ended,
            counts=dict(report.counts),
            calls=dict(report.calls),
            errors=list(report.errors),
            report=report.to_dict(),
        )
        logger.info(
            "run finished: connection=%s run_id=%s job=%s status=%s",
            self.conn,
            self.run_id,
            self.job,
            status,
        )
        return report

    def decide_full(self, started: datetime) -> None:
        """Decide whether this run is a full one (statistics only)."""

    async def body(self, started: datetime) -> Status:
        raise NotImplementedError

    def item_error(
        self, kind: str, external_id: str, message: str, mail: str | None = None
    ) -> None:
        self.tally.add("failed")
        self.tally.error(f"{kind} {external_id}{f' ({mail})' if mail else ''}: {message}")
        self.outcomes.append(ItemOutcome(kind, external_id, "error", message, mail))

    def flush_outcomes(self) -> None:
        if self.outcomes and self.run_id is not None:
            self.store.add_item_outcomes(self.run_id, self.conn, self.outcomes)
        self.outcomes = []

    def status_from_tally(self) -> Status:
        return "partial" if self.tally.counts["failed"] else "succeeded"

    async def submit_and_record(self, op_type: str, op: BulkOperation, count: int) -> None:
        # persist the operation id BEFORE waiting: a crashed run resumes by polling it (STYLE §4.7)
        self.store.record_bulk_operation(self.conn, self.run_id, op.id, op_type, count, self.now())

    async def wait(self, op: BulkOperation) -> BulkOperation:
        """Wait for a bulk operation to end; record its end; raise if it ended in error."""
        try:
            done = await self.l360.wait_for_operation(op.id)
        except BulkOperationFailed:
            self.store.finish_bulk_operation(op.id, "error", self.now())
            raise
        self.store.finish_bulk_operation(op.id, done.status, self.now())
        if done.status == "error":
            raise BulkOperationFailed(done.id, done.error_message, operation_type=done.type)
        return done

    async def resume_pending(self) -> None:
        """Poll the bulk operations a crashed run left behind, and record what they did."""
        for pending in self.store.pending_bulk_operations(self.conn):
            logger.info("resuming bulk operation %s (%s)", pending.op_id, pending.op_type)
            try:
                done = await self.l360.wait_for_operation(pending.op_id)
            except BulkOperationFailed:
                self.store.finish_bulk_operation(pending.op_id, "error", self.now())
                continue
            except Learning360NotFound:
                self.store.finish_bulk_operation(pending.op_id, "lost", self.now())
                continue
            self.store.finish_bulk_operation(pending.op_id, done.status, self.now())
            if done.status != "completed":
                continue
            results = await self.l360.get_operation_results(pending.op_id)
            if pending.op_type == "courses":
                self._resume_courses(results)
            elif pending.op_type == "archive":
                archived = [
                    str(r.input.get("externalId"))
                    for r in results
                    if r.ok and r.input.get("externalId")
                ]
                self.store.mark_archived(self.conn, archived, self.now())
            # statistics are simply sent again: with a stable firstActivityAt, 360Learning
            # updates the same attempt (research/360learning-api.md §15.2)

    def _resume_courses(self, results: Sequence[object]) -> None:
        """Keep the course ids an interrupted upsert produced; the hash stays unknown (resend)."""
        ok = [r for r in results if isinstance(r, BulkItemResult) and r.ok and r.resource_id]
        ids = [str(r.input.get("externalId")) for r in ok]
        known = self.store.get_items(self.conn, ids)
        updates = []
        for result, ext in zip(ok, ids, strict=True):
            row = known.get(ext)
            if row is not None and row.course_id:
                continue
            kind: CourseKind = "learning_path" if ext.startswith("lp-") else "course"
            udemy_id = int(ext.removeprefix("lp-")) if ext.removeprefix("lp-").isdigit() else 0
            updates.append(
                ItemUpdate(
                    external_id=ext,
                    kind=kind,
                    udemy_id=row.udemy_id if row else udemy_id,
                    state=ItemState.ACTIVE,
                    payload_hash=None,  # unknown: the next listing re-sends it (idempotent upsert)
                    course_id=result.resource_id,
                    last_sent_at=self.now(),
                )
            )
        if updates:
            self.store.upsert_item_results(self.conn, updates)


# ---------------------------------------------------------------------------------------------
# catalog


@dataclass(frozen=True, slots=True)
class _SentItem:
    """What the engine keeps of an item while its batch is in flight (not the payload)."""

    external_id: str
    kind: CourseKind
    udemy_id: int
    hash: str
    video_url: str | None
    action: ItemAction
    attempts: int
    course_id: str | None
    tag_names: tuple[str, ...]


def _known_item(row: ItemRow) -> KnownItem:
    return KnownItem(
        external_id=row.external_id,
        payload_hash=row.payload_hash,
        course_id=row.course_id,
        archived=row.state == ItemState.ARCHIVED or row.archived_at is not None,
        failed=row.state == ItemState.FAILED
        or (row.attempts > 0 and row.next_retry_at is not None),
        attempts=row.attempts,
        next_retry_at=row.next_retry_at,
    )


class _CourseRun(_Run):
    job: Job = "courses"

    def __init__(self, *args: object, allow_mass_archive: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.allow_mass_archive = allow_mass_archive
        self.listings: list[ListingTally] = []
        self.tag_ids: dict[str, str] = {}
        self.tag_lock = asyncio.Lock()
        self.buffer: list[MappedCourse] = []
        self.buffer_actions: list[tuple[ItemAction, KnownItem | None]] = []
        self.seen_at: datetime | None = None

    async def body(self, started: datetime) -> Status:
        owner = await self.l360.get_user(self.options.owner_id)
        ctx = MappingContext(
            account_name=self.options.account_name,
            owner_lang=owner.lang,
            tags_enabled=self.options.tags_enabled,
            learning_paths_enabled=self.options.learning_paths_enabled,
        )
        if self.options.tags_enabled:
            await self._load_tags()
        seen_at = self._seen_marker(started)
        self.seen_at = seen_at
        async with asyncio.TaskGroup() as tasks:
            await self._stream(ctx, seen_at, tasks)
        self.flush_outcomes()
        await self._archive(seen_at)
        return self.status_from_tally()

    def _seen_marker(self, started: datetime) -> datetime:
        """Return this run's ``seen_at``: strictly later than any earlier mark."""
        marker = started
        for run in self.store.list_runs(self.conn, limit=2):
            if run.run_id != self.run_id and run.started_at >= marker:
                marker = run.started_at + timedelta(milliseconds=1)
        return marker

    async def _load_tags(self) -> None:
        # learn existing tags once per run; names compare case-insensitively (DESIGN.md)
        self.tag_ids = dict(self.store.get_tag_ids(self.conn))
        async for tag in self.l360.iter_tags():
            self.tag_ids.setdefault(tag.name.strip().lower(), tag.id)

    async def _stream(
        self, ctx: MappingContext, seen_at: datetime, tasks: asyncio.TaskGroup
    ) -> None:
        courses = ListingTally("courses")
        self.listings.append(courses)
        self.progress.start("courses", None)
        async for page in self.udemy.iter_course_pages():
            courses.add_page(page.count, len(page.items), len(page.problems), page.skipped)
            mapped = [map_course(course, ctx) for course in page.items]
            problem_ids = [p.record_id for p in page.problems if p.record_id]
            await self._page("course", mapped, problem_ids, page.problems, seen_at, tasks)
            self.progress.advance("courses", len(page.items) + len(page.problems))
        self.progress.finish("courses")
        if self.options.learning_paths_enabled:
            paths = ListingTally("learning paths")
            self.listings.append(paths)
            self.progress.start("learning paths", None)
            async for lp_page in self.udemy.iter_learning_path_pages():
                paths.add_page(
                    lp_page.count, len(lp_page.items), len(lp_page.problems), lp_page.skipped
                )
                mapped = [map_learning_path(path, ctx) for path in lp_page.items]
                problem_ids = [
                    path_external_id(int(p.record_id))
                    for p in lp_page.problems
                    if p.record_id and p.record_id.isdigit()
                ]
                await self._page(
                    "learning_path", mapped, problem_ids, lp_page.problems, seen_at, tasks
                )
                self.progress.advance("learning paths", len(lp_page.items) + len(lp_page.problems))
            self.progress.finish("learning paths")
        if self.buffer:
            await self._send(tasks)

    async def _page(
        self,
        kind: str,
        mapped: Sequence[MappedCourse | MappingProblem],
        problem_ids: Sequence[str],
        problems: Sequence[object],
        seen_at: datetime,
        tasks: asyncio.TaskGroup,
    ) -> None:
        if self.lease is not None:
            self.lease.keep_alive()
        self.tally.add("fetched", len(mapped) + len(problems))
        for problem in problems:
            record_id = getattr(problem, "record_id", None) or "?"
            self.item_error(kind, str(record_id), str(getattr(problem, "reason", "invalid record")))
        good = [m for m in mapped if isinstance(m, MappedCourse)]
        seen = [m.external_id for m in good] + list(problem_ids)
        for m in mapped:
            if isinstance(m, MappingProblem):
                self.item_error(kind, m.external_id or str(m.udemy_id or "?"), m.reason)
                if m.external_id:
                    seen.append(m.external_id)
        # seen marks drive the archive diff; they are bookkeeping, not writes to 360Learning
        self.store.mark_seen(self.conn, seen, seen_at)
        known = self.store.get_items(self.conn, [m.external_id for m in good])
        now = self.now()
        for m in good:
            row = known.get(m.external_id)
            item = _known_item(row) if row is not None else None
            action = plan_item(m.hash, item, now)
            if action == "unchanged":
                self.tally.add("unchanged")
            elif action == "deferred":
                self.tally.add("deferred")
            elif self.dry_run:
                self.tally.add(f"would_{action}")
            else:
                self.buffer.append(m)
                self.buffer_actions.append((action, item))
                if len(self.buffer) >= self.options.course_batch_size:
                    await self._send(tasks)

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        batch, actions = self.buffer, self.buffer_actions
        self.buffer, self.buffer_actions = [], []
        # blocks while the client's bulk slots are busy: that is what bounds memory
        op = await self.l360.submit_courses(self.options.integration_id, [m.payload for m in batch])
        await self.submit_and_record("courses", op, len(batch))
        sent = [
            _SentItem(
                external_id=m.external_id,
                kind=m.kind,
                udemy_id=m.udemy_id,
                hash=m.hash,
                video_url=m.video_url,
                action=action,
                attempts=item.attempts if item else 0,
                course_id=item.course_id if item else None,
                tag_names=m.tag_names,
            )
            for m, (action, item) in zip(batch, actions, strict=True)
        ]
        tasks.create_task(self._finish_batch(op, sent))

    async def _finish_batch(self, op: BulkOperation, items: Sequence[_SentItem]) -> None:
        await self.wait(op)
        results = await self.l360.get_operation_results(op.id)
        by_id = {str(r.input.get("externalId")): r for r in results}
        now = self.now()
        updates: list[ItemUpdate] = []
        accepted: list[tuple[_SentItem, str]] = []
        for item in items:
            result = by_id.get(item.external_id)
            course_id = (result.resource_id if result else None) or item.course_id
            if result is not None and result.ok and course_id:
                updates.append(
                    ItemUpdate(
                        external_id=item.external_id,
                        kind=item.kind,
                        udemy_id=item.udemy_id,
                        # a restored item stays "archived" in the store until the restore call
                        state=ItemState.ARCHIVED if item.action == "restore" else ItemState.ACTIVE,
                        payload_hash=item.hash,
                        course_id=course_id,
                        video_url=item.video_url,
                        last_sent_at=now,
                        seen_at=self.seen_at,
                    )
                )
                accepted.append((item, course_id))
                if item.action != "restore":
                    self.tally.add("created" if item.action == "create" else "updated")
            else:
                message = (result.error_message if result else None) or "no result for this item"
                updates.append(self._failed(item, now, message))
                self.item_error(item.kind, item.external_id, message)
        self.store.upsert_item_results(self.conn, updates)
        for item, course_id in accepted:
            await self._after_upsert(item, course_id)
        self.flush_outcomes()

    def _failed(self, item: _SentItem, now: datetime, message: str) -> ItemUpdate:
        attempts = item.attempts + 1
        return ItemUpdate(
            external_id=item.external_id,
            kind=item.kind,
            udemy_id=item.udemy_id,
            # an archived item whose restore failed stays archived (the store clears
            # archived_at for any other state), so the next run tries the restore again
            state=ItemState.ARCHIVED if item.action == "restore" else ItemState.FAILED,
            last_error=message,
            payload_hash=None,  # forces a resend once the retry time has come
            course_id=item.course_id,
            attempts=attempts,
            next_retry_at=next_retry_at(attempts, now, self.options.retry_failed_after),
            video_url=item.video_url,
            seen_at=self.seen_at,
        )

    async def _after_upsert(self, item: _SentItem, course_id: str) -> None:
        """Restore and tag an accepted item; failures here are the item's, not the run's."""
        try:
            if item.action == "restore":
                await self.l360.set_course_archived(course_id, False)
                self.store.mark_restored(self.conn, [item.external_id], self.now())
                self.tally.add("restored")
            if self.options.tags_enabled and item.kind == "course":
                await self._tag(item, course_id)
        except (Learning360NotFound, Learning360RequestError) as exc:
            failed = self._failed(_with_course(item, course_id), self.now(), str(exc))
            self.store.upsert_item_results(self.conn, [failed])
            self.item_error(item.kind, item.external_id, str(exc))

    async def _ensure_tag(self, name: str) -> str:
        key = name.strip().lower()
        async with self.tag_lock:
            tag_id = self.tag_ids.get(key)
            if tag_id is None:
                tag = await self.l360.create_tag(name.strip())
                tag_id = tag.id
                self.tag_ids[key] = tag_id
                self.tally.add("tags_created")
            self.store.save_tag(self.conn, name.strip(), tag_id)
            return tag_id

    async def _tag(self, item: _SentItem, course_id: str) -> None:
        wanted = [await self._ensure_tag(name) for name in item.tag_names]
        current = [t.tag_id for t in await self.l360.get_course_tags(course_id)]
        ours = self.store.get_item_tags(self.conn, item.external_id)
        plan = plan_course_tags(current, ours, wanted)
        if plan.changed:
            await self.l360.replace_course_tags(course_id, plan.tag_ids)
            self.tally.add("tagged")
        self.store.set_item_tags(self.conn, item.external_id, plan.ours)

    async def _archive(self, seen_at: datetime) -> None:
        kinds = ["course", *(["learning_path"] if self.options.learning_paths_enabled else [])]
        unseen: list[str] = []
        active = 0
        for kind in kinds:
            for row in self.store.iter_items(self.conn, kind=kind):  # type: ignore[arg-type]
                if row.state == ItemState.ARCHIVED or row.course_id is None:
                    continue
                active += 1
                if row.seen_at is None or row.seen_at < seen_at:
                    unseen.append(row.external_id)
        check_archive(
            len(unseen),
            active,
            listings=self.listings,
            max_share=self.options.max_archive_share,
            allow_mass_archive=self.allow_mass_archive,
        )
        if not unseen:
            return
        if self.dry_run:
            self.tally.add("would_archive", len(unseen))
            return
        for chunk in _chunks(unseen, self.options.archive_batch_size):
            op = await self.l360.submit_archive(self.options.integration_id, chunk)
            await self.submit_and_record("archive", op, len(chunk))
            await self.wait(op)
            results = await self.l360.get_operation_results(op.id)
            by_id = {str(r.input.get("externalId")): r for r in results}
            done = [ext for ext in chunk if (r := by_id.get(ext)) is not None and r.ok]
            self.store.mark_archived(self.conn, done, self.now())
            self.tally.add("archived", len(done))
            for ext in chunk:
                r = by_id.get(ext)
                if r is None or not r.ok:
                    message = (r.error_message if r else None) or "no result for this item"
                    kind = "learning_path" if ext.startswith("lp-") else "course"
                    self.item_error(kind, ext, f"archive failed: {message}")


def _with_course(item: _SentItem, course_id: str) -> _SentItem:
    return _SentItem(
        external_id=item.external_id,
        kind=item.kind,
        udemy_id=item.udemy_id,
        hash=item.hash,
        video_url=item.video_url,
        action=item.action,
        attempts=item.attempts,
        course_id=course_id,
        tag_names=item.tag_names,
    )


# ---------------------------------------------------------------------------------------------
# statistics


def _known_stat(row: StatRow) -> KnownStat:
    return KnownStat(
        payload_hash=row.payload_hash,
        state=row.state.value,
        completed=row.completed,
        first_activity_at=row.first_activity_at,
    )


class _StatsRun(_Run):
    job: Job = "stats"

    def __init__(self, *args: object, full: bool | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.requested_full = full
        self.pull_all = False
        self.from_date: datetime | None = None
        self.batch: list[MappedStatistic] = []
        self.batch_prior: list[KnownStat | None] = []
        self.langs: dict[str, str | None] = {}

    def decide_full(self, started: datetime) -> None:
        last = self.store.last_successful_run(self.conn, "stats")
        if self.requested_full is not None:
            self.full = self.requested_full
        else:
            last_full = self.store.last_successful_run(self.conn, "stats", full=True)
            every = timedelta(days=self.options.full_stats_every_days)
            self.full = last_full is None or started - last_full.started_at >= every
        if self.full or last is None:
            self.pull_all = True
        else:
            self.from_date = last.started_at - timedelta(days=self.options.stats_overlap_days)

    async def body(self, started: datetime) -> Status:
        if not self.pull_all and self._held_rows_resolvable():
            # held rows are rebuilt by pulling everything again rather than by storing
            # learners' activity: see docs/sync.md "Held statistics"
            self.pull_all = True
            self.from_date = None
        from_date = None if self.pull_all or self.from_date is None else self.from_date.date()
        self.progress.start("statistics", None)
        async with asyncio.TaskGroup() as tasks:
            async for page in self.udemy.iter_activity_pages(from_date=from_date):
                if self.lease is not None:
                    self.lease.keep_alive()
                await self._page(page.items, tasks)
                for problem in page.problems:
                    self.tally.add("skipped")
                    self.outcomes.append(
                        ItemOutcome(
                            "statistic", str(problem.record_id or "?"), "skipped", problem.reason
                        )
                    )
                self.progress.advance("statistics", len(page.items) + len(page.problems))
            if self.batch:
                await self._send(tasks)
        self.progress.finish("statistics")
        return self.status_from_tally()

    def _held_rows_resolvable(self) -> bool:
        held = {
            row.external_course_id for row in self.store.iter_stats(self.conn, state=StatState.HELD)
        }
        if not held:
            return False
        items = self.store.get_items(self.conn, held)
        return any(_course_active(row) for row in items.values())

    async def _course_lang(self, external_id: str, row: ItemRow | None) -> str | None:
        """Return the course's defaultLang, read once per run from 360Learning."""
        if external_id not in self.langs:
            lang: str | None = None
            if row is not None and _course_active(row):
                info = await self.l360.get_external_course(self.options.integration_id, external_id)
                lang = info.default_lang if info is not None else None
            self.langs[external_id] = lang
        return self.langs[external_id]

    async def _page(self, rows: Sequence[object], tasks: asyncio.TaskGroup) -> None:
        activity = [r for r in rows if isinstance(r, UdemyCourseActivity)]
        self.tally.add("fetched", len(activity))
        keys = {
            (str(r.course_id), mail)
            for r in activity
            if (mail := normalize_email(r.user_email)) is not None
        }
        known = self.store.get_stats(self.conn, keys)
        courses = self.store.get_items(self.conn, {str(r.course_id) for r in activity})
        held: list[StatUpdate] = []
        seen_keys: set[tuple[str, str]] = set()
        for r in activity:
            ext = str(r.course_id)
            mail = normalize_email(r.user_email)
            row = known.get((ext, mail)) if mail else None
            course = courses.get(ext)
            course_known = course is not None and _course_active(course)
            lang = await self._course_lang(ext, course) if course_known else None
            mapped = map_activity(
                r, course_lang=lang, first_activity_at=row.first_activity_at if row else None
            )
            if isinstance(mapped, SkippedRow):
                self.tally.add("skipped")
                self.outcomes.append(
                    ItemOutcome("statistic", ext, "skipped", f"{mapped.reason}: {mapped.detail}")
                )
                continue
            key = (mapped.external_course_id, mapped.learner_mail)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            prior = _known_stat(row) if row is not None else None
            action = plan_statistic(mapped.hash, prior, course_known=course_known, full=self.full)
            if action in ("unchanged", "completed"):
                self.tally.add("unchanged")
            elif action == "hold":
                self.tally.add("held")
                held.append(
                    StatUpdate(
                        external_course_id=key[0],
                        learner_mail=key[1],
                        state=StatState.HELD,
                        payload_hash=mapped.hash,
                        first_activity_at=row.first_activity_at if row else None,
                        completed=row.completed if row else False,
                        run_id=self.run_id,
                    )
                )
            elif self.dry_run:
                self.tally.add("would_send")
            else:
                self.batch.append(mapped)
                self.batch_prior.append(prior)
                if len(self.batch) >= self.options.stats_batch_size:
                    await self._send(tasks)
        if held and not self.dry_run:
            self.store.upsert_stats(self.conn, held)

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        batch, prior = self.batch, self.batch_prior
        self.batch, self.batch_prior = [], []
        stats: list[ExternalStatistic] = [m.statistic for m in batch]
        op = await self.l360.submit_statistics(self.options.integration_id, stats)
        await self.submit_and_record("stats", op, len(batch))
        tasks.create_task(self._finish(op, batch, prior))

    async def _finish(
        self, op: BulkOperation, batch: Sequence[MappedStatistic], prior: Sequence[KnownStat | None]
    ) -> None:
        await self.wait(op)
        results = await self.l360.get_operation_results(op.id)
        by_key = {_stat_key(r.input): r for r in results}
        now = self.now()
        updates: list[StatUpdate] = []
        for mapped, before in zip(batch, prior, strict=True):
            key = (mapped.external_course_id, mapped.learner_mail)
            result = by_key.get(key)
            first = mapped.statistic.first_activity_at
            if result is not None and result.ok:
                sent_before = before is not None and before.state == "sent"
                self.tally.add("updated" if sent_before else "created")
                updates.append(
                    StatUpdate(
                        external_course_id=key[0],
                        learner_mail=key[1],
                        state=StatState.SENT,
                        payload_hash=mapped.hash,
                        first_activity_at=first,
                        completed=mapped.completed,
                        last_sent_at=now,
                        run_id=self.run_id,
                    )
                )
                continue
            message = (result.error_message if result else None) or "no result for this item"
            if is_unknown_learner(message):
                self.tally.add("unmatched")
                self.tally.unmatched[mapped.learner_mail] += 1
                state = StatState.UNMATCHED
                self.outcomes.append(ItemOutcome("statistic", key[0], "unmatched", message, key[1]))
            else:
                state = StatState.FAILED
                self.item_error("statistic", key[0], message, key[1])
            updates.append(
                StatUpdate(
                    external_course_id=key[0],
                    learner_mail=key[1],
                    state=state,
                    payload_hash=mapped.hash,
                    first_activity_at=before.first_activity_at if before else None,
                    completed=before.completed if before else False,
                    last_error=message,
                    run_id=self.run_id,
                )
            )
        self.store.upsert_stats(self.conn, updates)
        self.flush_outcomes()


def _course_active(row: ItemRow) -> bool:
    """A course statistics may be sent for: synced, with a course id, not archived."""
    return (
        row.kind == "course"
        and row.course_id is not None
        and row.state != ItemState.ARCHIVED
        and row.archived_at is None
    )


def _stat_key(data: Mapping[str, object]) -> tuple[str, str]:
    course = data.get("courseIdentifier")
    user = data.get("userIdentifier")
    course_value = course.get("value") if isinstance(course, Mapping) else None
    user_value = user.get("value") if isinstance(user, Mapping) else None
    return (str(course_value), str(user_value).lower())


# ---------------------------------------------------------------------------------------------
# public entry points


async def run_courses(
    store: Store,
    udemy: UdemyClient,
    l360: Learning360Client,
    options: SyncOptions,
    *,
    dry_run: bool = False,
    allow_mass_archive: bool = False,
    now: Now = _utcnow,
    progress: ProgressSink | None = None,
    lock_ttl: float = LOCK_TTL,
) -> RunReport:
    """Sync the catalog: upsert new and changed items, tag them, archive what left Udemy.

    Never raises for API trouble: the report's status says "failed", "refused" (mass-archive
    guard; pass ``allow_mass_archive=True`` to override) or "locked".
    """
    run = _CourseRun(
        store,
        udemy,
        l360,
        options,
        dry_run=dry_run,
        now=now,
        progress=progress,
        lock_ttl=lock_ttl,
        allow_mass_archive=allow_mass_archive,
    )
    return await run.execute()


async def run_statistics(
    store: Store,
    udemy: UdemyClient,
    l360: Learning360Client,
    options: SyncOptions,
    *,
    dry_run: bool = False,
    full: bool | None = None,
    now: Now = _utcnow,
    progress: ProgressSink | None = None,
    lock_ttl: float = LOCK_TTL,
) -> RunReport:
    """Sync learners' statistics for synced courses; ``full=None`` does a weekly full pull."""
    run = _StatsRun(
        store,
        udemy,
        l360,
        options,
        dry_run=dry_run,
        now=now,
        progress=progress,
        lock_ttl=lock_ttl,
        full=full,
    )
    return await run.execute()
