"""The run's lease: renewed in the background while a run goes, and a lost lease stops it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from tests.e2e.conftest import Env, make_env
from udemy360.store import LockHeld, RunStatus, Store
from udemy360.store.records import LockRecord
from udemy360.sync import Clients, RunReport, run_job

TTL = 120.0


@dataclass
class LeaseClock:
    """The store's clock; it moves only when the engine's lease renewer sleeps."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


async def _run(env: Env, store: Store, clock: LeaseClock) -> RunReport:
    async with env.udemy_client() as udemy, env.lms_client() as l360:
        return await run_job(
            "courses",
            store=store,
            clients=Clients(udemy, l360),
            options=env.options,
            now=env.now,
            lock_ttl=TTL,
            sleep=clock.sleep,
        )


class TestLeaseRenewal:
    async def test_lease_outlives_its_ttl_while_the_run_goes(self) -> None:
        """A run lasting many ttls keeps its lease: a rival polling all along never gets it."""
        env = await make_env(courses=30)
        env.set_options(course_batch_size=3)
        clock = LeaseClock(datetime.now(UTC))
        store = Store(env.store.engine, clock=clock)
        started = clock.now
        stolen: list[datetime] = []
        done = asyncio.Event()

        async def rival() -> None:
            while not done.is_set():
                try:
                    lease = store.locks.acquire("acme", "rival", ttl=10)
                except LockHeld:
                    pass
                else:
                    stolen.append(clock.now)
                    lease.release()
                await asyncio.sleep(0)

        task = asyncio.create_task(rival())
        try:
            report = await _run(env, store, clock)
        finally:
            done.set()
            await task
        assert report.status == "succeeded"
        assert stolen == []
        assert clock.now - started > timedelta(seconds=3 * TTL)  # the run outlived its lease

    async def test_run_stops_when_its_lease_is_taken(self) -> None:
        """A run whose lease another process took stops as failed and says why."""
        env = await make_env(courses=30)
        env.set_options(course_batch_size=3)
        clock = UsurpedClock(datetime.now(UTC))
        store = Store(env.store.engine, clock=clock)
        clock.store = store
        report = await _run(env, store, clock)
        assert clock.usurped
        assert report.status == "failed"
        assert "took over the connection's lock" in report.errors[-1]
        row = store.runs.get(report.run_id or 0)
        assert row is not None
        assert row.status == RunStatus.FAILED


@dataclass
class UsurpedClock(LeaseClock):
    """At the renewer's second wait, another process deletes the lease and takes its own."""

    store: Store | None = None
    waits: int = 0
    usurped: bool = False

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        self.waits += 1
        if self.waits == 2 and self.store is not None:
            with self.store.engine.begin() as conn:
                conn.execute(delete(LockRecord))
            self.store.locks.acquire("acme", "usurper", ttl=3600)
            self.usurped = True
