"""Fixtures of the CLI tests: both sandboxes on loopback and a configuration pointing at them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from udemy360.cli._demo import Sandboxes, running_sandboxes, sandbox_answers
from udemy360.cli._init import write_initial_config
from udemy360.logs import reset_logging


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No outside UDEMY360_ variable leaks in, and the log handler is removed afterwards."""
    for name in list(os.environ):
        if name.startswith("UDEMY360_"):
            monkeypatch.delenv(name)
    yield
    reset_logging()


@pytest.fixture
def boxes() -> Iterator[Sandboxes]:
    """Fresh Udemy and 360Learning sandboxes served on 127.0.0.1 (small tenant)."""
    with running_sandboxes(scale=0.1) as running:
        running.l360.faults.clear()  # no rate limiting: these tests are about the CLI
        yield running


@pytest.fixture
def config_path(tmp_path: Path, boxes: Sandboxes) -> Path:
    """A configuration for the sandboxes (tags and paths off), secrets encrypted at rest."""
    path = tmp_path / "udemy360.toml"
    answers = sandbox_answers(boxes)
    from dataclasses import replace

    write_initial_config(
        path,
        replace(answers, tags=False, learning_paths=False),
        udemy_secret=boxes.udemy.credentials_dict()["client_secret"],
        l360_secret=boxes.l360.client_secret,
    )
    return path
