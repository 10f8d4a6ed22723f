"""Run orchestration: the catalog run and the statistics run.

Each run takes the connection's lock, resumes bulk operations a crashed run left behind,
streams Udemy pages, maps and diffs them against the store, sends only what changed in bulk
batches while the next pages are still being read, records every outcome, and ends with a
``RunReport`` persisted with the run. Client errors end the run as "failed", never as a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

import structlog

from udemy360.learning360 import (
    BulkItemResult,
    BulkOperation,
    BulkOperationFailed,
    ExternalCourse,
    ExternalStatistic,
    Learning360AuthError,
    Learning360Client,
    Learning360Error,
    Learning360NotFound,
    Learning360ScopeError,
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
    payload_hash,
    v2_language,
)
from udemy360.store import (
    BulkOpRow,
    ItemOutcome,
    ItemRow,
    ItemState,
    ItemUpdate,
    Lease,
    LockHeld,
    LockLost,
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
from udemy360.udemy import (
    UdemyClient,
    UdemyCourse,
    UdemyCourseActivity,
    UdemyError,
    UdemyLearningPath,
    UdemyPage,
)

logger = logging.getLogger(__name__)

Now = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Default lease on a connection, renewed in the background every third of it while a run goes.
#: Short, so that a run killed on another host blocks the next one for two minutes at most (a
#: killed run on the same host is detected at once: see ``udemy360.store.lock``).
LOCK_TTL = 120.0


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
        sleep: Sleep | None = None,
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
        self.sleep: Sleep = sleep or asyncio.sleep
        self.tally = Tally()
        self.full = False
        self.run_id: int | None = None
        self.lock_lost = False
        self.outcomes: list[ItemOutcome] = []
        # heavy store calls (batch lookups and upserts) go to a worker thread when the
        # store's connection pool allows it, so they never stall page reads and polls
        self.offload = store.supports_threads

    async def db(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a heavy store call, in a worker thread when the store supports threads."""
        if self.offload:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    #: bulk operation types this job resumes after a crash; the other job resumes the rest
    op_types: tuple[str, ...] = ()

    async def execute(self) -> RunReport:
        started = self.now()
        udemy_before = dict(self.udemy.call_counts)
        l360_before = dict(self.l360.call_counts)
        try:
            lease = self.store.acquire_lock(self.conn, owner=_owner(self.job), ttl=self.lock_ttl)
        except LockHeld as exc:
            return self._locked_out(started, exc)
        try:
            body = asyncio.create_task(self._locked(started, udemy_before, l360_before))
            keeper = asyncio.create_task(self._keep_lease(lease, body))
            try:
                return await body
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
        finally:
            lease.release()

    async def _keep_lease(self, lease: Lease, body: asyncio.Task[RunReport]) -> None:
        """Renew the lease every third of its ttl; stop the run if another process took it."""
        while True:
            await self.sleep(self.lock_ttl / 3)
            try:
                lease.renew()
            except LockLost:
                logger.error("lost the lock of connection %s: stopping the run", self.conn)
                self.lock_lost = True
                body.cancel()
                return
            except Exception as exc:  # a busy or unreachable database: try again next time
                logger.warning("could not renew the lock of connection %s: %s", self.conn, exc)

    def _locked_out(self, started: datetime, exc: LockHeld) -> RunReport:
        """Report (and record, so ``udemy360 runs`` shows it) a run that found the lock held."""
        ended = self.now()
        report = RunReport(
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
        if self.store.get_connection(self.conn) is None:
            return report  # nothing to attach a run row to
        run_id = self.store.start_run(self.conn, self.job, dry_run=self.dry_run, now=started)
        report = replace(report, run_id=run_id)
        self.store.finish_run(
            run_id,
            status=RunStatus.LOCKED,
            ended_at=ended,
            counts=dict(report.counts),
            calls={},
            errors=list(report.errors),
            report=report.to_dict(),
        )
        return report

    async def _locked(
        self, started: datetime, udemy_before: Mapping[str, int], l360_before: Mapping[str, int]
    ) -> RunReport:
        self.decide_full(started)
        self.run_id = self.store.start_run(
            self.conn, self.job, dry_run=self.dry_run, full=self.full, now=started
        )
        # every log line of the run carries its id and connection (udemy360.logs merges them)
        tokens = structlog.contextvars.bind_contextvars(
            run_id=self.run_id, connection=self.conn, job=self.job
        )
        try:
            return await self._run_body(self.run_id, started, udemy_before, l360_before)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    async def _run_body(
        self,
        run_id: int,
        started: datetime,
        udemy_before: Mapping[str, int],
        l360_before: Mapping[str, int],
    ) -> RunReport:
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
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.lock_lost or task is None:
                raise
            task.uncancel()
            self.tally.error(
                "run stopped: another process took over the connection's lock; the next run"
                " resumes from the store"
            )
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
            run_id,
            status=RunStatus(status),
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

    async def submit_and_record(
        self,
        op_type: str,
        op: BulkOperation,
        count: int,
        context: Mapping[str, object] | None = None,
    ) -> None:
        """Record a submitted bulk operation (and what resuming it needs) in the store."""
        # persist the operation id BEFORE waiting: a crashed run resumes by polling it (STYLE §4.7)
        await self.db(
            self.store.record_bulk_operation,
            self.conn,
            self.run_id,
            op.id,
            op_type,
            count,
            self.now(),
            context=context,
        )

    async def wait(self, op: BulkOperation) -> BulkOperation:
        """Wait for a bulk operation to end; raise if it ended in error.

        A completed operation stays "pending" in the store until the caller recorded its
        results (``finish_op``): a crash in between resumes by recording them again.
        """
        try:
            done = await self.l360.wait_for_operation(op.id)
        except BulkOperationFailed:
            self.finish_op(op.id, "error")
            raise
        if done.status == "error":
            self.finish_op(op.id, "error")
            raise BulkOperationFailed(done.id, done.error_message, operation_type=done.type)
        return done

    def finish_op(self, op_id: str, status: str) -> None:
        """Record that a bulk operation ended and its results are in the store."""
        self.store.finish_bulk_operation(op_id, status, self.now(), clear_context=True)

    async def resume_pending(self) -> None:
        """Poll the bulk operations a crashed run of this job left behind; record what they did."""
        for pending in self.store.pending_bulk_operations(self.conn):
            if pending.op_type not in self.op_types:
                continue
            logger.info("resuming bulk operation %s (%s)", pending.op_id, pending.op_type)
            try:
                done = await self.l360.wait_for_operation(pending.op_id)
            except BulkOperationFailed:
                self.finish_op(pending.op_id, "error")
                continue
            except Learning360NotFound:
                self.finish_op(pending.op_id, "lost")
                continue
            if done.status == "completed":
                results = await self.l360.get_operation_results(pending.op_id)
                await self.resume_results(pending, results)
            self.finish_op(pending.op_id, done.status)

    async def resume_results(self, pending: BulkOpRow, results: Sequence[BulkItemResult]) -> None:
        """Record the results of an operation a crashed run submitted (per job)."""

    def resume_course_ids(self, results: Sequence[BulkItemResult]) -> None:
        """Keep the course ids of an interrupted upsert whose batch context is unknown.

        Only for operations recorded without context (older versions): their hashes stay
        unknown, so the next listing sends those items once more (an idempotent upsert).
        """
        ok = [r for r in results if r.ok and r.resource_id]
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


_ACTIONS: tuple[ItemAction, ...] = ("create", "update", "restore", "unchanged", "deferred")


@dataclass(frozen=True, slots=True)
class _SentItem:
    """What the engine keeps of an item while its batch is in flight (not the payload).

    It is also stored with the bulk operation (``to_json``), so a run that resumes the
    operation after a crash records its results exactly as the crashed run would have.
    """

    external_id: str
    kind: CourseKind
    udemy_id: int
    hash: str
    video_url: str | None
    action: ItemAction
    attempts: int
    course_id: str | None
    tag_names: tuple[str, ...]
    default_lang: str | None = None
    is_new: bool = False  # no store row before this run: 360Learning cannot have tags on it

    def to_json(self) -> list[object]:
        """Return a compact JSON form (a list, since a batch holds up to 10,000 of them)."""
        return [
            self.external_id,
            self.kind,
            self.udemy_id,
            self.hash,
            self.video_url,
            self.action,
            self.attempts,
            self.course_id,
            list(self.tag_names),
            self.default_lang,
            self.is_new,
        ]

    @classmethod
    def from_json(cls, data: object) -> _SentItem | None:
        """Rebuild an item saved with ``to_json``; None when the data is not one."""
        if not isinstance(data, list) or len(data) != 11:
            return None
        ext, kind, udemy_id, hash_, video, action, attempts, course_id, tags, lang, new = data
        if not (
            isinstance(ext, str)
            and kind in ("course", "learning_path")
            and isinstance(udemy_id, int)
            and isinstance(hash_, str)
            and isinstance(video, str | None)
            and action in _ACTIONS
            and isinstance(attempts, int)
            and isinstance(course_id, str | None)
            and isinstance(tags, list)
            and isinstance(lang, str | None)
            and isinstance(new, bool)
        ):
            return None
        return cls(
            external_id=ext,
            kind="course" if kind == "course" else "learning_path",
            udemy_id=udemy_id,
            hash=hash_,
            video_url=video,
            action=next(a for a in _ACTIONS if a == action),
            attempts=attempts,
            course_id=course_id,
            tag_names=tuple(str(t) for t in tags),
            default_lang=lang,
            is_new=new,
        )


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


#: Udemy pages read ahead of the page being processed (per run, both listings together):
#: enough to keep the client's concurrent window busy while a batch waits for a bulk slot.
_PAGES_AHEAD = 16


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the engine keeps of one bulk result: not the echoed input payload."""

    ok: bool
    resource_id: str | None
    error_message: str | None


def _compact_results(results: Sequence[BulkItemResult]) -> dict[str, _Outcome]:
    return {
        str(r.input.get("externalId")): _Outcome(r.ok, r.resource_id, r.error_message)
        for r in results
    }


class _CourseRun(_Run):
    job: Job = "courses"
    op_types = ("courses", "archive")

    def __init__(self, *args: object, allow_mass_archive: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.allow_mass_archive = allow_mass_archive
        self.listings: list[ListingTally] = []
        self.tag_ids: dict[str, str] = {}
        self.stored_tags: dict[str, str] = {}
        self.tags_loaded = False
        self.tag_lock = asyncio.Lock()
        # the batch being built: payloads and the small per-item record kept while in flight
        self.buffer: list[ExternalCourse] = []
        self.buffer_items: list[_SentItem] = []
        self.seen_at: datetime | None = None
        # a dry run keeps what it saw in memory: it writes no seen marks (see docs/sync.md)
        self.dry_seen: set[str] = set()

    async def resume_results(self, pending: BulkOpRow, results: Sequence[BulkItemResult]) -> None:
        if pending.op_type == "archive":
            archived = [
                str(r.input.get("externalId"))
                for r in results
                if r.ok and r.input.get("externalId")
            ]
            self.store.mark_archived(self.conn, archived, self.now())
            self.tally.add("archived", len(archived))
            return
        raw = pending.context.get("items")
        items = [_SentItem.from_json(x) for x in raw] if isinstance(raw, list) else []
        sent = [item for item in items if item is not None]
        if not sent or len(sent) != len(items):
            self.resume_course_ids(results)
            return
        # record the batch as the crashed run would have: hashes, course ids, restore, tags
        await self._record_batch(sent, _compact_results(results))

    async def body(self, started: datetime) -> Status:
        ctx = MappingContext(
            account_name=self.options.account_name,
            owner_lang=await self._owner_lang(),
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

    async def _owner_lang(self) -> str | None:
        """Return the integration owner's language, the fallback ``defaultLang``.

        ``udemy360 check`` only warns when the credentials lack ``users:read``; the run then
        goes on with no owner language (courses without a locale get ``en``) and says so.
        """
        try:
            owner = await self.l360.get_user(self.options.owner_id)
        except (Learning360ScopeError, Learning360NotFound) as exc:
            message = (
                f"could not read the owner's language ({exc}); courses without a language "
                "of their own are sent in English"
            )
            logger.warning(message)
            self.tally.error(message)
            return None
        return owner.lang

    def _seen_marker(self, started: datetime) -> datetime:
        """Return this run's ``seen_at``: strictly later than any mark already in the store.

        The archive diff counts an item as seen only if it carries this run's mark, so no
        earlier run (even one whose clock ran ahead) can make a vanished item look seen.
        """
        latest = self.store.max_seen_at(self.conn)
        if latest is None or latest < started:
            return started
        return latest + timedelta(milliseconds=1)

    async def _load_tags(self, *, again: bool = False) -> None:
        """Learn the platform's tags; the live listing wins over ids kept in the store.

        Names compare case-insensitively (DESIGN.md). A stored id the listing lacks was
        deleted in 360Learning: it is forgotten, and the tag is created again when needed.
        """
        if self.tags_loaded and not again:
            return
        live: dict[str, str] = {}
        async for tag in self.l360.iter_tags():
            live.setdefault(tag.name.strip().lower(), tag.id)
        live_ids = set(live.values())
        stored = self.store.get_tag_ids(self.conn)
        gone = {tag_id for tag_id in stored.values() if tag_id not in live_ids}
        if gone and not self.dry_run:
            logger.info("forgetting %d tag(s) deleted in 360Learning", len(gone))
            self.store.delete_tags(self.conn, gone)
        self.stored_tags = {key: tag_id for key, tag_id in stored.items() if tag_id in live_ids}
        self.tag_ids = {**self.stored_tags, **live}
        self.tags_loaded = True

    async def _stream(
        self, ctx: MappingContext, seen_at: datetime, tasks: asyncio.TaskGroup
    ) -> None:
        """Read the listings in the background and process their pages as they arrive.

        Reading never waits for 360Learning: pages queue up (at most ``_PAGES_AHEAD``) while a
        full batch waits for a bulk slot, and the learning-path listing is read alongside the
        course listing.
        """
        queue: asyncio.Queue[_Listed | None] = asyncio.Queue(maxsize=_PAGES_AHEAD)
        courses = ListingTally("courses")
        self.listings.append(courses)
        readers = 1
        async with asyncio.TaskGroup() as reading:
            reading.create_task(
                self._read("course", "courses", self.udemy.iter_course_pages(), courses, queue)
            )
            if self.options.learning_paths_enabled:
                paths = ListingTally("learning paths")
                self.listings.append(paths)
                pages = self.udemy.iter_learning_path_pages()
                reading.create_task(
                    self._read("learning_path", "learning paths", pages, paths, queue)
                )
                readers += 1
            while readers:
                listed = await queue.get()
                if listed is None:
                    readers -= 1
                    continue
                mapped, problem_ids = _map_page(listed, ctx)
                await self._page(
                    listed.kind, mapped, problem_ids, listed.page.problems, seen_at, tasks
                )
        if self.buffer:
            await self._send(tasks)

    async def _read(
        self,
        kind: CourseKind,
        task: str,
        pages: AsyncIterator[UdemyPage[UdemyCourse]] | AsyncIterator[UdemyPage[UdemyLearningPath]],
        tally: ListingTally,
        queue: asyncio.Queue[_Listed | None],
    ) -> None:
        self.progress.start(task, None)
        async for page in pages:
            tally.add_page(page.count, len(page.items), len(page.problems), page.skipped)
            await queue.put(_Listed(kind, page))
            self.progress.advance(task, len(page.items) + len(page.problems))
        self.progress.finish(task)
        await queue.put(None)

    async def _page(
        self,
        kind: str,
        mapped: Sequence[MappedCourse | MappingProblem],
        problem_ids: Sequence[str],
        problems: Sequence[object],
        seen_at: datetime,
        tasks: asyncio.TaskGroup,
    ) -> None:
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
        # seen marks drive the archive diff; a dry run keeps them in memory instead, so the
        # store it leaves behind is the one the next real run would have found anyway
        if self.dry_run:
            self.dry_seen.update(seen)
            known = self.store.get_items(self.conn, [m.external_id for m in good])
        else:
            known = await self.db(self._mark_and_lookup, seen, good, seen_at)
        now = self.now()
        langs: dict[str, str] = {}
        for m in good:
            row = known.get(m.external_id)
            item = _known_item(row) if row is not None else None
            action = plan_item(m.hash, item, now)
            if row is not None and action != "deferred" and row.default_lang is None:
                langs[m.external_id] = m.payload.default_lang  # rows from older versions
            if action == "unchanged":
                self.tally.add("unchanged")
            elif action == "deferred":
                self.tally.add("deferred")
            elif self.dry_run:
                self.tally.add(f"would_{action}")
            else:
                self.buffer.append(m.payload)
                self.buffer_items.append(_sent_item(m, action, item))
                if len(self.buffer) >= self.options.course_batch_size:
                    await self._send(tasks)
        if langs and not self.dry_run:
            self.store.set_default_langs(self.conn, langs)

    def _mark_and_lookup(
        self, seen: Sequence[str], good: Sequence[MappedCourse], seen_at: datetime
    ) -> dict[str, ItemRow]:
        """One page's store work: mark what the listing holds, read what the store knows."""
        self.store.mark_seen(self.conn, seen, seen_at)
        return self.store.get_items(self.conn, [m.external_id for m in good])

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        payloads, sent = self.buffer, self.buffer_items
        self.buffer, self.buffer_items = [], []
        # blocks while the client's bulk slots are busy: that is what bounds memory
        op = await self.l360.submit_courses(self.options.integration_id, payloads)
        del payloads  # the payloads are sent: only the small per-item records stay in flight
        context = {"items": [item.to_json() for item in sent]}
        await self.db(
            self.store.record_bulk_operation,
            self.conn,
            self.run_id,
            op.id,
            "courses",
            len(sent),
            self.now(),
            context=context,
        )
        del context
        tasks.create_task(self._finish_batch(op, sent))

    async def _finish_batch(self, op: BulkOperation, items: Sequence[_SentItem]) -> None:
        done = await self.wait(op)
        outcomes = _compact_results(await self.l360.get_operation_results(op.id))
        await self._record_batch(items, outcomes)
        self.finish_op(op.id, done.status)

    async def _record_batch(
        self, items: Sequence[_SentItem], by_id: Mapping[str, _Outcome]
    ) -> None:
        """Record a finished upsert's results, then restore and tag the accepted items."""
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
                        default_lang=item.default_lang,
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
        await self.db(self.store.upsert_item_results, self.conn, updates)
        del updates
        for item, course_id in accepted:
            if item.action == "restore" or (self.options.tags_enabled and item.kind == "course"):
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
        """Restore and tag an accepted item; failures here are the item's, not the run's.

        The item's new hash is already stored; on any API failure (after the client's own
        retries) it is cleared again and the item marked failed, so a later run sends it
        again and finishes the restore or the tags. Refused credentials stop the run.
        """
        try:
            if item.action == "restore":
                await self.l360.set_course_archived(course_id, False)
                self.store.mark_restored(self.conn, [item.external_id], self.now())
                self.tally.add("restored")
            if self.options.tags_enabled and item.kind == "course":
                await self._tag(item, course_id)
        except Learning360AuthError:
            raise
        except Learning360Error as exc:
            failed = self._failed(_with_course(item, course_id), self.now(), str(exc))
            self.store.upsert_item_results(self.conn, [failed])
            self.item_error(item.kind, item.external_id, f"tags or restore failed: {exc}")

    async def _ensure_tag(self, name: str) -> str:
        key = name.strip().lower()
        async with self.tag_lock:
            tag_id = self.tag_ids.get(key)
            if tag_id is None:
                tag = await self.l360.create_tag(name.strip())
                tag_id = tag.id
                self.tag_ids[key] = tag_id
                self.tally.add("tags_created")
            if self.stored_tags.get(key) != tag_id:
                self.store.save_tag(self.conn, name.strip(), tag_id)
                self.stored_tags[key] = tag_id
            return tag_id

    async def _tag(self, item: _SentItem, course_id: str) -> None:
        await self._load_tags()  # already done, except when recording a resumed batch
        for attempt in (1, 2):
            wanted = [await self._ensure_tag(name) for name in item.tag_names]
            if item.is_new:
                current: list[str] = []  # created by this very batch: it cannot carry tags yet
            else:
                current = [t.tag_id for t in await self.l360.get_course_tags(course_id)]
            ours = self.store.get_item_tags(self.conn, item.external_id)
            plan = plan_course_tags(current, ours, wanted)
            if plan.changed:
                try:
                    await self.l360.replace_course_tags(course_id, plan.tag_ids)
                except Learning360NotFound as exc:
                    if exc.code != "tagNotFound" or attempt == 2:
                        raise
                    # a tag was deleted in 360Learning since we listed them: list again,
                    # which forgets the stale id, and create the tag anew
                    async with self.tag_lock:
                        await self._load_tags(again=True)
                    continue
                self.tally.add("tagged")
            self.store.set_item_tags(self.conn, item.external_id, plan.ours)
            return

    async def _archive(self, seen_at: datetime) -> None:
        kinds = ["course", *(["learning_path"] if self.options.learning_paths_enabled else [])]
        unseen: list[str] = []
        active = 0
        for kind in kinds:
            for row in self.store.iter_items(self.conn, kind=kind):  # type: ignore[arg-type]
                if row.state == ItemState.ARCHIVED or row.course_id is None:
                    continue
                active += 1
                if self.dry_run:
                    if row.external_id not in self.dry_seen:
                        unseen.append(row.external_id)
                elif row.seen_at is None or row.seen_at < seen_at:
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
            ended = await self.wait(op)
            results = await self.l360.get_operation_results(op.id)
            by_id = {str(r.input.get("externalId")): r for r in results}
            done = [ext for ext in chunk if (r := by_id.get(ext)) is not None and r.ok]
            self.store.mark_archived(self.conn, done, self.now())
            self.finish_op(op.id, ended.status)
            self.tally.add("archived", len(done))
            for ext in chunk:
                r = by_id.get(ext)
                if r is None or not r.ok:
                    message = (r.error_message if r else None) or "no result for this item"
                    kind = "learning_path" if ext.startswith("lp-") else "course"
                    self.item_error(kind, ext, f"archive failed: {message}")


@dataclass(frozen=True, slots=True)
class _Listed:
    """One Udemy page waiting to be processed, and the listing it belongs to."""

    kind: CourseKind
    page: UdemyPage[UdemyCourse] | UdemyPage[UdemyLearningPath]


def _map_page(
    listed: _Listed, ctx: MappingContext
) -> tuple[list[MappedCourse | MappingProblem], list[str]]:
    """Map one page; also return the external ids of its invalid records (they count as seen)."""
    page = listed.page
    if listed.kind == "course":
        courses = [c for c in page.items if isinstance(c, UdemyCourse)]
        problem_ids = [p.record_id for p in page.problems if p.record_id]
        return [map_course(course, ctx) for course in courses], problem_ids
    paths = [p for p in page.items if isinstance(p, UdemyLearningPath)]
    path_ids = [
        path_external_id(int(p.record_id))
        for p in page.problems
        if p.record_id and p.record_id.isdigit()
    ]
    return [map_learning_path(path, ctx) for path in paths], path_ids


def _sent_item(m: MappedCourse, action: ItemAction, item: KnownItem | None) -> _SentItem:
    return _SentItem(
        external_id=m.external_id,
        kind=m.kind,
        udemy_id=m.udemy_id,
        hash=m.hash,
        video_url=m.video_url,
        action=action,
        attempts=item.attempts if item else 0,
        course_id=item.course_id if item else None,
        tag_names=m.tag_names,
        default_lang=m.payload.default_lang,
        is_new=item is None,
    )


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
        default_lang=item.default_lang,
        is_new=item.is_new,
    )


