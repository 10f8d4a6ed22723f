"""``python -m bench``: run the benchmark at one scale and update the results and BENCHMARKS.md."""

from __future__ import annotations

import argparse
import shlex
import sys

from bench.bound import Limits
from bench.report import update_benchmarks_md
from bench.runner import merge_results, run, say, write_results
from bench.settings import BenchSettings

PHASES = ("scenarios", "peer", "tags", "cpu")


def _parser() -> argparse.ArgumentParser:
    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark udemy360 against both sandboxes served on loopback.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--scale", type=float, default=0.1, help="1.0 = 30k courses, 1M activity rows")
    p.add_argument("--udemy-latency", type=float, default=d.udemy_latency, help="s per page")
    p.add_argument("--udemy-rps", type=float, default=d.udemy_rps, help="Udemy budget, req/s")
    p.add_argument("--l360-latency", type=float, default=d.l360_latency, help="s per call")
    p.add_argument("--l360-reads", type=float, default=d.l360_reads_per_second, help="GET/s")
    p.add_argument("--l360-writes", type=float, default=d.l360_writes_per_second, help="writes/s")
    p.add_argument(
        "--bulk-concurrency",
        type=int,
        default=d.bulk_concurrency,
        help="concurrent bulk operations the 360Learning sandbox allows",
    )
    p.add_argument("--bulk-pending", type=float, default=d.bulk_pending, help="s pending")
    p.add_argument("--bulk-queued", type=float, default=d.bulk_queued, help="s queued")
    p.add_argument("--bulk-per-item", type=float, default=d.bulk_per_item, help="s per item")
    p.add_argument("--concurrency", type=int, default=4, help="udemy360's Udemy concurrency")
    p.add_argument(
        "--client-rps",
        type=float,
        default=None,
        help="udemy360's own Udemy request budget (default: none, rely on 429)",
    )
    p.add_argument("--no-learning-paths", action="store_true", help="sync courses only")
    p.add_argument("--tags", action="store_true", help="turn tag sync on")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-peer", action="store_true", help="skip the dlt comparison")
    p.add_argument(
        "--peer-scale",
        type=float,
        default=None,
        help="tenant scale of the dlt comparison (default: the main scale)",
    )
    p.add_argument("--skip-cpu", action="store_true", help="skip the CPU-per-record runs")
    p.add_argument("--skip-tags", action="store_true", help="skip the tag-sync scenario")
    p.add_argument(
        "--tags-scale",
        type=float,
        default=None,
        help="tenant scale of the tag-sync scenario (default: the main scale)",
    )
    p.add_argument(
        "--cpu-repeat", type=int, default=1, help="CPU-cost runs; the median is reported"
    )
    p.add_argument(
        "--only",
        action="append",
        choices=PHASES,
        help="run only this phase (repeatable); the results file keeps the other sections",
    )
    p.add_argument(
        "--cpu-cost",
        action="store_true",
        help="run only the CPU-cost phase (no latency, no limits): same as --only cpu",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run, write ``bench/results/scale-<scale>.json`` and BENCHMARKS.md."""
    argv = sys.argv[1:] if argv is None else argv
    a = _parser().parse_args(argv)
    settings = BenchSettings(
        scale=a.scale,
        limits=Limits(
            udemy_latency=a.udemy_latency,
            udemy_rps=a.udemy_rps,
            l360_latency=a.l360_latency,
            l360_reads_per_second=a.l360_reads,
            l360_writes_per_second=a.l360_writes,
            bulk_concurrency=a.bulk_concurrency,
            bulk_pending=a.bulk_pending,
            bulk_queued=a.bulk_queued,
            bulk_per_item=a.bulk_per_item,
        ),
        udemy_concurrency=a.concurrency,
        udemy_client_rps=a.client_rps,
        learning_paths=not a.no_learning_paths,
        tags=a.tags,
        seed=a.seed,
        peer_scale=a.peer_scale,
        tags_scale=a.tags_scale,
    )
    say(f"settings: {settings.to_dict()}")
    command = shlex.join(["python", "-m", "bench", *argv])
    only = set(a.only or ()) | ({"cpu"} if a.cpu_cost else set())
    phases = only or {
        "scenarios",
        *(() if a.skip_peer else ("peer",)),
        *(() if a.skip_tags else ("tags",)),
        *(() if a.skip_cpu else ("cpu",)),
    }
    results = run(
        settings,
        command=command,
        scenarios="scenarios" in phases,
        peer="peer" in phases,
        tags="tags" in phases,
        cpu="cpu" in phases,
        cpu_repeat=a.cpu_repeat,
    )
    path = write_results(merge_results(results, settings.scale), settings.scale)
    update_benchmarks_md()
    say(f"results written to {path} and BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
