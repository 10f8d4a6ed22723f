from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Env
from udemy360.logs import configure_logging, reset_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """udemy360's JSON logging into a buffer, removed afterwards."""
    buffer = io.StringIO()
    configure_logging(fmt="json", verbose=True, stream=buffer)
    yield buffer
    reset_logging()


class TestRunContext:
    async def test_every_run_line_carries_run_id_and_connection(
        self, env: Env, log_stream: io.StringIO
    ) -> None:
        """Lines logged during a run (engine and clients) carry its run id and connection."""
        report = await env.courses()
        lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line]
        during = [line for line in lines if line.get("logger", "").startswith("udemy360.")]
        submitted = [line for line in during if "bulk operation submitted" in line["event"]]
        finished = [line for line in during if "run finished" in line["event"]]
        assert submitted
        assert finished
        for line in submitted + finished:
            assert line["run_id"] == report.run_id
            assert line["connection"] == "acme"
            assert line["job"] == "courses"
