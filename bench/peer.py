"""The peer: the same Udemy extraction done with dlt's ``rest_api`` source, as an engineer would.

Runs in its own process (``python -m bench.peer``) so its memory and CPU are measured like the
connector's. dlt is a benchmark-only extra. The configuration is the plain one a newcomer would
write: HTTP Basic auth, a JSON-link paginator on ``next``, records under ``results``,
``page_size=100``, loaded into a local filesystem destination as JSONL (no network, nothing to
install beyond ``dlt``). dlt fetches pages one after another.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _configure_dlt(workdir: Path) -> None:
    # Keep dlt's state, telemetry and buffers inside the work directory: nothing is read from or
    # written to the user's home, and nothing leaves the machine.
    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    os.environ["DLT_PROJECT_DIR"] = str(workdir)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    # dlt retries 429 honouring Retry-After by default; allow as many attempts as our client has.
    os.environ["RUNTIME__REQUEST_MAX_ATTEMPTS"] = "10"


def run_peer(base_url: str, client_id: str, client_secret: str, workdir: Path) -> dict[str, object]:
    """Extract courses and user-course activity with dlt and return counts and timings."""
    _configure_dlt(workdir)
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": base_url,
                "auth": {"type": "http_basic", "username": client_id, "password": client_secret},
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            "resource_defaults": {
                "write_disposition": "replace",
                "endpoint": {"data_selector": "results", "params": {"page_size": 100}},
            },
            "resources": [
                {"name": "courses", "endpoint": {"path": "courses/list/"}},
                {
                    "name": "user_course_activity",
                    "endpoint": {"path": "analytics/user-course-activity/"},
                },
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="udemy_peer",
        destination=dlt.destinations.filesystem(bucket_url=(workdir / "out").as_uri()),
        dataset_name="udemy",
        pipelines_dir=str(workdir / "pipelines"),
    )
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    info = pipeline.run(source, loader_file_format="jsonl")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    rows: dict[str, int] = {}
    trace = pipeline.last_trace
    if trace is not None and trace.last_normalize_info is not None:
        rows = {
            k: int(v)
            for k, v in trace.last_normalize_info.row_counts.items()
            if not k.startswith("_dlt")
        }
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "rows": rows,
        "has_failed_jobs": bool(info.has_failed_jobs),
    }


def main() -> int:
    """Entry point of the peer child process: config as JSON on stdin, one JSON line out."""
    config = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="udemy360-peer-") as tmp:
        result = run_peer(
            str(config["base_url"]),
            str(config["client_id"]),
            str(config["client_secret"]),
            Path(tmp),
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
