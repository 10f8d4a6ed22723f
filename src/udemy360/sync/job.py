"""The engine's one entry point: run one job of one connection.

The CLI, the daily service, the benchmark — and the web admin, the queue workers and the
statistics receiver — all call ``run_job``; nothing outside ``sync`` dispatches on the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from udemy360.domain import Now, utcnow
from udemy360.store import Store
from udemy360.sync.catalog import CatalogRun
from udemy360.sync.context import LOCK_TTL, Clients, JobRun, RunContext, Sleep
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import Job, ProgressSink, RunReport
from udemy360.sync.statistics import StatisticsRun


@dataclass(frozen=True, slots=True)
class JobRequest:
    """Which job to run, and how.

    ``full`` concerns statistics (``None``: the weekly full pull decides); ``allow_mass_archive``
    concerns the catalog (overrides the mass-archive guard for this run).
    """

    job: Job
    dry_run: bool = False
    full: bool | None = None
    allow_mass_archive: bool = False


async def run_job(
    request: JobRequest | Job,
    *,
    store: Store,
    clients: Clients,
    options: SyncOptions,
    progress: ProgressSink | None = None,
    now: Now = utcnow,
    sleep: Sleep | None = None,
    lock_ttl: float = LOCK_TTL,
) -> RunReport:
    """Run one job of the connection ``options`` names and return its report.

    Never raises for API trouble: the report's status says "failed", "refused" (the catalog's
    mass-archive guard) or "locked" (another run holds the connection). The lease on the
    connection (``lock_ttl`` seconds) is renewed every ``lock_ttl / 3`` by a background task
    that waits with ``sleep`` (``asyncio.sleep``; tests inject their own).
    """
    if isinstance(request, str):
        request = JobRequest(request)
    ctx = RunContext(
        store,
        clients,
        options,
        job=request.job,
        dry_run=request.dry_run,
        now=now,
        progress=progress,
        lock_ttl=lock_ttl,
        sleep=sleep,
    )
    work: JobRun
    if request.job == "courses":
        work = CatalogRun(ctx, allow_mass_archive=request.allow_mass_archive)
    else:
        work = StatisticsRun(ctx, full=request.full)
    return await ctx.execute(work)
