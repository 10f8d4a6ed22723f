"""When the daily jobs run: pure next-run computation in local time, and a thin async runner.

The spec says 7:30 and 7:45 "Central European Time (UTC+1)"; we follow Europe/Paris, daylight
saving included, so the run keeps its place on the wall clock all year. Around the changes:

- a local time that does not exist (spring forward, 02:30 on the last Sunday of March) runs at
  the first valid instant after it (03:00 local);
- a local time that happens twice (fall back, 02:30 on the last Sunday of October) runs once,
  at the first occurrence.

The runner takes its clock and sleep as arguments so tests never wait; on start-up it runs once
any job whose most recent scheduled time passed without a run (machine asleep, service down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from udemy360.domain import Now, utcnow

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def _exists(local: datetime) -> bool:
    """Whether the wall time ``local`` (aware, fold as given) really occurs in its zone."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def occurrence(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return the UTC instant at which the job scheduled at ``at`` runs on local ``day``.

    Nonexistent wall times move to the end of the gap; ambiguous ones take the first occurrence.
    """
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)  # fold=0: first occurrence
    if _exists(local):
        return local.astimezone(UTC)
    # In a gap: fold=1 maps the wall time with the offset after the change and lands before the
    # gap; fold=0 with the offset before it and lands after. The transition lies in between.
    low = local.replace(fold=1).astimezone(UTC)
    high = local.replace(fold=0).astimezone(UTC)
    before = low.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0) if high.microsecond else high


def next_run(at: time, tz: ZoneInfo, after: datetime) -> datetime:
    """Return the first scheduled instant (UTC) strictly after ``after``."""
    local_day = after.astimezone(tz).date()
    for offset in range(-1, 3):
        candidate = occurrence(local_day + timedelta(days=offset), at, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily job always has a run within two days")


def previous_run(at: time, tz: ZoneInfo, now: datetime) -> datetime:
    """Return the latest scheduled instant (UTC) at or before ``now``."""
    local_day = now.astimezone(tz).date()
    for offset in range(1, -3, -1):
        candidate = occurrence(local_day + timedelta(days=offset), at, tz)
        if candidate <= now:
            return candidate
    raise AssertionError("unreachable: a daily job always had a run within two days")


def is_missed(at: time, tz: ZoneInfo, now: datetime, last_started: datetime | None) -> bool:
    """Whether the latest scheduled run before ``now`` never started (no run since then)."""
    if last_started is None:
        return True
    return last_started < previous_run(at, tz, now)


@dataclass(frozen=True, slots=True)
class DailyJob:
    """A job the service runs once a day at a local time."""

    name: str
    at: time


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """The next time a job runs."""

    job: str
    at: datetime  # UTC


def plan(jobs: Sequence[DailyJob], tz: ZoneInfo, after: datetime) -> list[PlannedRun]:
    """Return the next run of every job, earliest first (ties keep the given job order)."""
    runs = [PlannedRun(job.name, next_run(job.at, tz, after)) for job in jobs]
    return sorted(runs, key=lambda run: run.at)


class Scheduler:
    """Runs daily jobs at their times until ``stop`` is called; jobs run one at a time.

    ``last_started(job)`` reads the store (the latest run of that job, whatever its outcome) so
    a restart knows what was missed; ``run_job(job)`` runs it (the engine takes its own lock).
    """

    def __init__(
        self,
        jobs: Sequence[DailyJob],
        *,
        tz: ZoneInfo,
        run_job: Callable[[str], Awaitable[object]],
        last_started: Callable[[str], datetime | None],
        clock: Now = utcnow,
        sleep: Sleep | None = None,
        max_sleep: float = 300.0,
        on_plan: Callable[[list[PlannedRun]], None] | None = None,
    ) -> None:
        self._jobs = tuple(jobs)
        self._tz = tz
        self._run_job = run_job
        self._last_started = last_started
        self._clock = clock
        self._sleep = sleep
        # Re-reading the clock every few minutes keeps the schedule right after a suspend.
        self._max_sleep = max_sleep
        self._on_plan = on_plan
        self._stop = asyncio.Event()
        self.completed: list[tuple[str, datetime]] = []

    def stop(self) -> None:
        """Ask the loop to end; a job in progress finishes first (the caller may cancel it)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stop.is_set()

    async def _wait(self, seconds: float) -> None:
        if self._sleep is not None:
            await self._sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _execute(self, job: str) -> None:
        logger.info("job starting: %s", job)
        await self._run_job(job)
        self.completed.append((job, self._clock()))

    async def catch_up(self) -> list[str]:
        """Run once each job whose latest scheduled time passed without a run; return them."""
        ran = []
        for job in self._jobs:
            if self._stop.is_set():
                break
            now = self._clock()
            if is_missed(job.at, self._tz, now, self._last_started(job.name)):
                logger.info("missed run of %s: running it now", job.name)
                await self._execute(job.name)
                ran.append(job.name)
        return ran

    async def run(self, *, max_runs: int | None = None) -> None:
        """Catch up, then run jobs at their times until stopped (or ``max_runs`` jobs ran)."""
        await self.catch_up()
        due = {job.name: next_run(job.at, self._tz, self._clock()) for job in self._jobs}
        at_of = {job.name: job.at for job in self._jobs}
        self._announce(due)
        while not self._stop.is_set():
            if max_runs is not None and len(self.completed) >= max_runs:
                return
            now = self._clock()
            ready = sorted((when, name) for name, when in due.items() if when <= now)
            if not ready:
                delay = (min(due.values()) - now).total_seconds()
                await self._wait(min(delay, self._max_sleep))
                continue
            # Every job due by now runs once, in time order, even after a long suspend.
            for scheduled, name in ready:
                if self._stop.is_set():
                    return
                await self._execute(name)
                due[name] = next_run(at_of[name], self._tz, max(self._clock(), scheduled))
            self._announce(due)

    def _announce(self, due: dict[str, datetime]) -> None:
        upcoming = sorted((PlannedRun(name, when) for name, when in due.items()), key=_at)
        for planned in upcoming:
            logger.info(
                "next run of %s at %s (%s)",
                planned.job,
                planned.at.astimezone(self._tz).isoformat(),
                self._tz.key,
            )
        if self._on_plan is not None:
            self._on_plan(upcoming)


def _at(run: PlannedRun) -> datetime:
    return run.at
