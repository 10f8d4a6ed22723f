"""Both sandboxes, a store and the engine wired together, with fake time everywhere."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from udemy360._http import RetryPolicy
from udemy360.learning360 import IntegrationSettings, Learning360Client, Learning360Credentials
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy import UdemySandbox, UdemyTenant
from udemy360.store import Store
from udemy360.sync import Clients, JobRequest, ProgressSink, RunReport, SyncOptions, run_job
from udemy360.udemy import UdemyClient, UdemyCredentials

DAY1 = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


@dataclass
class FakeTime:
    """Seconds that move only when someone sleeps: the 360Learning side's clock and sleep."""

    now: float = 1_772_000_000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Env:
    """A connection under test: sandboxes, store, options and the day's date."""

    udemy_sb: UdemySandbox
    lms: Learning360Sandbox
    store: Store
    options: SyncOptions
    time: FakeTime
    today: datetime = DAY1
    udemy_root: str = "http://localhost"
    lms_root: str = "http://localhost"
    use_asgi: bool = True
    servers: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def serve_over_http(self) -> None:
        """Serve both sandboxes on loopback ports; the clients then use real HTTP."""
        self.udemy_root = self.servers.enter_context(serve_in_thread(self.udemy_sb.app))
        self.lms_root = self.servers.enter_context(serve_in_thread(self.lms.app))
        self.use_asgi = False

    def close(self) -> None:
        self.servers.close()
        self.store.close()

    def now(self) -> datetime:
        return self.today

    def next_day(self) -> None:
        self.today += timedelta(days=1)
        self.time.now += 86_400

    def set_options(self, **changes: object) -> None:
        self.options = replace(self.options, **changes)  # type: ignore[arg-type]

    def udemy_client(self) -> UdemyClient:
        creds = UdemyCredentials(
            **self.udemy_sb.credentials_dict(), base_url=self.udemy_sb.base_url(self.udemy_root)
        )
        transport = httpx.ASGITransport(app=self.udemy_sb.app) if self.use_asgi else None
        retry = RetryPolicy(max_attempts=6, base_delay=0.01, sleep=self.time.sleep)
        return UdemyClient(creds, transport=transport, retry=retry)

    def lms_client(self) -> Learning360Client:
        creds = Learning360Credentials(
            client_id=self.lms.client_id,
            client_secret=self.lms.client_secret,
            base_url=self.lms_root,
        )
        transport = httpx.ASGITransport(app=self.lms.app) if self.use_asgi else None
        retry = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=5, sleep=self.time.sleep)
        return Learning360Client(
            creds,
            transport=transport,
            retry=retry,
            clock=self.time.clock,
            sleep=self.time.sleep,
            poll_interval=0.05,
        )

    async def courses(
        self,
        *,
        dry_run: bool = False,
        allow_mass_archive: bool = False,
        progress: ProgressSink | None = None,
    ) -> RunReport:
        async with self.udemy_client() as udemy, self.lms_client() as l360:
            return await run_job(
                JobRequest("courses", dry_run=dry_run, allow_mass_archive=allow_mass_archive),
                store=self.store,
                clients=Clients(udemy, l360),
                options=self.options,
                now=self.now,
                progress=progress,
            )

    async def stats(self, *, dry_run: bool = False, full: bool | None = None) -> RunReport:
        async with self.udemy_client() as udemy, self.lms_client() as l360:
            return await run_job(
                JobRequest("stats", dry_run=dry_run, full=full),
                store=self.store,
                clients=Clients(udemy, l360),
                options=self.options,
                now=self.now,
            )

    # -- what 360Learning now holds ------------------------------------------------------------

    def course(self, external_id: str) -> dict[str, object]:
        """The payload 360Learning holds for ``external_id`` plus its status."""
        course_id = self.lms.world.external_index[(self.options.integration_id, external_id)]
        course = self.lms.world.courses[course_id]
        return {**course.data, "_status": course.status, "_id": course.id}

    def course_ids(self) -> dict[str, str]:
        return {
            ext: cid
            for (integration, ext), cid in self.lms.world.external_index.items()
            if integration == self.options.integration_id
        }

    def active_external_ids(self) -> set[str]:
        return {
            ext
            for ext, cid in self.course_ids().items()
            if self.lms.world.courses[cid].status != "archived"
        }

    def attempts(self, mail: str, external_id: str) -> list[dict[str, object]]:
        return self.lms.attempts_for(mail, self.course(external_id)["_id"])  # type: ignore[arg-type]


async def make_env(
    *,
    courses: int = 30,
    learning_paths: int = 4,
    learners: int = 50,
    activity_rows: int = 80,
    http: bool = False,
    **options: object,
) -> Env:
    """Build a fresh connection with an integration set up in the 360Learning sandbox.

    ``http=True`` serves both sandboxes over real loopback HTTP instead of the ASGI transport
    (call ``Env.close`` to stop the servers).
    """
    fake = FakeTime()
    lms = Learning360Sandbox(seed=1, learners=learners, clock=fake.clock, sleep=fake.sleep)
    lms.faults.bulk_delays(pending=0.0, queued=0.0, per_item=0.0)
    tenant = UdemyTenant(
        seed=7,
        courses=courses,
        learning_paths=learning_paths,
        learners=learners,
        activity_rows=activity_rows,
    )
    udemy_sb = UdemySandbox(tenant)
    store = Store.open("sqlite://")
    env = Env(
        udemy_sb=udemy_sb,
        lms=lms,
        store=store,
        options=SyncOptions(
            connection_id="acme",
            integration_id="",
            owner_id=lms.owner_id,
            account_name="acme",
            **options,  # type: ignore[arg-type]
        ),
        time=fake,
    )
    if http:
        env.serve_over_http()
    async with env.lms_client() as l360:
        integration = await l360.create_integration(
            IntegrationSettings(
                external_platform="Udemy",
                group_id=lms.group_id,
                author_id=lms.owner_id,
                default_completion=True,
                default_progress=0,
                no_group_propagation=False,
            )
        )
    store.connections.ensure("acme", udemy_account="acme", group_id=lms.group_id)
    store.connections.set_integration("acme", integration.id)
    env.set_options(integration_id=integration.id)
    return env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A small connection: 30 courses, 4 paths, 50 learners, 80 activity rows."""
    built = await make_env()
    yield built
    built.close()


@pytest.fixture(params=["asgi", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    """Run the test through the ASGI transport and over real loopback HTTP."""
    return str(request.param)


@pytest.fixture
async def any_env(transport: str) -> AsyncIterator[Env]:
    """The small connection of ``env``, through each transport in turn."""
    built = await make_env(http=transport == "http")
    yield built
    built.close()
