"""``udemy360 run``: the foreground service that runs both daily jobs on schedule.

Shutdown on SIGTERM/SIGINT is graceful: the scheduler stops, a job in progress gets ``grace``
seconds to finish, then it is cancelled between awaits (database writes are synchronous, so no
transaction is cut in half; bulk operation ids are persisted before waiting, so the next run
resumes them), and a run row it left "running" is closed as "aborted". A second signal cancels
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from udemy360.cli import _factory
from udemy360.domain import Now, utcnow
from udemy360.logs import bind_run
from udemy360.scheduling import DailyJob, Scheduler, Sleep

if TYPE_CHECKING:
    from udemy360.config import Settings
    from udemy360.store import Store

logger = logging.getLogger(__name__)


def make_job_runner(settings: Settings, store: Store) -> Callable[[str], Awaitable[object]]:
    """Return the callable the scheduler uses to run one job with fresh clients."""
    from udemy360.runtime import tune_gc
    from udemy360.sync import Clients, as_job, run_job

    tune_gc()

    async def run(job: str) -> object:
        row = store.connections.get(settings.connection_id)
        if row is None or not row.active:
            logger.warning("connection %s is deactivated: %s skipped", settings.connection_id, job)
            return None
        options = _factory.sync_options(settings, integration_id=row.integration_id)
        try:
            async with (
                _factory.udemy_client(settings) as udemy,
                _factory.learning360_client(settings) as l360,
            ):
                with bind_run(connection=settings.connection_id, job=job):
                    report = await run_job(
                        as_job(job), store=store, clients=Clients(udemy, l360), options=options
                    )
        except Exception:
            # The service's outermost boundary: an unexpected error (a bug, the database gone)
            # is logged with its traceback and ends this job only; tomorrow's run still happens
            # (the engine closed the run as aborted, or the next run closes it as interrupted).
            logger.exception("job %s crashed; the service goes on", job)
            return None
        logger.info(
            "job %s finished: run_id=%s status=%s counts=%s",
            job,
            report.run_id,
            report.status,
            {k: v for k, v in report.counts.items() if v},
        )
        return report

    return run


def last_started(store: Store, connection_id: str) -> Callable[[str], datetime | None]:
    """Return a lookup of the start of the last run of a job that completed (fully or partly)."""

    def lookup(job: str) -> datetime | None:
        row = store.runs.last_successful(connection_id, job)
        return row.started_at if row is not None else None

    return lookup


async def serve(
    settings: Settings,
    *,
    grace: float = 30.0,
    clock: Now = utcnow,
    sleep: Sleep | None = None,
    install_signals: bool = True,
    stop: asyncio.Event | None = None,
    max_runs: int | None = None,
) -> int:
    """Run the schedule until a signal (or ``stop``) arrives; return the exit code."""
    store = _factory.open_store(settings)
    try:
        row = store.connections.get(settings.connection_id)
        if row is None or not row.integration_id:
            logger.error("not set up: run 'udemy360 setup' first")
            return 1
        if not row.active:
            logger.error(
                "connection %s is deactivated: run 'udemy360 setup' to activate it again",
                settings.connection_id,
            )
            return 1
        _factory.sync_options(settings, integration_id=row.integration_id)  # validate early
        schedule = settings.schedule
        scheduler = Scheduler(
            [DailyJob("courses", schedule.courses), DailyJob("stats", schedule.stats)],
            tz=schedule.zone,
            run_job=make_job_runner(settings, store),
            last_started=last_started(store, settings.connection_id),
            clock=clock,
            sleep=sleep,
        )
        stop_event = stop or asyncio.Event()
        task = asyncio.create_task(scheduler.run(max_runs=max_runs))
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)

        def on_signal() -> None:
            if stop_event.is_set():
                logger.warning("second signal: cancelling the current job now")
                task.cancel()
            else:
                logger.info("stop requested: finishing the current job (up to %.0fs)", grace)
                stop_event.set()

        if install_signals:
            for sig in signals:
                loop.add_signal_handler(sig, on_signal)
        logger.info("service started for connection %s", settings.connection_id)
        try:
            waiter = asyncio.create_task(stop_event.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not task.done():
                scheduler.stop()
                done, _ = await asyncio.wait({task}, timeout=grace)
                if not done:
                    logger.warning("the current job did not finish in %.0fs: cancelling it", grace)
                    task.cancel()
            # a cancelled job's run was closed as aborted by the engine itself
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if install_signals:
                for sig in signals:
                    loop.remove_signal_handler(sig)
        logger.info("service stopped")
        return 0
    finally:
        store.close()
