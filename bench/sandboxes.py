"""Both sandboxes as real loopback servers in their own processes, driven over a control pipe.

Each sandbox runs in ``python -m bench._serve`` so that its memory and CPU never show up in the
connector's figures. The driver talks to it with one JSON line per command on stdin and reads one
JSON line back on stdout: request-log summaries, tenant mutations, ground-truth counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.settings import BenchSettings

ROOT = Path(__file__).resolve().parent.parent


class SandboxProcess:
    """One sandbox server process and its control pipe."""

    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
        )
        self.kind = kind
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench._serve", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
            bufsize=1,
        )
        self.info = self.call(config)

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command and return the sandbox's answer."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        while True:
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.kind} sandbox exited (code {self._proc.poll()})")
            if line.startswith("{"):
                answer: dict[str, Any] = json.loads(line)
                if "error" in answer and answer.get("ok") is False:
                    raise RuntimeError(f"{self.kind} sandbox: {answer['error']}")
                return answer

    def close(self) -> None:
        """Ask the server to stop, then make sure it has."""
        if self._proc.poll() is None:
            with contextlib.suppress(RuntimeError, BrokenPipeError):
                self.call({"cmd": "quit"})
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@dataclass
class SandboxPair:
    """The Udemy and 360Learning sandboxes for one benchmark phase."""

    settings: BenchSettings
    realism: bool = True
    udemy: SandboxProcess | None = None
    l360: SandboxProcess | None = None

    def __enter__(self) -> SandboxPair:
        s, lim = self.settings, self.settings.limits
        t = s.tenant
        self.udemy = SandboxProcess(
            "udemy",
            {
                "seed": s.seed,
                "courses": t.courses,
                "learning_paths": t.learning_paths,
                "learners": t.learners,
                "activity_rows": t.activity_rows,
                "latency": lim.udemy_latency if self.realism else 0.0,
                "rps": lim.udemy_rps if self.realism else None,
            },
        )
        self.l360 = SandboxProcess(
            "l360",
            {
                "seed": s.seed,
                "learners": t.learners,
                "bulk_concurrency": lim.bulk_concurrency,
                "latency": lim.l360_latency if self.realism else 0.0,
                "reads_per_second": lim.l360_reads_per_second if self.realism else None,
                "writes_per_second": lim.l360_writes_per_second if self.realism else None,
                "bulk_pending": lim.bulk_pending if self.realism else 0.0,
                "bulk_queued": lim.bulk_queued if self.realism else 0.0,
                "bulk_per_item": lim.bulk_per_item if self.realism else 0.0,
            },
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in (self.udemy, self.l360):
            if proc is not None:
                proc.close()

    def mark(self) -> None:
        """Start counting both sandboxes' CPU from now (read back with ``logs``)."""
        assert self.udemy is not None
        assert self.l360 is not None
        self.udemy.call({"cmd": "mark"})
        self.l360.call({"cmd": "mark"})

    def logs(self, *, reset: bool = True) -> dict[str, dict[str, Any]]:
        """Return both request-log summaries since the last reset (and reset them).

        Each summary carries ``cpu_seconds``: that sandbox's CPU since the last ``mark``.
        """
        assert self.udemy is not None
        assert self.l360 is not None
        return {
            "udemy": self.udemy.call({"cmd": "log", "reset": reset}),
            "l360": self.l360.call({"cmd": "log", "reset": reset}),
        }
