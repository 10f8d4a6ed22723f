"""Serve one sandbox on 127.0.0.1 with the benchmark's realism knobs, driven over stdin/stdout.

``python -m bench._serve udemy|l360``. The first stdin line is the configuration; the answer is
``{"base_url": ..., "credentials": ...}``. Every later line is a command (``log``, ``mutate``,
``truth``, ``quit``) answered with one JSON line. uvicorn logs go to stderr only.
"""

from __future__ import annotations

import json
import random
import re
import resource
import socket
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import uvicorn

_ID_SEGMENT = re.compile(r"^(?:[0-9a-f]{12,}|\d+|lp-\d+|[0-9a-f-]{36})$", re.IGNORECASE)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _serve(app: object) -> tuple[uvicorn.Server, int]:
    """Start uvicorn for ``app`` on a free loopback port in a daemon thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=2048,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("sandbox server did not start")
        time.sleep(0.01)
    return server, port


def _field(entry: object, name: str, default: object = None) -> object:
    if isinstance(entry, Mapping):
        return entry.get(name, default)
    return getattr(entry, name, default)


def _endpoint(method: str, path: str, strip_prefix: str) -> str:
    if strip_prefix and path.startswith(strip_prefix):
        path = path[len(strip_prefix) :]
    parts = ["{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/")]
    return f"{method} {'/'.join(parts)}"


def summarise(entries: Iterable[object], *, strip_prefix: str = "") -> dict[str, object]:
    """Count requests per endpoint and status, distinct successful pages, and bulk items sent."""
    by_endpoint: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    throttled: Counter[str] = Counter()
    items: Counter[str] = Counter()
    distinct_ok: dict[str, set[str]] = {}
    writes = 0
    for entry in entries:
        method = str(_field(entry, "method", "GET")).upper()
        path = str(_field(entry, "path", ""))
        if "/_sandbox" in path:
            continue
        status = int(_field(entry, "status", 0) or 0)  # type: ignore[call-overload]
        query = _field(entry, "query", "")
        key = _endpoint(method, path, strip_prefix)
        by_endpoint[key] += 1
        by_status[f"{key} {status}"] += 1
        if status == 429:
            throttled[key] += 1
        is_token = "token" in path
        if method in _WRITE_METHODS and not is_token:
            writes += 1
        if 200 <= status < 300:
            distinct_ok.setdefault(key, set()).add(
                json.dumps(query, sort_keys=True, default=str)
                if not isinstance(query, str)
                else query
            )
            body = _field(entry, "json", None)
            if body is None:
                body = _field(entry, "body", None)
            if method in _WRITE_METHODS and isinstance(body, list):
                items[key] += len(body)
    return {
        "requests": dict(sorted(by_endpoint.items())),
        "by_status": dict(sorted(by_status.items())),
        "throttled": dict(sorted(throttled.items())),
        "distinct_ok": {k: len(v) for k, v in sorted(distinct_ok.items())},
        "bulk_items": dict(sorted(items.items())),
        "writes": writes,
        "total": sum(by_endpoint.values()),
    }


def _cpu_seconds() -> float:
    """User + system CPU of this whole process (every thread: uvicorn serves in one)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Served:
    """Common command handling; subclasses build the sandbox and implement mutations."""

    strip_prefix = ""

    def __init__(self) -> None:
        self._log_start = 0
        self._cpu_mark = _cpu_seconds()

    def log_entries(self) -> list[object]:
        raise NotImplementedError

    def clear_log(self) -> None:
        raise NotImplementedError

    def cmd_log(self, cmd: dict[str, Any]) -> dict[str, object]:
        # the CPU this sandbox spent serving since the last reset, before summarising the log
        cpu = _cpu_seconds() - self._cpu_mark
        entries = self.log_entries()
        summary = summarise(entries, strip_prefix=self.strip_prefix)
        summary["cpu_seconds"] = round(cpu, 3)
        if cmd.get("reset", True):
            self.clear_log()
        return summary

    def mark_cpu(self) -> None:
        """Start counting this sandbox's CPU from now (after a reset's own work)."""
        self._cpu_mark = _cpu_seconds()

    def cmd_truth(self, cmd: dict[str, Any]) -> dict[str, object]:
        return {}

    def cmd_mark(self, cmd: dict[str, Any]) -> dict[str, object]:
        self.mark_cpu()
        return {"ok": True}

    def cmd_mutate(self, cmd: dict[str, Any]) -> dict[str, object]:
        raise NotImplementedError


