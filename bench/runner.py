"""The benchmark driver: scenarios, bound, CPU cost per record, the dlt peer, and the results.

Every measured step runs in its own child process (``bench.measure.run_child``) against both
sandboxes served on loopback by their own processes (``bench.sandboxes``). The driver itself only
sets things up, reads the sandboxes' request logs between steps, computes the bound and writes
``bench/results/scale-<scale>.json`` and the tables in ``BENCHMARKS.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.bound import ARCHIVE_BATCH, BulkWork, Workload, compute_bound, efficiency
from bench.measure import ChildResult, machine_cpu, run_child
from bench.sandboxes import SandboxPair
from bench.settings import BenchSettings

Json = dict[str, Any]  # a JSON document as parsed
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CONNECTION_ID = "bench"
PLATFORM_NAME = "Udemy"


@dataclass(frozen=True, slots=True)
class Step:
    """One job of a scenario, run in its own process."""

    job: str  # "courses" or "stats"
    full: bool | None = None
    now_offset_days: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named sequence of steps; ``mutate`` changes the tenant before the first step."""

    name: str
    title: str
    steps: tuple[Step, ...]
    mutate: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("initial-catalog", "Initial catalog sync", (Step("courses"),)),
    Scenario("initial-stats", "Initial statistics sync", (Step("stats", full=True),)),
    Scenario(
        "daily-nochange",
        "Daily run, nothing changed",
        (Step("courses", now_offset_days=1), Step("stats", now_offset_days=1)),
    ),
    Scenario(
        "daily-change",
        "Daily run, 1% of courses and 5% of enrollments changed",
        (Step("courses", now_offset_days=2), Step("stats", now_offset_days=2)),
        mutate=True,
    ),
)


@dataclass
class Context:
    """What every connector child needs to reach the sandboxes and the store."""

    settings: BenchSettings
    pair: SandboxPair
    store_url: str
    integration_id: str = ""
    owner_id: str = ""
    log: list[str] = field(default_factory=list)

    def child_config(self, step: Step, *, mode: str = "sync") -> Json:
        """Return the JSON config for one connector child process."""
        assert self.pair.udemy is not None
        assert self.pair.l360 is not None
        u, lc = self.pair.udemy.info, self.pair.l360.info
        ucreds = dict(u["credentials"])
        return {
            "mode": mode,
            "store_url": self.store_url,
            "udemy": {**ucreds, "base_url": u["base_url"]},
            "l360": {**dict(lc["credentials"]), "base_url": lc["base_url"]},
            "options": {
                "connection_id": CONNECTION_ID,
                "integration_id": self.integration_id,
                "owner_id": self.owner_id,
                "account_name": ucreds["account_name"],
                "tags_enabled": self.settings.tags,
                "learning_paths_enabled": self.settings.learning_paths,
            },
            "jobs": [{"job": step.job, "full": step.full}],
            "now_offset_days": step.now_offset_days,
            "udemy_concurrency": self.settings.udemy_concurrency,
            "udemy_rps": self.settings.udemy_client_rps,
        }


