"""``udemy360 run``: the service runs due jobs on its clock and survives a crashed job."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from udemy360.cli import app
from udemy360.cli._service import serve
from udemy360.config import load_settings
from udemy360.store import RunStatus, Store

runner = CliRunner()


class FakeClock:
    """Wall-clock time that moves only when the service sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def _set_up(config_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(config_path), "setup"])
    assert result.exit_code == 0, result.output


class TestServe:
    def test_catches_up_both_missed_jobs_at_start(self, config_path: Path) -> None:
        """Never run before, the service runs courses then stats at once, then keeps going."""
        _set_up(config_path)
        settings = load_settings(config_path)
        clock = FakeClock(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))  # 07:00 in Paris
        code = asyncio.run(
            serve(settings, clock=clock, sleep=clock.sleep, install_signals=False, max_runs=2)
        )
        assert code == 0
        with Store.open(settings.store_url) as store:
            runs = store.runs.list(settings.connection_id)
        assert sorted(r.job for r in runs) == ["courses", "stats"]
        assert all(r.status == RunStatus.SUCCEEDED for r in runs)

    def test_a_crashed_job_does_not_stop_the_service(self, config_path: Path) -> None:
        """A job that crashes is logged and closed as aborted; the service goes on."""
        _set_up(config_path)
        settings = load_settings(config_path)
        db = Path(settings.store_url.removeprefix("sqlite:///"))
        # The engine's own tables are gone: both jobs crash inside the engine.
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA foreign_keys=OFF")
            for table in ("item_tags", "items", "stats"):
                conn.execute(f"DROP TABLE {table}")
        clock = FakeClock(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
        code = asyncio.run(
            serve(settings, clock=clock, sleep=clock.sleep, install_signals=False, max_runs=2)
        )
        assert code == 0
        with Store.open(settings.store_url, migrate=False) as store:
            runs = store.runs.list(settings.connection_id)
        assert sorted(r.job for r in runs) == ["courses", "stats"]
        assert {r.status for r in runs} == {RunStatus.ABORTED}
