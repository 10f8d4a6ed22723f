"""Run one measured step in a child process and collect its wall time, CPU and peak RSS.

A fresh interpreter per step means the peak RSS (``ru_maxrss`` from ``wait4``) belongs to that
step alone, and neither the sandboxes nor the benchmark driver pollute it. Configuration,
including credentials, travels on stdin, never on the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ChildResult:
    """What a measured child process reported, plus what the OS says about it."""

    wall_seconds: float  # the whole process, start to exit
    cpu_seconds: float  # user + system of the whole process (imports included)
    peak_rss_mb: float
    output: dict[str, Any]  # the JSON object the child printed last
    returncode: int
    stderr_tail: str


def run_child(module: str, config: dict[str, Any], *, timeout: float = 6 * 3600) -> ChildResult:
    """Run ``python -m module`` with ``config`` as JSON on stdin and measure it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        text=True,
    )
    chunks: dict[str, str] = {}

    def drain(name: str, stream: IO[str]) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
        threading.Thread(target=drain, args=("err", proc.stderr), daemon=True),
    ]
    for r in readers:
        r.start()
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(config))
    proc.stdin.close()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    # wait4 gives this child's own rusage: ru_maxrss is its peak RSS, not the driver's.
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    stdout, stderr = chunks.get("out", ""), chunks.get("err", "")
    output: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                output = json.loads(line)
            except json.JSONDecodeError:
                continue
            break
    cpu = usage.ru_utime + usage.ru_stime
    rss = usage.ru_maxrss / 1024  # Linux reports KiB
    return ChildResult(
        wall_seconds=wall,
        cpu_seconds=cpu,
        peak_rss_mb=rss,
        output=output,
        returncode=proc.returncode,
        stderr_tail=stderr[-4000:],
    )


def self_usage() -> dict[str, float]:
    """Return this process's CPU seconds and peak RSS (MB); children call it before exiting."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
    }


def machine_cpu() -> tuple[float, float] | None:
    """Return (busy, total) CPU-seconds of the whole machine since boot, all cores summed.

    Read from ``/proc/stat``; ``None`` where there is none. Busy is everything but idle and
    I/O wait, whoever ran it: the connector, the sandboxes, or anything else on the machine.
    """
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    total = sum(fields[:8]) / tick
    idle = (fields[3] + fields[4]) / tick
    return total - idle, total