def say(msg: str) -> None:
    """Print a progress line (stderr, so stdout stays clean)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def _setup_integration(ctx: Context) -> None:
    """Create the integration in the 360Learning sandbox and the connection in the store."""
    from pydantic import SecretStr

    from udemy360.learning360 import (
        IntegrationSettings,
        Learning360Client,
        Learning360Credentials,
    )
    from udemy360.store import Store

    assert ctx.pair.l360 is not None
    assert ctx.pair.udemy is not None
    info = ctx.pair.l360.info
    creds = dict(info["credentials"])
    ctx.owner_id = str(info["owner_id"])
    async with Learning360Client(
        Learning360Credentials(
            client_id=creds["client_id"],
            client_secret=SecretStr(creds["client_secret"]),
            base_url=str(info["base_url"]),
        )
    ) as client:
        integration = await client.create_integration(
            IntegrationSettings(
                external_platform=PLATFORM_NAME,
                group_id=str(info["group_id"]),
                author_id=ctx.owner_id,
                default_completion=True,
                default_progress=0,
                no_group_propagation=False,
            )
        )
    ctx.integration_id = integration.id
    store = Store.open(ctx.store_url)
    try:
        ucreds = dict(ctx.pair.udemy.info["credentials"])
        store.connections.ensure(
            CONNECTION_ID, udemy_account=ucreds["account_name"], group_id=str(info["group_id"])
        )
        store.connections.set_integration(CONNECTION_ID, ctx.integration_id)
    finally:
        store.close()


def _udemy_pages(udemy_log: Json) -> int:
    """Return the distinct listing pages served with 2xx (what the sync needed to read)."""
    distinct = udemy_log.get("distinct_ok", {})
    assert isinstance(distinct, dict)
    return sum(int(v) for k, v in distinct.items() if k.startswith("GET "))


def _ok_calls(log: Json, endpoint: str) -> int:
    """Return the calls to ``endpoint`` (``"PUT /api/v2/courses/{id}/tags"``) answered 2xx."""
    by_status = log.get("by_status", {})
    assert isinstance(by_status, dict)
    total = 0
    for key, n in by_status.items():
        head, _, status = str(key).rpartition(" ")
        if head == endpoint and status.isdigit() and 200 <= int(status) < 300:
            total += int(n)
    return total


TAG_CREATE = "POST /api/v2/tags"
TAG_PUT = "PUT /api/v2/courses/{id}/tags"
TAG_READ = "GET /api/v2/courses/{id}/tags"


def _sent_items(l360_log: Json) -> dict[str, int]:
    """Return the items sent per bulk kind, from the bodies the 360Learning sandbox received."""
    items = l360_log.get("bulk_items", {})
    assert isinstance(items, dict)
    return {kind: int(items.get(kind, 0)) for kind in ("courses", "stats", "archive")}


def _workload(
    step: Step,
    logs: dict[str, Json],
    expected: dict[str, int] | None,
) -> tuple[Workload, dict[str, int]]:
    """Derive the work the step needed from what the sandboxes saw (capped by the real change)."""
    sent = _sent_items(logs["l360"])
    tag_puts = _ok_calls(logs["l360"], TAG_PUT)
    tag_reads = _ok_calls(logs["l360"], TAG_READ)
    needed = dict(sent)
    if expected is not None:
        # A daily run needs to send only what changed; extra items are the connector's cost.
        for kind in needed:
            needed[kind] = min(sent[kind], expected.get(kind, 0))
        tag_puts = min(tag_puts, expected.get("courses", 0))
        tag_reads = min(tag_reads, expected.get("courses", 0))
    work = Workload(
        udemy_pages=_udemy_pages(logs["udemy"]),
        bulk=(
            BulkWork("courses", needed["courses"]),
            BulkWork("stats", needed["stats"]),
        ),
        after_listing=(BulkWork("archive", needed["archive"], ARCHIVE_BATCH),),
        l360_reads_at_start=1 if step.job == "courses" else 0,
        tag_creates=_ok_calls(logs["l360"], TAG_CREATE),
        tag_puts=tag_puts,
        tag_reads=tag_reads,
    )
    return work, needed


def _job_output(result: ChildResult) -> Json:
    jobs = result.output.get("jobs")
    if result.returncode != 0 or not isinstance(jobs, list) or not jobs:
        raise RuntimeError(
            f"connector child failed (exit {result.returncode}):\n{result.stderr_tail}"
        )
    job = jobs[0]
    assert isinstance(job, dict)
    return job


@dataclass(frozen=True, slots=True)
class Measured:
    """One connector step as measured: the child, its job report, both sandboxes' logs, load."""

    result: ChildResult
    job: Json
    logs: dict[str, Json]
    load: Json


