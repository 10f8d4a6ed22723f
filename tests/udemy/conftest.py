"""Fixtures for the Udemy client tests: the sandbox, a fake clock/sleep, a client factory."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from udemy360._http import RetryPolicy
from udemy360.sandbox.udemy import UdemyFaults, UdemySandbox, UdemyTenant
from udemy360.udemy import UdemyClient, UdemyCredentials

SECRET = "sandbox-secret-s3cr3t"


class FakeTime:
    """A clock that only moves when something sleeps; records every wait."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.calls: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sandbox(fake_time: FakeTime) -> UdemySandbox:
    return UdemySandbox(
        UdemyTenant(seed=7, courses=200, learning_paths=12, learners=300, activity_rows=1_500),
        client_secret=SECRET,
        faults=UdemyFaults(clock=fake_time.clock, sleep=fake_time.sleep),
    )


@pytest.fixture
def policy(fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=4,
        max_elapsed=300.0,
        max_retry_after=60.0,
        sleep=fake_time.sleep,
        rng=random.Random(1),
    )


ClientFactory = Callable[..., UdemyClient]


@pytest.fixture
async def make_client(
    sandbox: UdemySandbox, policy: RetryPolicy, fake_time: FakeTime
) -> AsyncIterator[ClientFactory]:
    clients: list[UdemyClient] = []

    def make(sb: UdemySandbox | None = None, **kwargs: Any) -> UdemyClient:
        sb = sb or sandbox
        creds_kwargs = {**sb.credentials_dict(), "base_url": sb.base_url()}
        creds_kwargs.update(kwargs.pop("creds", {}))
        kwargs.setdefault("transport", httpx.ASGITransport(app=sb.app))
        kwargs.setdefault("retry", policy)
        kwargs.setdefault("clock", fake_time.clock)
        client = UdemyClient(UdemyCredentials(**creds_kwargs), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
