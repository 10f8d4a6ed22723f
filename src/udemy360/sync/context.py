"""The run context: what every job's run is composed with.

A run takes the connection's lease, closes the runs a dead process left ``running``, resumes the
bulk operations a crashed run left behind, lets its job do the work, records every outcome, and
ends with a ``RunReport`` persisted with the run. Client errors end the run as "failed", never
as a traceback. The jobs (``sync.catalog``, ``sync.statistics``) hold a context; they do not
inherit from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

import structlog

from udemy360.domain import Now
from udemy360.learning360 import (
    BulkOperation,
    BulkOperationFailed,
    Learning360Client,
    Learning360Error,
    Learning360NotFound,
)
from udemy360.store import (
    BulkOpRow,
    ItemOutcome,
    Lease,
    LockHeld,
    LockLost,
    RunStatus,
    Store,
    StoreDataError,
)
from udemy360.sync.errors import ArchiveGuardTripped, SyncError
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import Job, ProgressSink, RunReport, Status, Tally, calls_delta
from udemy360.udemy import ListingStop, UdemyClient, UdemyError

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Default lease on a connection, renewed in the background every third of it while a run goes.
#: Short, so that a run killed on another host blocks the next one for two minutes at most (a
#: killed run on the same host is detected at once: see ``udemy360.store.lock``).
LOCK_TTL = 120.0

#: Per-item calls (tag PUTs, restores) to one endpoint that may fail in one run — each after the
#: client's own retries — before the run stops calling it and leaves the rest for the next run.
#: A tag outage then costs a few retry budgets, not one per course (hours on a large catalog).
ENDPOINT_FAILURE_BUDGET = 3


@dataclass(frozen=True, slots=True)
class Clients:
    """The two API clients a run talks to (open, owned by the caller)."""

    udemy: UdemyClient
    l360: Learning360Client


class JobRun(Protocol):
    """One job's work, composed with a ``RunContext``."""

    @property
    def job(self) -> Job: ...

    @property
    def op_types(self) -> tuple[str, ...]:
        """Bulk operation types this job resumes after a crash; the other job resumes the rest."""
        ...

    def decide_full(self, started: datetime) -> bool:
        """Whether this run is a full one (statistics decide; the catalog is always whole)."""
        ...

    async def resume(self, pending: BulkOpRow) -> None:
        """Record the results of a completed operation a crashed run of this job submitted."""
        ...

    async def run(self, started: datetime) -> Status:
        """Do the job's work; return the run's status."""
        ...