class _Udemy(_Served):
    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        from udemy360.sandbox.udemy import UdemySandbox, UdemyTenant

        tenant = UdemyTenant(
            seed=int(cfg["seed"]),
            courses=int(cfg["courses"]),
            learning_paths=int(cfg["learning_paths"]),
            learners=int(cfg["learners"]),
            activity_rows=int(cfg["activity_rows"]),
        )
        # A log big enough for a whole step at scale 1.0 (10,000 activity pages plus 429s).
        self.sb = UdemySandbox(tenant=tenant, log_size=1_000_000)
        if cfg.get("latency"):
            self.sb.faults.latency(float(cfg["latency"]))
        if cfg.get("rps"):
            self.sb.faults.rate_limit(float(cfg["rps"]))
        self.server, port = _serve(self.sb.app)
        creds = self.sb.credentials_dict()
        self.strip_prefix = f"/api-2.0/organizations/{creds['account_id']}/"
        self.base_url = f"http://127.0.0.1:{port}{self.strip_prefix}"
        self.info = {"base_url": self.base_url, "credentials": creds, "port": port}

    def log_entries(self) -> list[object]:
        return list(self.sb.requests)

    def clear_log(self) -> None:
        self.sb.requests.clear()

    def cmd_mutate(self, cmd: dict[str, Any]) -> dict[str, object]:
        rng = random.Random(int(cmd.get("seed", 1)))
        tenant = self.sb.tenant
        ids = list(tenant.course_ids())
        changed = rng.sample(ids, max(1, round(len(ids) * float(cmd["courses_share"]))))
        for cid in changed:
            course = tenant.get_course(cid) or {}
            tenant.change_course(cid, title=f"{course.get('title', cid)} (updated)")
        advanced = self._advance(rng, float(cmd["enrollments_share"]))
        return {"courses_changed": len(changed), "enrollments_advanced": advanced}

    def cmd_truth(self, cmd: dict[str, Any]) -> dict[str, object]:
        tenant = self.sb.tenant
        return {
            "courses": tenant.course_count,
            "learning_paths": tenant.learning_path_count,
            "activity_rows": tenant.activity_count(),
        }

    def _advance(self, rng: random.Random, share: float) -> int:
        """Advance ``share`` of the enrollments that can still change (not completed, real mail)."""
        tenant = self.sb.tenant
        total = tenant.activity_count()
        target = max(1, round(total * share))
        advanced = 0
        attempts = 0
        positions = rng.sample(range(total), min(total, target * 3))
        for position in positions:
            attempts += 1
            row = tenant.activity_page(position, position + 1)[0]
            email = str(row.get("user_email") or "").strip().lower()
            ratio = float(str(row.get("completion_ratio") or 0.0))
            course_id = int(str(row["course_id"]))
            if (
                "@" not in email
                or ratio >= 100.0
                or row.get("course_completion_date")
                or course_id < 1_000_000  # a course retired long ago: nothing to send
            ):
                continue
            tenant.advance_learner(email, course_id, progress=min(99.0, ratio + 10.0), minutes=15.0)
            advanced += 1
            if advanced >= target:
                break
        return advanced


class _L360(_Served):
    strip_prefix = ""

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        from udemy360.sandbox.learning360 import Learning360Sandbox

        self.sb = Learning360Sandbox(seed=int(cfg["seed"]), learners=int(cfg["learners"]))
        # research/360learning-api.md §6: 3 concurrent bulk operations per company
        self.sb.world.max_concurrent_bulk = int(cfg.get("bulk_concurrency", 3))
        faults = self.sb.faults
        if cfg.get("latency"):
            faults.latency(float(cfg["latency"]))
        faults.rate_limit(
            reads_per_second=cfg.get("reads_per_second"),
            writes_per_second=cfg.get("writes_per_second"),
        )
        faults.bulk_delays(
            pending=float(cfg.get("bulk_pending", 0.0)),
            queued=float(cfg.get("bulk_queued", 0.0)),
            per_item=float(cfg.get("bulk_per_item", 0.0)),
        )
        self.server, port = _serve(self.sb.app)
        self.base_url = f"http://127.0.0.1:{port}"
        self.info = {
            "base_url": self.base_url,
            "credentials": {"client_id": self.sb.client_id, "client_secret": self.sb.client_secret},
            "group_id": self.sb.group_id,
            "owner_id": self.sb.owner_id,
            "port": port,
        }

        self._seen_ops: set[str] = set()

    def log_entries(self) -> list[object]:
        return list(self.sb.requests)

    def clear_log(self) -> None:
        self.sb.requests.clear()

    def cmd_log(self, cmd: dict[str, Any]) -> dict[str, object]:
        summary = super().cmd_log(cmd)
        # Bodies above 64 KB are not kept in the log; the operations know their item counts.
        items: Counter[str] = Counter()
        ops = 0
        for op_id, op in list(self.sb.world.operations.items()):
            if op_id in self._seen_ops:
                continue
            items[_OP_KIND[op.type]] += op.item_count
            ops += 1
            if cmd.get("reset", True):
                self._seen_ops.add(op_id)
        summary["bulk_items"] = dict(items)
        summary["bulk_operations"] = ops
        return summary


_OP_KIND = {
    "importExternalCourses": "courses",
    "importExternalStatistics": "stats",
    "archiveExternalCourses": "archive",
}


def main() -> int:
    """Build the sandbox named on the command line and answer commands until ``quit``."""
    kind = sys.argv[1]
    first = json.loads(sys.stdin.readline())
    served: _Served = _Udemy(first) if kind == "udemy" else _L360(first)
    print(json.dumps(served.info), flush=True)  # type: ignore[attr-defined]
    for line in sys.stdin:
        cmd = json.loads(line)
        name = cmd.get("cmd")
        if name == "quit":
            print(json.dumps({"ok": True}), flush=True)
            break
        try:
            handler = getattr(served, f"cmd_{name}")
            answer = handler(cmd)
        except Exception as exc:  # report to the driver instead of dying mid-benchmark
            traceback.print_exc(file=sys.stderr)
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer, default=str), flush=True)
    served.server.should_exit = True  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
