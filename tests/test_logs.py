"""Structured logging: context on every line, JSON on request, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from udemy360.logs import add_secrets, bind_run, configure_logging, get_logger, reset_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """JSON logging into a buffer, removed afterwards."""
    buffer = io.StringIO()
    configure_logging(fmt="json", secrets=["hunter2-secret"], stream=buffer)
    yield buffer
    reset_logging()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class TestLogging:
    def test_context_on_every_line(self, stream: io.StringIO) -> None:
        """Lines inside bind_run carry connection, run id and job, from structlog and stdlib."""
        with bind_run(connection="acme", run_id=7, job="courses"):
            get_logger("t").info("hello")
            logging.getLogger("std").warning("from stdlib %s", "x")
        first, second = lines(stream)
        for event in (first, second):
            assert (event["connection"], event["run_id"], event["job"]) == ("acme", 7, "courses")
        assert second["event"] == "from stdlib x"

    def test_secret_values_and_fields_are_scrubbed(self, stream: io.StringIO) -> None:
        """Known secrets vanish from messages, fields and tracebacks; auth fields are redacted."""
        add_secrets(["late-added-secret"])
        log = get_logger("t")
        log.info("token hunter2-secret", authorization="Bearer abc", note="late-added-secret")
        logging.getLogger("std").info("url %s", "https://x/?q=hunter2-secret")
        try:
            raise RuntimeError("boom hunter2-secret")
        except RuntimeError:
            log.exception("failed")
        text = stream.getvalue()
        assert "hunter2-secret" not in text
        assert "late-added-secret" not in text
        assert "Bearer abc" not in text
        assert lines(stream)[0]["authorization"] == "REDACTED"