# ---------------------------------------------------------------------------------------------
# statistics


def _known_stat(row: StatRow) -> KnownStat:
    return KnownStat(
        payload_hash=row.payload_hash,
        state=row.state.value,
        completed=row.completed,
        first_activity_at=row.first_activity_at,
        attempts=row.attempts,
    )


class _StatsRun(_Run):
    job: Job = "stats"
    # statistics are simply sent again after a crash: with a stable firstActivityAt,
    # 360Learning updates the same attempt (research/360learning-api.md §15.2)
    op_types = ("stats",)

    def __init__(self, *args: object, full: bool | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.requested_full = full
        self.pull_all = False
        self.from_date: datetime | None = None
        self.batch: list[MappedStatistic] = []
        self.batch_prior: list[KnownStat | None] = []
        self.langs: dict[str, str | None] = {}
        # sent from the store before the pull: the pull does not send them again unchanged
        self.resent: set[tuple[str, str]] = set()

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

    async def resume_results(self, pending: BulkOpRow, results: Sequence[BulkItemResult]) -> None:
        """Record a crashed run's statistics as it would have: state, hash, firstActivityAt."""
        raw = pending.context.get("items")
        sent = [_SentStat.from_json(x) for x in raw] if isinstance(raw, list) else []
        if not sent or any(s is None for s in sent):
            return  # recorded by an older version: the next pull sends them once more
        by_key = {_stat_key(r.input): r for r in results}
        now = self.now()
        updates = [
            self._outcome(s, by_key.get(s.key), s.payload_from(by_key.get(s.key)), now)
            for s in sent
            if s is not None
        ]
        await self.db(self.store.upsert_stats, self.conn, updates)
        self.flush_outcomes()

    async def body(self, started: datetime) -> Status:
        if await self._resend_from_store():
            # held rows stored before payloads were kept: rebuild them from a full pull
            self.pull_all = True
            self.from_date = None
        from_date = None if self.pull_all or self.from_date is None else self.from_date.date()
        self.progress.start("statistics", None)
        async with asyncio.TaskGroup() as tasks:
            async for page in self.udemy.iter_activity_pages(from_date=from_date):
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
        if self.pull_all and not self.dry_run:
            self._expire_unrebuildable(started)
        return self.status_from_tally()

    def _expire_unrebuildable(self, started: datetime) -> None:
        """Expire held rows without a payload that a whole activity pull did not find.

        Only a full pull can rebuild them, and this one did not: left held, they would force
        a full pull every day.
        """
        expired = self.store.expire_held_stats(
            self.conn,
            "expired: held without its activity data, and the whole Udemy activity report "
            f"read on {started.date().isoformat()} no longer has this enrollment",
            self.now(),
        )
        if expired:
            logger.warning("expired %d held statistic(s) Udemy no longer reports", expired)
            self.tally.add("expired", expired)

    async def _resend_from_store(self) -> bool:
        """Send, from their stored payload, held rows whose course is now synced and failed
        rows whose retry time has come.

        Runs before the pull and waits for its batches, so the pull then finds those rows
        sent. Returns whether some releasable held row has no stored payload (a row held by an
        older version, or reset when the integration changed), which only a full pull can
        rebuild.
        """
        missing = False
        rows = self.store.iter_resendable_stats(
            self.conn, self.now(), max_attempts=MAX_STATISTIC_ATTEMPTS
        )
        async with asyncio.TaskGroup() as tasks:
            for row, stored_lang in rows:
                if row.payload is None:
                    missing = True
                    continue
                lang = stored_lang or await self._course_lang(row.external_course_id, None)
                mapped = _held_statistic(row, lang)
                if mapped is None:
                    missing = missing or row.state == StatState.HELD
                    continue
                if self.dry_run:
                    self.tally.add("would_send")
                    continue
                self.resent.add(row.key)
                self.batch.append(mapped)
                self.batch_prior.append(_known_stat(row))
                if len(self.batch) >= self.options.stats_batch_size:
                    await self._send(tasks)
            if self.batch:
                await self._send(tasks)
        return missing

    async def _course_lang(self, external_id: str, stored: str | None) -> str | None:
        """Return the course's defaultLang: from the store, else read once per run.

        The catalog run stores each item's mapped ``defaultLang``; only rows written before
        it did fall back to ``GET /api/v2/integrations/{id}/courses/{externalId}``.
        """
        if stored is not None:
            return stored
        if external_id not in self.langs:
            info = await self.l360.get_external_course(self.options.integration_id, external_id)
            self.langs[external_id] = info.default_lang if info is not None else None
        return self.langs[external_id]

    async def _page(self, rows: Sequence[object], tasks: asyncio.TaskGroup) -> None:
        activity = [r for r in rows if isinstance(r, UdemyCourseActivity)]
        self.tally.add("fetched", len(activity))
        keys = {
            (str(r.course_id), mail)
            for r in activity
            if (mail := normalize_email(r.user_email)) is not None
        }
        known, courses = await self.db(self._lookup, keys, {str(r.course_id) for r in activity})
        held: list[StatUpdate] = []
        seen_keys: set[tuple[str, str]] = set()
        for r in activity:
            ext = str(r.course_id)
            mail = normalize_email(r.user_email)
            row = known.get((ext, mail)) if mail else None
            course = courses.get(ext)
            course_known = course is not None and _course_active(course)
            lang = (
                await self._course_lang(ext, course.default_lang)
                if course is not None and course_known
                else None
            )
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
            if key in self.resent and row is not None and row.payload_hash == mapped.hash:
                continue  # just sent from the store, and Udemy has nothing newer
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
                        # sent from the store once the course arrives (no re-pull needed)
                        payload=mapped.statistic.model_dump(
                            mode="json", by_alias=True, exclude_none=True
                        ),
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
            await self.db(self.store.upsert_stats, self.conn, held)

    def _lookup(
        self, keys: set[tuple[str, str]], course_ids: set[str]
    ) -> tuple[dict[tuple[str, str], StatRow], dict[str, ItemRow]]:
        """One page's store reads: the known statistics and their courses."""
        return self.store.get_stats(self.conn, keys), self.store.get_items(self.conn, course_ids)

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        batch, prior = self.batch, self.batch_prior
        self.batch, self.batch_prior = [], []
        stats: list[ExternalStatistic] = [m.statistic for m in batch]
        op = await self.l360.submit_statistics(self.options.integration_id, stats)
        del stats
        sent = [_SentStat.of(m, before) for m, before in zip(batch, prior, strict=True)]
        # what a resumed run needs to record the results as this one would (not the payloads)
        context = {"items": [s.to_json() for s in sent]}
        await self.submit_and_record("stats", op, len(batch), context)
        del context
        tasks.create_task(self._finish(op, batch, sent))

    async def _finish(
        self, op: BulkOperation, batch: Sequence[MappedStatistic], sent: Sequence[_SentStat]
    ) -> None:
        done = await self.wait(op)
        results = await self.l360.get_operation_results(op.id)
        by_key = {_stat_key(r.input): r for r in results}
        del results
        now = self.now()
        updates = [
            self._outcome(
                s,
                by_key.get(s.key),
                mapped.statistic.model_dump(mode="json", by_alias=True, exclude_none=True),
                now,
            )
            for mapped, s in zip(batch, sent, strict=True)
        ]
        await self.db(self.store.upsert_stats, self.conn, updates)
        self.finish_op(op.id, done.status)
        self.flush_outcomes()

    def _outcome(
        self,
        s: _SentStat,
        result: BulkItemResult | None,
        payload: Mapping[str, object] | None,
        now: datetime,
    ) -> StatUpdate:
        """Turn one statistic's bulk result into its store row (and count it)."""
        course, mail = s.key
        if result is not None and result.ok:
            self.tally.add("updated" if s.was_sent else "created")
            return StatUpdate(
                external_course_id=course,
                learner_mail=mail,
                state=StatState.SENT,
                payload_hash=s.hash,
                first_activity_at=s.first_activity_at,
                completed=s.completed,
                last_sent_at=now,
                run_id=self.run_id,
            )
        message = (result.error_message if result else None) or "no result for this item"
        if is_unknown_learner(message):
            self.tally.add("unmatched")
            self.tally.unmatched[mail] += 1
            self.outcomes.append(ItemOutcome("statistic", course, "unmatched", message, mail))
            # re-sent only when the Udemy row changes or on a full pull: no payload kept
            return StatUpdate(
                external_course_id=course,
                learner_mail=mail,
                state=StatState.UNMATCHED,
                payload_hash=s.hash,
                first_activity_at=s.prior_first_activity_at,
                completed=s.prior_completed,
                last_error=message,
                run_id=self.run_id,
            )
        self.item_error("statistic", course, message, mail)
        attempts = s.attempts + 1
        return StatUpdate(
            external_course_id=course,
            learner_mail=mail,
            state=StatState.FAILED,
            payload_hash=s.hash,
            first_activity_at=s.prior_first_activity_at,
            completed=s.prior_completed,
            last_error=message,
            run_id=self.run_id,
            # sent again from the store with backoff, MAX_STATISTIC_ATTEMPTS times at most
            payload=payload,
            attempts=attempts,
            next_retry_at=next_retry_at(attempts, now, self.options.retry_failed_after),
        )


#: A failed statistic is re-sent from the store this many times (with backoff); after that
#: only when its Udemy row shows up in a pull again (changed, or the weekly full pull).
MAX_STATISTIC_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class _SentStat:
    """What the engine keeps of a statistic while its batch is in flight (not the payload).

    Stored with the bulk operation (``to_json``), so a run resuming it after a crash records
    the sent ``firstActivityAt`` and hash as the crashed run would have.
    """

    key: tuple[str, str]
    hash: str
    first_activity_at: datetime
    completed: bool
    was_sent: bool = False
    prior_first_activity_at: datetime | None = None
    prior_completed: bool = False
    attempts: int = 0

    @classmethod
    def of(cls, mapped: MappedStatistic, before: KnownStat | None) -> _SentStat:
        return cls(
            key=(mapped.external_course_id, mapped.learner_mail),
            hash=mapped.hash,
            first_activity_at=mapped.statistic.first_activity_at,
            completed=mapped.completed,
            was_sent=before is not None and before.state == "sent",
            prior_first_activity_at=before.first_activity_at if before else None,
            prior_completed=before.completed if before else False,
            attempts=before.attempts if before else 0,
        )

    def to_json(self) -> list[object]:
        """Return a compact JSON form (a list, since a batch holds up to 10,000 of them)."""
        prior = self.prior_first_activity_at
        return [
            *self.key,
            self.hash,
            self.first_activity_at.isoformat(),
            self.completed,
            self.was_sent,
            prior.isoformat() if prior is not None else None,
            self.prior_completed,
            self.attempts,
        ]

    @classmethod
    def from_json(cls, data: object) -> _SentStat | None:
        """Rebuild a statistic saved with ``to_json``; None when the data is not one."""
        if not isinstance(data, list) or len(data) != 9:
            return None
        course, mail, hash_, first, completed, was_sent, prior, prior_completed, attempts = data
        if not (
            isinstance(course, str)
            and isinstance(mail, str)
            and isinstance(hash_, str)
            and isinstance(first, str)
            and isinstance(completed, bool)
            and isinstance(was_sent, bool)
            and isinstance(prior, str | None)
            and isinstance(prior_completed, bool)
            and isinstance(attempts, int)
        ):
            return None
        try:
            first_at = datetime.fromisoformat(first)
            prior_at = datetime.fromisoformat(prior) if prior is not None else None
        except ValueError:
            return None
        return cls(
            (course, mail),
            hash_,
            first_at,
            completed,
            was_sent,
            prior_at,
            prior_completed,
            attempts,
        )

    def payload_from(self, result: BulkItemResult | None) -> Mapping[str, object] | None:
        """The statistic as sent, read back from its bulk result (kept when it failed)."""
        return dict(result.input) if result is not None else None


def _held_statistic(row: StatRow, lang: str | None) -> MappedStatistic | None:
    """Rebuild a held row's statistic from its stored payload, with its course's language."""
    data = dict(row.payload or {})
    data.pop("lang", None)
    try:
        statistic = ExternalStatistic.model_validate({**data, "lang": v2_language(lang)})
    except ValueError:
        logger.warning("held statistic %s has an unreadable payload", row.key)
        return None
    return MappedStatistic(
        external_course_id=row.external_course_id,
        learner_mail=row.learner_mail,
        statistic=statistic,
        completed=statistic.progress == 100,
        hash=payload_hash(statistic),
    )


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
    sleep: Sleep | None = None,
) -> RunReport:
    """Sync the catalog: upsert new and changed items, tag them, archive what left Udemy.

    Never raises for API trouble: the report's status says "failed", "refused" (mass-archive
    guard; pass ``allow_mass_archive=True`` to override) or "locked". The lease on the
    connection (``lock_ttl`` seconds) is renewed every ``lock_ttl / 3`` by a background task
    that waits with ``sleep`` (``asyncio.sleep``; tests inject their own).
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
        sleep=sleep,
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
    sleep: Sleep | None = None,
) -> RunReport:
    """Sync learners' statistics for synced courses; ``full=None`` does a weekly full pull.

    ``lock_ttl`` and ``sleep`` work as in ``run_courses``.
    """
    run = _StatsRun(
        store,
        udemy,
        l360,
        options,
        dry_run=dry_run,
        now=now,
        progress=progress,
        lock_ttl=lock_ttl,
        sleep=sleep,
        full=full,
    )
    return await run.execute()
