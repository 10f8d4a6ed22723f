"""What both runs share: the lock and its lease, resuming, bulk bookkeeping, the report.

Each run takes the connection's lock, resumes bulk operations a crashed run left behind, does
its job (``sync.courses``, ``sync.statistics``), records every outcome, and ends with a
``RunReport`` persisted with the run. Client errors end the run as "failed", never as a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import ParamSpec, TypeVar

import structlog

from udemy360.domain import ItemKind, Now
from udemy360.learning360 import (
    BulkItemResult,
    BulkOperation,
    BulkOperationFailed,
    Learning360Client,
    Learning360Error,
    Learning360NotFound,
)
from udemy360.store import (
    BulkOpRow,
    ItemOutcome,
    ItemState,
    ItemUpdate,
    Lease,
    LockHeld,
    LockLost,
    RunStatus,
    Store,
)
from udemy360.sync.errors import ArchiveGuardTripped, SyncError
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import Job, ProgressSink, RunReport, Status, Tally, calls_delta
from udemy360.udemy import (
    UdemyClient,
    UdemyError,
)

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Default lease on a connection, renewed in the background every third of it while a run goes.
#: Short, so that a run killed on another host blocks the next one for two minutes at most (a
#: killed run on the same host is detected at once: see ``udemy360.store.lock``).
LOCK_TTL = 120.0


def _owner(job: str) -> str:
    return f"{job}@{socket.gethostname()}:{os.getpid()}"


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
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


class Run:
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
            lease = self.store.locks.acquire(self.conn, owner=_owner(self.job), ttl=self.lock_ttl)
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
        if self.store.connections.get(self.conn) is None:
            return report  # nothing to attach a run row to
        run_id = self.store.runs.start(self.conn, self.job, dry_run=self.dry_run, now=started)
        report = replace(report, run_id=run_id)
        self.store.runs.finish(
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
        self.run_id = self.store.runs.start(
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
        self.store.runs.finish(
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
            self.store.runs.add_outcomes(self.run_id, self.conn, self.outcomes)
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
            self.store.bulk.record,
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
        self.store.bulk.finish(op_id, status, self.now(), clear_context=True)

    async def resume_pending(self) -> None:
        """Poll the bulk operations a crashed run of this job left behind; record what they did."""
        for pending in self.store.bulk.pending(self.conn):
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
        known = self.store.items.get(self.conn, ids)
        updates = []
        for result, ext in zip(ok, ids, strict=True):
            row = known.get(ext)
            if row is not None and row.course_id:
                continue
            kind: ItemKind = "learning_path" if ext.startswith("lp-") else "course"
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
            self.store.items.upsert(self.conn, updates)
