"""The measured child process: runs udemy360's sync jobs (or only its Udemy extraction).

Started by the runner with ``python -m bench._connector`` and a JSON config on stdin; prints one
JSON line with per-job reports and timings. Only the connector lives in this process — the
sandboxes are served by other processes — so its peak RSS and CPU are the connector's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from pydantic import SecretStr

from udemy360.learning360 import Learning360Client, Learning360Credentials
from udemy360.runtime import tune_gc
from udemy360.store import Store
from udemy360.sync import Clients, JobRequest, SyncOptions, as_job, run_job
from udemy360.udemy import UdemyClient, UdemyCredentials


class _Job(TypedDict, total=False):
    job: str  # "courses" or "stats"
    full: bool | None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _udemy_creds(cfg: dict[str, str]) -> UdemyCredentials:
    return UdemyCredentials(
        account_name=cfg["account_name"],
        account_id=cfg["account_id"],
        client_id=cfg["client_id"],
        client_secret=SecretStr(cfg["client_secret"]),
        base_url=cfg["base_url"],
    )


def _l360_creds(cfg: dict[str, str]) -> Learning360Credentials:
    return Learning360Credentials(
        client_id=cfg["client_id"],
        client_secret=SecretStr(cfg["client_secret"]),
        base_url=cfg["base_url"],
    )


async def _sync(config: dict[str, object]) -> list[dict[str, object]]:
    opts = dict(config["options"])  # type: ignore[call-overload]
    options = SyncOptions(**opts)
    offset = timedelta(days=float(config.get("now_offset_days", 0)))  # type: ignore[arg-type]

    def now() -> datetime:
        return datetime.now(UTC) + offset

    store = Store.open(str(config["store_url"]))
    results: list[dict[str, object]] = []
    try:
        async with (
            UdemyClient(
                _udemy_creds(config["udemy"]),  # type: ignore[arg-type]
                concurrency=int(config.get("udemy_concurrency", 4)),  # type: ignore[call-overload]
                requests_per_second=config.get("udemy_rps"),  # type: ignore[arg-type]
            ) as udemy,
            Learning360Client(_l360_creds(config["l360"])) as l360,  # type: ignore[arg-type]
        ):
            jobs: list[_Job] = config["jobs"]  # type: ignore[assignment]
            for job in jobs:
                cpu0, t0 = _cpu(), time.perf_counter()
                request = JobRequest(as_job(job["job"]), full=job.get("full"))
                report = await run_job(
                    request, store=store, clients=Clients(udemy, l360), options=options, now=now
                )
                wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
                results.append(
                    {
                        "job": job["job"],
                        "status": report.status,
                        "full": report.full,
                        "wall_seconds": wall,
                        "cpu_seconds": cpu,
                        "counts": dict(report.counts),
                        "calls": dict(report.calls),
                        "errors": list(report.errors[:5]),
                        "error_count": len(report.errors),
                    }
                )
    finally:
        store.close()
    return results


async def _extract(config: dict[str, object]) -> list[dict[str, object]]:
    """Read courses and user-course activity only: the same work the dlt peer does."""
    results: list[dict[str, object]] = []
    async with UdemyClient(
        _udemy_creds(config["udemy"]),  # type: ignore[arg-type]
        concurrency=int(config.get("udemy_concurrency", 4)),  # type: ignore[call-overload]
        requests_per_second=config.get("udemy_rps"),  # type: ignore[arg-type]
    ) as udemy:
        cpu0, t0 = _cpu(), time.perf_counter()
        courses = activity = 0
        async for page in udemy.iter_course_pages():
            courses += len(page.items)
        async for apage in udemy.iter_activity_pages():
            activity += len(apage.items)
        results.append(
            {
                "job": "extract",
                "status": "succeeded",
                "wall_seconds": time.perf_counter() - t0,
                "cpu_seconds": _cpu() - cpu0,
                "counts": {"courses": courses, "activity": activity},
                "calls": dict(udemy.call_counts),
            }
        )
    return results


def main() -> int:
    """Run the jobs described by the JSON config on stdin; print one JSON line."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    config = json.load(sys.stdin)
    cpu0, t0 = _cpu(), time.perf_counter()
    runner = _extract if config.get("mode") == "extract" else _sync
    tune_gc()  # as the CLI and the service do before running jobs
    jobs = asyncio.run(runner(config))
    out = {
        "jobs": jobs,
        "wall_seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu() - cpu0,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
