"""The CLI's exit code for each run status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from udemy360.cli._jobs import combined_exit_code, run_exit_code
from udemy360.sync import RunReport

T0 = datetime(2026, 1, 15, 5, 30, tzinfo=UTC)


def _report(status: str) -> RunReport:
    return RunReport.from_dict(
        {
            "connection_id": "acme",
            "job": "courses",
            "status": status,
            "started_at": T0.isoformat(),
            "ended_at": T0.isoformat(),
        }
    )


class TestExitCodes:
    @pytest.mark.parametrize(
        ("status", "code"),
        [
            ("succeeded", 0),
            ("partial", 3),
            ("failed", 1),
            ("refused", 1),
            ("locked", 1),
            ("aborted", 1),
        ],
    )
    def test_each_status(self, status: str, code: int) -> None:
        """Each run status maps to the CLI's documented exit code."""
        assert run_exit_code(_report(status)) == code

    def test_failure_wins_over_partial(self) -> None:
        """Several runs exit with the worst: a failure over item errors over success."""
        reports = [_report("succeeded"), _report("partial"), _report("failed")]
        assert combined_exit_code(reports) == 1
        assert combined_exit_code(reports[:2]) == 3