def measure_step(ctx: Context, step: Step) -> Measured:
    """Run one connector step in its own process; collect its logs and the machine's load.

    Both sandboxes count their CPU from just before the child starts until its logs are read,
    and the whole machine's busy CPU is read around the child, so the report can say when the
    sandboxes or the rest of the machine, not the connector, set the pace.
    """
    ctx.pair.mark()
    before = machine_cpu()
    result = run_child("bench._connector", ctx.child_config(step))
    after = machine_cpu()
    job = _job_output(result)
    logs = ctx.pair.logs(reset=True)
    return Measured(result, job, logs, _load(result, logs, before, after))


def _load(
    result: ChildResult,
    logs: dict[str, Json],
    before: tuple[float, float] | None,
    after: tuple[float, float] | None,
) -> Json:
    """CPU-seconds of the connector process, each sandbox, and the machine, over one step."""
    udemy = float(logs["udemy"].get("cpu_seconds", 0.0))
    l360 = float(logs["l360"].get("cpu_seconds", 0.0))
    out: Json = {
        "connector_cpu_seconds": result.cpu_seconds,
        "udemy_sandbox_cpu_seconds": udemy,
        "l360_sandbox_cpu_seconds": l360,
        "cores": os.cpu_count(),
    }
    if before is not None and after is not None:
        busy, capacity = after[0] - before[0], after[1] - before[1]
        out["machine_busy_cpu_seconds"] = busy
        out["machine_capacity_cpu_seconds"] = capacity
        out["machine_busy_share"] = busy / capacity if capacity > 0 else 0.0
        # the driver, and anything else running on the machine at the time
        out["other_cpu_seconds"] = max(0.0, busy - result.cpu_seconds - udemy - l360)
    return out


def run_scenarios(ctx: Context) -> list[Json]:
    """Run every scenario in order against one store and one pair of sandboxes."""
    out: list[Json] = []
    pair = ctx.pair
    for scenario in SCENARIOS:
        say(f"scenario {scenario.name}")
        pair.logs(reset=True)
        expected: dict[str, int] | None = None
        mutation: Json = {}
        if scenario.mutate:
            assert pair.udemy is not None
            mutation = pair.udemy.call(
                {
                    "cmd": "mutate",
                    "courses_share": ctx.settings.changed_course_share,
                    "enrollments_share": ctx.settings.advanced_enrollment_share,
                    "seed": ctx.settings.seed,
                }
            )
            pair.logs(reset=True)
        steps: list[Json] = []
        for step in scenario.steps:
            if scenario.mutate:
                expected = (
                    {"courses": int(mutation.get("courses_changed", 0))}
                    if step.job == "courses"
                    else {"stats": int(mutation.get("enrollments_advanced", 0))}
                )
            elif scenario.name == "daily-nochange":
                expected = {}
            measured = measure_step(ctx, step)
            result, job, logs = measured.result, measured.job, measured.logs
            work, needed = _workload(step, logs, expected)
            bound = compute_bound(work, ctx.settings.limits)
            wall = float(job["wall_seconds"])
            steps.append(
                {
                    "job": step.job,
                    "status": job["status"],
                    "full": job.get("full"),
                    "wall_seconds": wall,
                    "process_wall_seconds": result.wall_seconds,
                    "cpu_seconds": job["cpu_seconds"],
                    "process_cpu_seconds": result.cpu_seconds,
                    "peak_rss_mb": result.peak_rss_mb,
                    "counts": job["counts"],
                    "client_calls": job["calls"],
                    "errors": job.get("errors", []),
                    "server": logs,
                    "needed_items": needed,
                    "expected_change": expected,
                    "bound": asdict(bound),
                    "workload": asdict(work),
                    "efficiency": efficiency(bound.seconds, wall),
                    "load": measured.load,
                }
            )
            say(
                f"  {step.job}: {wall:.1f}s (bound {bound.seconds:.1f}s, "
                f"eff {efficiency(bound.seconds, wall):.2f}), rss {result.peak_rss_mb:.0f} MB, "
                f"status {job['status']}; {_describe_load(measured.load)}"
            )
        out.append(
            {
                "name": scenario.name,
                "title": scenario.title,
                "mutation": mutation,
                "steps": steps,
                "wall_seconds": sum(float(s["wall_seconds"]) for s in steps),
                "bound_seconds": sum(float(s["bound"]["seconds"]) for s in steps),
                "peak_rss_mb": max(float(s["peak_rss_mb"]) for s in steps),
                "cpu_seconds": sum(float(s["cpu_seconds"]) for s in steps),
                "l360_writes": sum(int(s["server"]["l360"]["writes"]) for s in steps),
            }
        )
        sc = out[-1]
        sc["efficiency"] = efficiency(float(sc["bound_seconds"]), float(sc["wall_seconds"]))
    return out


