"""Fixtures for the 360Learning sandbox tests: a fake clock, the sandbox, a raw HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from udemy360.sandbox.learning360 import Learning360Sandbox

START = 1_750_000_000.0  # 2025-06-15T15:06:40Z


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSleep:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def sb(clock: FakeClock, fake_sleep: FakeSleep) -> Learning360Sandbox:
    sandbox = Learning360Sandbox(
        seed=7,
        learners=60,
        token_ttl=3600.0,
        clock=clock,
        sleep=fake_sleep,
        validate_responses=True,
    )
    sandbox.faults.disable_rate_limit()  # rate-limit tests switch it back on
    return sandbox


@pytest.fixture
async def raw(sb: Learning360Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client on the sandbox app."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sb.app), base_url="http://test"
    ) as client:
        yield client


async def get_token(raw: httpx.AsyncClient, sb: Learning360Sandbox) -> str:
    response = await raw.post(
        "/api/v2/oauth2/token",
        json={
            "grant_type": "client_credentials",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


@pytest.fixture
async def api(raw: httpx.AsyncClient, sb: Learning360Sandbox) -> httpx.AsyncClient:
    """The same client with a valid bearer token and the version header set."""
    token = await get_token(raw, sb)
    raw.headers["Authorization"] = f"Bearer {token}"
    raw.headers["360-api-version"] = "v2.0"
    return raw


@pytest.fixture
async def integration_id(api: httpx.AsyncClient, sb: Learning360Sandbox) -> str:
    response = await api.post(
        "/api/v2/integrations",
        json={
            "externalPlatform": "Udemy",
            "groupId": sb.group_id,
            "authorId": sb.owner_id,
            "defaultCompletion": True,
            "defaultProgress": 0,
        },
    )
    assert response.status_code == 201
    value = response.json()["_id"]
    assert isinstance(value, str)
    return value


def course(external_id: str, **extra: object) -> dict[str, object]:
    """A valid ExternalCourse body item."""
    return {
        "externalId": external_id,
        "name": f"Course {external_id}",
        "defaultLang": "en",
        "launchUrl": f"https://acme.udemy.com/course/{external_id}/",
        "sources": [{"name": "Udemy"}],
        "subjects": ["Development"],
        **extra,
    }


def stat(external_id: str, mail: str, **extra: object) -> dict[str, object]:
    """A valid statistics item (progress 10, 1 minute, on 2025-07-01)."""
    return {
        "courseIdentifier": {"type": "externalId", "value": external_id},
        "userIdentifier": {"type": "mail", "value": mail},
        "progress": 10,
        "timeSpent": 60_000,
        "firstActivityAt": "2025-07-01T08:00:00.000Z",
        "lastActivityAt": "2025-07-01T09:00:00.000Z",
        **extra,
    }


async def run_bulk(
    api: httpx.AsyncClient,
    sb: Learning360Sandbox,
    method: str,
    path: str,
    items: list[dict[str, object]],
) -> list[dict[str, object]]:
    """Submit a bulk body, finish it, and return its results."""
    response = await api.request(method, path, json={"input": items})
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    sb.process_bulk()
    status = await api.get(location)
    assert status.json()["status"] in {"completed", "error"}
    results = await api.get(f"{location}/results")
    assert results.status_code == 200
    body = results.json()
    assert isinstance(body, list)
    return body