def _owner(job: str) -> str:
    return f"{job}@{socket.gethostname()}:{os.getpid()}"


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_error(exc: BaseException) -> BaseException:
    """Return the first leaf of an exception group (task groups wrap what a task raised)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class _NoProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, n: int = 1) -> None:
        pass

    def finish(self, task: str) -> None:
        pass


@dataclass(slots=True)
class EndpointBudget:
    """Failures per endpoint in one run; an endpoint past its budget is not called again."""

    limit: int = ENDPOINT_FAILURE_BUDGET
    failures: Counter[str] = field(default_factory=Counter)

    def open(self, endpoint: str) -> bool:
        """Whether the run may still call ``endpoint``."""
        return self.failures[endpoint] < self.limit

    def failed(self, endpoint: str) -> bool:
        """Count a failure; return whether the endpoint just ran out of budget."""
        self.failures[endpoint] += 1
        return self.failures[endpoint] == self.limit


class RunContext:
    """Lease, run row, resume, bulk bookkeeping, outcomes and report of one run."""

    def __init__(
        self,
        store: Store,
        clients: Clients,
        options: SyncOptions,
        *,
        job: Job,
        dry_run: bool,
        now: Now,
        progress: ProgressSink | None,
        lock_ttl: float = LOCK_TTL,
        sleep: Sleep | None = None,
    ) -> None:
        self.store = store
        self.udemy = clients.udemy
        self.l360 = clients.l360
        self.options = options
        self.conn = options.connection_id
        self.job = job
        self.dry_run = dry_run
        self.now = now
        self.progress: ProgressSink = progress or _NoProgress()
        self.lock_ttl = lock_ttl
        self.sleep: Sleep = sleep or asyncio.sleep
        self.tally = Tally()
        self.budget = EndpointBudget()
        self.full = False
        self.run_id: int | None = None
        self.lock_lost = False
        self.outcomes: list[ItemOutcome] = []
        self._calls_before: tuple[dict[str, int], dict[str, int]] = ({}, {})
        # heavy store calls (batch lookups and upserts) go to a worker thread when the
        # store's connection pool allows it, so they never stall page reads and polls
        self.offload = store.supports_threads

    async def db(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a heavy store call, in a worker thread when the store supports threads."""
        if self.offload:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    # -- the run ------------------------------------------------------------------------------

    async def execute(self, work: JobRun) -> RunReport:
        """Run ``work`` under the connection's lease and return (and persist) its report."""
        started = self.now()
        self._calls_before = (dict(self.udemy.call_counts), dict(self.l360.call_counts))
        try:
            lease = self.store.locks.acquire(self.conn, owner=_owner(self.job), ttl=self.lock_ttl)
        except LockHeld as exc:
            return self._locked_out(started, exc)
        try:
            body = asyncio.create_task(self._locked(work, started))
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
        """Renew the lease every third of its ttl; stop the run if another process took it.

        Each renewal also saves the run's counts, so a run whose process dies is closed by the
        next one with what it had done.
        """
        while True:
            await self.sleep(self.lock_ttl / 3)
            try:
                lease.renew()
                if self.run_id is not None:
                    self.store.runs.save_progress(
                        self.run_id, self.tally.snapshot_counts(), self._calls()
                    )
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
        errors = (f"another run holds the lock: {exc.holder} until {exc.expires_at}",)
        if self.store.connections.get(self.conn) is None:
            return self._report(None, "locked", started, ended, calls={}, errors=errors)
        run_id = self.store.runs.start(self.conn, self.job, dry_run=self.dry_run, now=started)
        report = self._report(run_id, "locked", started, ended, calls={}, errors=errors)
        self._persist(report)
        return report

    async def _locked(self, work: JobRun, started: datetime) -> RunReport:
        # the lease is ours: any run of this connection still "running" belongs to a dead process
        for run_id in self.store.runs.close_interrupted(self.conn, started):
            logger.warning("closed run %s of connection %s as interrupted", run_id, self.conn)
        self.full = work.decide_full(started)
        self.run_id = self.store.runs.start(
            self.conn, self.job, dry_run=self.dry_run, full=self.full, now=started
        )
        # every log line of the run carries its id and connection (udemy360.logs merges them)
        tokens = structlog.contextvars.bind_contextvars(
            run_id=self.run_id, connection=self.conn, job=self.job
        )
        try:
            try:
                status = await self._guarded(work, started)
            except BaseException:
                self._abort(started)
                raise
            self.flush_outcomes()
            report = self._report(self.run_id, status, started, self.now(), calls=self._calls())
            self._persist(report)
            logger.info(
                "run finished: connection=%s run_id=%s job=%s status=%s",
                self.conn,
                self.run_id,
                self.job,
                status,
            )
            return report
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    async def _guarded(self, work: JobRun, started: datetime) -> Status:
        """Run the job; turn API and engine errors into the run's status."""
        try:
            if not self.dry_run:
                await self._resume_pending(work)
            return await work.run(started)
        except ArchiveGuardTripped as exc:
            self.tally.error(exc.message)
            return "refused" if exc.reason == "mass_archive" else "failed"
        except (UdemyError, Learning360Error, SyncError) as exc:
            self.tally.error(f"run failed: {exc}")
            return "failed"
        except BaseExceptionGroup as group:
            leaf = _first_error(group)
            if not isinstance(leaf, UdemyError | Learning360Error | SyncError):
                raise
            self.tally.error(f"run failed: {leaf}")
            return "failed"
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.lock_lost or task is None:
                raise
            task.uncancel()
            self.tally.error(
                "run stopped: another process took over the connection's lock; the next run"
                " resumes from the store"
            )
            return "failed"

    def _abort(self, started: datetime) -> None:
        """Close this run as aborted when something unexpected (a bug, a shutdown) ends it."""
        report = self._report(self.run_id, "aborted", started, self.now(), calls=self._calls())
        errors = [*report.errors, "aborted: the run ended unexpectedly; the next run resumes it"]
        with contextlib.suppress(Exception):  # the database may be what failed
            self.flush_outcomes()
            self._persist(replace(report, errors=tuple(errors)))

    def _calls(self) -> dict[str, int]:
        udemy_before, l360_before = self._calls_before
        calls = calls_delta(udemy_before, self.udemy.call_counts, "udemy")
        calls.update(calls_delta(l360_before, self.l360.call_counts, "360"))
        return calls

    def _report(
        self,
        run_id: int | None,
        status: Status,
        started: datetime,
        ended: datetime,
        *,
        calls: Mapping[str, int],
        errors: Sequence[str] | None = None,
    ) -> RunReport:
        return RunReport(
            run_id=run_id,
            connection_id=self.conn,
            job=self.job,
            status=status,
            dry_run=self.dry_run,
            full=self.full,
            started_at=started,
            ended_at=ended,
            counts=self.tally.snapshot_counts(),
            calls=dict(calls),
            errors=tuple(self.tally.errors if errors is None else errors),
            unmatched=tuple(sorted(self.tally.unmatched.items())),
        )

    def _persist(self, report: RunReport) -> None:
        if report.run_id is None:
            return
        self.store.runs.finish(
            report.run_id,
            status=RunStatus(report.status),
            ended_at=report.ended_at,
            counts=dict(report.counts),
            calls=dict(report.calls),
            errors=list(report.errors),
            report=report.to_dict(),
        )

    # -- outcomes -----------------------------------------------------------------------------

    def item_error(
        self, kind: str, external_id: str, message: str, mail: str | None = None
    ) -> None:
        """Count and record one item's failure (the run goes on)."""
        self.tally.add("failed")
        self.tally.error(f"{kind} {external_id}{f' ({mail})' if mail else ''}: {message}")
        self.outcomes.append(ItemOutcome(kind, external_id, "error", message, mail))

    def flush_outcomes(self) -> None:
        """Write the per-item outcomes gathered so far."""
        if self.outcomes and self.run_id is not None:
            self.store.runs.add_outcomes(self.run_id, self.conn, self.outcomes)
        self.outcomes = []

    def listing_stopped(self, listing: str, stop: ListingStop | None) -> None:
        """Say in the report that a Udemy listing was cut short (the client stopped reading)."""
        if stop is not None and stop.kind != "count_reached":
            self.tally.error(f"Udemy {listing} listing stopped early: {stop.reason}")

    def status_from_tally(self) -> Status:
        """ "partial" when some item failed, else "succeeded"."""
        return "partial" if self.tally.counts["failed"] else "succeeded"

    # -- bulk operations ----------------------------------------------------------------------

    async def record_operation(
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
        results (``finish_operation``): a crash in between resumes by recording them again.
        """
        try:
            done = await self.l360.wait_for_operation(op.id)
        except BulkOperationFailed:
            self.finish_operation(op.id, "error")
            raise
        if done.status == "error":
            self.finish_operation(op.id, "error")
            raise BulkOperationFailed(done.id, done.error_message, operation_type=done.type)
        return done

    def finish_operation(self, op_id: str, status: str) -> None:
        """Record that a bulk operation ended and its results are in the store."""
        self.store.bulk.finish(op_id, status, self.now(), clear_context=True)

    async def _resume_pending(self, work: JobRun) -> None:
        """Poll the bulk operations a crashed run of this job left behind; record what they did.

        An operation whose results cannot be recorded (the store refuses a value) is closed as
        "unrecordable": its items are sent again by a later run, and it never blocks one.
        """
        for pending in self.store.bulk.pending(self.conn):
            if pending.op_type not in work.op_types:
                continue
            logger.info("resuming bulk operation %s (%s)", pending.op_id, pending.op_type)
            try:
                done = await self.l360.wait_for_operation(pending.op_id)
            except BulkOperationFailed:
                self.finish_operation(pending.op_id, "error")
                continue
            except Learning360NotFound:
                self.finish_operation(pending.op_id, "lost")
                continue
            status: str = done.status
            if done.status == "completed":
                try:
                    await work.resume(pending)
                except StoreDataError as exc:
                    status = "unrecordable"
                    self.tally.error(
                        f"the results of bulk operation {pending.op_id} could not be recorded"
                        f" ({exc}); its items are sent again by the next listing"
                    )
            self.finish_operation(pending.op_id, status)