def _describe_load(load: Json) -> str:
    share = load.get("machine_busy_share")
    machine = f", machine {100 * float(share):.0f}% busy" if share is not None else ""
    return (
        f"CPU s: connector {float(load['connector_cpu_seconds']):.1f}, "
        f"Udemy sandbox {float(load['udemy_sandbox_cpu_seconds']):.1f}, "
        f"360 sandbox {float(load['l360_sandbox_cpu_seconds']):.1f}{machine}"
    )


def run_cpu(settings: BenchSettings, workdir: Path, *, repeat: int = 1) -> Json:
    """Measure records per CPU-second with latency, rate limits and bulk delays switched off.

    Each repetition is an initial catalog then an initial statistics sync in a fresh store
    against fresh sandboxes; the figures kept are the medians over repetitions (every run is
    kept too, under ``runs``).
    """
    say(f"cpu cost per record (no latency, no limits), {repeat} run(s)")
    runs: dict[str, list[Json]] = {"courses": [], "stats": []}
    for n in range(repeat):
        with SandboxPair(settings, realism=False) as pair:
            ctx = Context(settings, pair, f"sqlite:///{workdir / f'cpu-{n}.db'}")
            asyncio.run(_setup_integration(ctx))
            pair.logs(reset=True)
            for step in (Step("courses"), Step("stats", full=True)):
                measured = measure_step(ctx, step)
                job = measured.job
                counts = job["counts"]
                assert isinstance(counts, dict)
                records = int(counts.get("fetched", 0))
                cpu = float(job["cpu_seconds"])
                runs[step.job].append(
                    {
                        "records": records,
                        "cpu_seconds": cpu,
                        "wall_seconds": job["wall_seconds"],
                        "records_per_cpu_second": records / cpu if cpu else 0.0,
                        "peak_rss_mb": measured.result.peak_rss_mb,
                        "status": job["status"],
                        "load": measured.load,
                    }
                )
                say(
                    f"  {step.job}: {records} records, {cpu:.2f} CPU s "
                    f"({records / cpu if cpu else 0:,.0f} per CPU-second); "
                    f"{_describe_load(measured.load)}"
                )
    out: Json = {"repeat": repeat}
    for job_name, done in runs.items():
        middle = sorted(done, key=lambda r: float(r["records_per_cpu_second"]))[len(done) // 2]
        out[job_name] = {**middle, "runs": done}
    return out


def run_peer(ctx: Context) -> Json:
    """Time dlt's rest_api extraction and our own extraction on the same Udemy sandbox."""
    assert ctx.pair.udemy is not None
    u = ctx.pair.udemy.info
    creds = dict(u["credentials"])
    out: Json = {}
    runs: list[tuple[str, str, int]] = [
        ("udemy360", "extract", ctx.settings.udemy_concurrency),
        ("udemy360-c1", "extract", 1),
        ("dlt", "peer", 1),
    ]
    for name, mode, concurrency in runs:
        say(f"peer run {name}")
        ctx.pair.logs(reset=True)
        if mode == "peer":
            result = run_child(
                "bench.peer",
                {
                    "base_url": u["base_url"],
                    "client_id": creds["client_id"],
                    "client_secret": creds["client_secret"],
                },
            )
            if result.returncode != 0:
                raise RuntimeError(f"dlt peer failed:\n{result.stderr_tail}")
            wall = float(result.output["wall_seconds"])
            cpu = float(result.output["cpu_seconds"])
            rows = result.output.get("rows", {})
        else:
            cfg = ctx.child_config(Step("extract"), mode="extract")
            cfg["udemy_concurrency"] = concurrency
            result = run_child("bench._connector", cfg)
            job = _job_output(result)
            wall = float(job["wall_seconds"])
            cpu = float(job["cpu_seconds"])
            rows = job["counts"]
        logs = ctx.pair.logs(reset=True)
        out[name] = {
            "concurrency": concurrency,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "peak_rss_mb": result.peak_rss_mb,
            "rows": rows,
            "udemy_requests": logs["udemy"]["requests"],
            "udemy_throttled": logs["udemy"]["throttled"],
        }
        say(f"  {name}: {wall:.1f}s, rss {result.peak_rss_mb:.0f} MB")
    dlt_wall = float(out["dlt"]["wall_seconds"])
    out["ratio_default"] = dlt_wall / float(out["udemy360"]["wall_seconds"])
    out["ratio_c1"] = dlt_wall / float(out["udemy360-c1"]["wall_seconds"])
    return out


def machine() -> Json:
    """Describe the machine the numbers come from."""
    mem_gb = 0.0
    try:
        import psutil  # type: ignore[import-untyped]

        mem_gb = psutil.virtual_memory().total / 2**30
    except ImportError:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def run_tags(settings: BenchSettings, workdir: Path) -> Json:
    """Initial catalog sync with tag sync on, in a fresh store against a fresh platform.

    Every course brings its categories as tags: the tags are created once and each course's
    tags are set with one call, all within the same write budget as the bulk submits, so the
    bound counts them (``bench.bound``).
    """
    tag_settings = replace(settings, scale=settings.tags_scale or settings.scale, tags=True)
    say(f"tag sync on, scale {tag_settings.scale}: tenant {asdict(tag_settings.tenant)}")
    step = Step("courses")
    with SandboxPair(tag_settings, realism=True) as pair:
        ctx = Context(tag_settings, pair, f"sqlite:///{workdir / 'tags.db'}")
        asyncio.run(_setup_integration(ctx))
        pair.logs(reset=True)
        measured = measure_step(ctx, step)
    result, job = measured.result, measured.job
    work, needed = _workload(step, measured.logs, None)
    bound = compute_bound(work, tag_settings.limits)
    wall = float(job["wall_seconds"])
    eff = efficiency(bound.seconds, wall)
    say(
        f"  courses with tags: {wall:.1f}s (bound {bound.seconds:.1f}s, eff {eff:.2f}, "
        f"{bound.tag_writes} tag writes), status {job['status']}; "
        f"{_describe_load(measured.load)}"
    )
    return {
        "name": "initial-catalog-tags",
        "title": "Initial catalog sync, tag sync on",
        "scale": tag_settings.scale,
        "tenant": asdict(tag_settings.tenant),
        "steps": [
            {
                "job": step.job,
                "status": job["status"],
                "full": job.get("full"),
                "wall_seconds": wall,
                "process_wall_seconds": result.wall_seconds,
                "cpu_seconds": job["cpu_seconds"],
                "process_cpu_seconds": result.cpu_seconds,
                "peak_rss_mb": result.peak_rss_mb,
                "counts": job["counts"],
                "client_calls": job["calls"],
                "errors": job.get("errors", []),
                "server": measured.logs,
                "needed_items": needed,
                "expected_change": None,
                "bound": asdict(bound),
                "workload": asdict(work),
                "efficiency": eff,
                "load": measured.load,
            }
        ],
        "wall_seconds": wall,
        "bound_seconds": bound.seconds,
        "peak_rss_mb": result.peak_rss_mb,
        "cpu_seconds": float(job["cpu_seconds"]),
        "l360_writes": int(measured.logs["l360"]["writes"]),
        "efficiency": eff,
    }


def run(
    settings: BenchSettings,
    *,
    command: str,
    scenarios: bool = True,
    peer: bool = True,
    tags: bool = True,
    cpu: bool = True,
    cpu_repeat: int = 1,
) -> Json:
    """Run the chosen phases of the benchmark for one scale and return the results document.

    Each phase's section records the date and command that produced it, so a results file
    can be refreshed one phase at a time (``merge_results``).
    """
    started = datetime.now(UTC)
    say(f"scale {settings.scale}: tenant {asdict(settings.tenant)}")
    stamp = {"date": started.isoformat(timespec="seconds"), "command": command}
    with tempfile.TemporaryDirectory(prefix="udemy360-bench-") as tmp:
        workdir = Path(tmp)
        results: Json = {
            **stamp,
            "settings": settings.to_dict(),
            "machine": machine(),
        }
        if scenarios or (peer and settings.peer_scale in (None, settings.scale)):
            with SandboxPair(settings, realism=True) as pair:
                ctx = Context(settings, pair, f"sqlite:///{workdir / 'store.db'}")
                asyncio.run(_setup_integration(ctx))
                pair.logs(reset=True)
                assert pair.udemy is not None
                results["truth"] = pair.udemy.call({"cmd": "truth"})
                if scenarios:
                    results["scenarios"] = run_scenarios(ctx)
                if peer and settings.peer_scale in (None, settings.scale):
                    results["peer"] = {**run_peer(ctx), **stamp}
        if peer and settings.peer_scale not in (None, settings.scale):
            peer_settings = replace(settings, scale=settings.peer_scale)
            say(f"peer at scale {peer_settings.scale}: tenant {asdict(peer_settings.tenant)}")
            with SandboxPair(peer_settings, realism=True) as peer_pair:
                peer_ctx = Context(peer_settings, peer_pair, f"sqlite:///{workdir / 'peer.db'}")
                results["peer"] = run_peer(peer_ctx)
                results["peer"]["scale"] = peer_settings.scale
                results["peer"]["tenant"] = asdict(peer_settings.tenant)
                results["peer"].update(stamp)
        if tags:
            results["tags"] = {**run_tags(settings, workdir), **stamp}
        if cpu:
            results["cpu"] = {**run_cpu(settings, workdir, repeat=cpu_repeat), **stamp}
    results["duration_seconds"] = (datetime.now(UTC) - started).total_seconds()
    if not scenarios:
        results["partial"] = True
    return results


def merge_results(results: Json, scale: float) -> Json:
    """Return this run's results laid over the scale's existing results document.

    A phase that was run replaces its section; a phase that was not (``--skip-peer``,
    ``--only cpu``) keeps the earlier run's section, which says which command and date
    produced it. A run without the scenarios keeps the earlier scenarios, date and command.
    """
    path = RESULTS_DIR / f"scale-{scale:g}.json"
    if not path.exists():
        return results
    earlier: Json = json.loads(path.read_text())
    stamp = {"date": earlier.get("date"), "command": earlier.get("command")}
    base = earlier if results.get("partial") else results
    merged: Json = dict(base)
    merged.pop("partial", None)
    for key in ("peer", "tags", "cpu"):
        if key in results:
            merged[key] = results[key]
        elif key in earlier:
            merged[key] = {**stamp, **earlier[key]}
    return merged


def write_results(results: Json, scale: float) -> Path:
    """Write the results document as ``bench/results/scale-<scale>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"scale-{scale:g}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path
