"""The CLI as a real process: ``python -m udemy360``, and SIGTERM mid-run then a clean restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from udemy360.cli._demo import Sandboxes
from udemy360.config import load_settings
from udemy360.store import RunStatus, Store

pytestmark = pytest.mark.e2e


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "udemy360", "--config", str(config), *args]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("UDEMY360_")}


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


class TestProcess:
    def test_module_help(self) -> None:
        """python -m udemy360 --help exits 0 and lists the commands."""
        done = subprocess.run(
            [sys.executable, "-m", "udemy360", "--help"],
            capture_output=True,
            text=True,
            env=environment(),
            timeout=60,
            check=False,
        )
        assert done.returncode == 0
        assert "setup" in done.stdout
        assert "sync" in done.stdout

    def test_setup_and_sync_exit_codes(self, config_path: Path, boxes: Sandboxes) -> None:
        """setup exits 0 and sync courses exits 0 in a real process, printing no secret."""
        env = environment()
        setup = subprocess.run(
            command(config_path, "setup"), capture_output=True, text=True, env=env, timeout=60
        )
        assert setup.returncode == 0, setup.stderr
        synced = subprocess.run(
            command(config_path, "sync", "courses"),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert synced.returncode == 0, synced.stderr
        for secret in (boxes.l360.client_secret, boxes.udemy.credentials_dict()["client_secret"]):
            assert secret not in setup.stdout + setup.stderr + synced.stdout + synced.stderr


class TestServiceShutdown:
    def test_sigterm_mid_run_then_clean_restart(self, config_path: Path, boxes: Sandboxes) -> None:
        """SIGTERM during a run leaves no run 'running'; a restart completes with no duplicate."""
        env = environment()
        assert subprocess.run(command(config_path, "setup"), env=env, timeout=60).returncode == 0
        store_url = load_settings(config_path).store_url
        boxes.udemy.faults.latency(0.4)  # slow pages: the catch-up run is still going at SIGTERM

        def runs() -> list[RunStatus]:
            with Store.open(store_url) as store:
                return [row.status for row in store.runs.list("default")]

        service = subprocess.Popen(
            command(config_path, "run", "--grace", "0.2"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: RunStatus.RUNNING in runs())
            service.send_signal(signal.SIGTERM)
            _, stderr = service.communicate(timeout=30)
        finally:
            if service.poll() is None:
                service.kill()
        assert service.returncode == 0, stderr
        assert RunStatus.RUNNING not in runs()
        assert "stop requested" in stderr

        boxes.udemy.faults.clear()
        restarted = subprocess.Popen(
            command(config_path, "run"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(
                lambda: (
                    [s for s in runs() if s in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)].__len__()
                    >= 2
                )
            )
            restarted.send_signal(signal.SIGTERM)
            _, stderr = restarted.communicate(timeout=30)
        finally:
            if restarted.poll() is None:
                restarted.kill()
        assert restarted.returncode == 0, stderr
        assert "next run of courses" in stderr
        world = boxes.l360.world
        assert len(world.courses) == boxes.udemy.tenant.course_count
        assert len(world.external_index) == len(world.courses)  # no duplicate external course
        assert len(world.integrations) == 1
        assert RunStatus.RUNNING not in runs()
