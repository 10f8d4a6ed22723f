"""``udemy360 demo``: the whole tour against in-process sandboxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from udemy360.cli._demo import run_demo


def test_the_tour_lists_waiting_learners_and_a_second_run_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo succeeds, lists the learners 360Learning lacks, and re-runs with no write."""
    assert run_demo(tmp_path, scale=0.1) == 0
    out = capsys.readouterr().out
    assert "Learners 360Learning does not know" in out
    assert "learner000024@example.com" in out  # the seed's first learner without an account
    assert "writes sent: 0" in out
    assert "by 360Learning user id" in out
    assert "still waiting 0" in out
