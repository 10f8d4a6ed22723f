"""Process settings for the faces that run jobs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from udemy360.runtime import tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


class TestTuneGc:
    def test_freezes_the_heap_and_keeps_the_thresholds(self, restored_gc: None) -> None:
        """After tuning, what start-up allocated is frozen; collections stay as frequent."""
        before = gc.get_threshold()
        tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
