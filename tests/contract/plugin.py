"""pytest plugin: the 360Learning contract check and the sandbox-backed client fixtures.

Register it once from ``tests/conftest.py``::

    pytest_plugins = ["tests.contract.plugin"]

Every request udemy360 sends to 360Learning in this process (through ``RecordingTransport`` or
any httpx transport: the plugin hooks them all) is validated against
``../shared/contracts/360learning/*.openapi.json``; the session fails at the end when any
request was invalid. ``--contract-responses=warn`` reports, without failing, sandbox responses
that depart from the documented response schemas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.contract.openapi import describe
from tests.contract.recorder import (
    RECORDER,
    ContractRecorder,
    Finding,
    RecordingTransport,
    record_every_client_request,
)
from udemy360.learning360 import Learning360Client, Learning360Credentials

if TYPE_CHECKING:
    from udemy360.sandbox.learning360 import Learning360Sandbox

# Not a real host: ASGITransport never resolves it, and loopback satisfies the
# plain-http check of Learning360Credentials.
SANDBOX_BASE_URL = "http://127.0.0.1"


class FakeTime:
    """A clock shared by the sandbox and the client; ``sleep`` moves it instead of waiting."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        """Current fake time, in seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the wait and advance the clock by it."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move time forward without anyone sleeping."""
        self.now += seconds


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "360Learning contract check")
    group.addoption(
        "--contract-responses",
        choices=("fail", "warn"),
        default="fail",
        help="whether sandbox responses that depart from the definitions fail the session",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Every request udemy360 sends to a 360Learning API in this process is checked, whichever
    # transport the test built (ASGI in-process or loopback HTTP).
    config.add_cleanup(record_every_client_request(RECORDER))


@pytest.fixture
def contract_recorder() -> ContractRecorder:
    """The session-wide recorder (its findings fail the session at the end)."""
    return RECORDER


@pytest.fixture
def l360_time() -> FakeTime:
    """Fake time shared by ``l360_sandbox`` and ``l360_client``."""
    return FakeTime()


@pytest.fixture
def l360_sandbox(l360_time: FakeTime) -> Learning360Sandbox:
    """A fresh 360Learning sandbox on fake time (rate limits on, as on the real platform)."""
    from udemy360.sandbox.learning360 import Learning360Sandbox

    return Learning360Sandbox(seed=1, learners=300, clock=l360_time.time, sleep=l360_time.sleep)


@pytest.fixture
def l360_transport(l360_sandbox: Learning360Sandbox) -> RecordingTransport:
    """The sandbox app behind the contract-recording transport."""
    return RecordingTransport(httpx.ASGITransport(app=l360_sandbox.app))


@pytest.fixture
def l360_credentials(l360_sandbox: Learning360Sandbox) -> Learning360Credentials:
    """Valid credentials of the sandbox's company."""
    return Learning360Credentials(
        client_id=l360_sandbox.client_id,
        client_secret=l360_sandbox.client_secret,
        base_url=SANDBOX_BASE_URL,
    )


@pytest.fixture
async def l360_client(
    l360_credentials: Learning360Credentials,
    l360_transport: RecordingTransport,
    l360_time: FakeTime,
) -> AsyncIterator[Learning360Client]:
    """A ``Learning360Client`` talking to ``l360_sandbox``, every request contract-checked."""
    async with Learning360Client(
        l360_credentials, transport=l360_transport, clock=l360_time.time, sleep=l360_time.sleep
    ) as client:
        yield client


def _render(title: str, findings: list[Finding]) -> list[str]:
    lines = [f"{title} ({len(findings)}):"]
    for finding in findings[:50]:
        lines.append(f"{finding.method} {finding.path}  [{finding.test}]")
        lines.append(describe(finding.violations))
    if len(findings) > 50:
        lines.append(f"... and {len(findings) - 50} more")
    return lines


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    recorder = RECORDER
    if recorder.contract is None:
        terminalreporter.write_line(
            "360Learning contract check skipped: ../shared/contracts/360learning is absent"
        )
        return
    terminalreporter.write_line(
        f"360Learning contract check: {recorder.requests_checked} requests, "
        f"{recorder.responses_checked} responses checked"
    )
    if recorder.request_findings:
        terminalreporter.section("requests rejected by the 360Learning definitions", red=True)
        for line in _render("invalid requests", recorder.request_findings):
            terminalreporter.write_line(line)
    if recorder.response_findings:
        terminalreporter.section("sandbox responses unlike the 360Learning definitions")
        for line in _render("invalid responses", recorder.response_findings):
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    failing = bool(RECORDER.request_findings)
    if session.config.getoption("--contract-responses", "fail") == "fail":
        failing = failing or bool(RECORDER.response_findings)
    if failing and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


__all__ = ["SANDBOX_BASE_URL", "FakeTime", "RecordingTransport"]
