"""``python -m bench.micro``: the pure mapping's CPU per record, without HTTP, store or sandboxes.

Rows and courses come from the Udemy sandbox's generated tenant (the same records the benchmark
serves), parsed once into the client's models; only the mapping is timed. Each figure is the
median of ``--repeat`` passes over the same records, in microseconds per record, so two commits
can be compared on a busy machine. ``--rows N --repeat 1 --quiet`` makes a fixed amount of work
for an instruction counter (e.g. ``valgrind --tool=callgrind``): run it twice with different
``N`` and divide the difference in instructions by the difference in rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from udemy360.mapping import MappingContext, map_activity, map_course, payload_hash
from udemy360.mapping.statistics import MappedStatistic
from udemy360.sandbox.udemy import UdemyTenant
from udemy360.udemy import UdemyCourse, UdemyCourseActivity


def _rows(n: int, seed: int) -> list[UdemyCourseActivity]:
    tenant = UdemyTenant(seed=seed, courses=3_000, learners=10_000, activity_rows=max(n, 1))
    return [UdemyCourseActivity.model_validate(r) for r in tenant.activity_page(0, n)]


def _courses(n: int, seed: int) -> list[UdemyCourse]:
    tenant = UdemyTenant(seed=seed, courses=max(n, 1), learning_paths=1)
    return [UdemyCourse.model_validate(r) for r in tenant.course_page(0, n)]


def _median_us(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Return the median microseconds per record of ``fn`` (which returns its record count)."""
    times: list[float] = []
    count = 0
    for _ in range(repeat):
        t0 = time.process_time()
        count = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times) * 1e6 / max(count, 1), count


STAGES = ("map_activity", "payload_hash", "map_course")


def run(
    rows: int, courses: int, repeat: int, seed: int, stages: Sequence[str] = STAGES
) -> dict[str, float]:
    """Time each of ``stages``; return microseconds per record by stage name.

    With no stage, the records are built and parsed but nothing is mapped: the baseline an
    instruction count subtracts.
    """
    activity = _rows(rows, seed)
    catalog = _courses(courses, seed)
    ctx = MappingContext(account_name="acme", owner_lang="en", tags_enabled=True)
    mapped: list[MappedStatistic] = []

    def stats() -> int:
        mapped.clear()
        for r in activity:
            m = map_activity(r, course_lang="en")
            if isinstance(m, MappedStatistic):
                mapped.append(m)
        return len(activity)

    def hashes() -> int:
        for m in mapped:
            payload_hash(m.statistic)
        return len(mapped)

    def course_map() -> int:
        for c in catalog:
            map_course(c, ctx)
        return len(catalog)

    out: dict[str, float] = {}
    if rows and "map_activity" in stages:
        out["map_activity"], _ = _median_us(stats, repeat)
    if rows and "payload_hash" in stages:
        if not mapped:
            stats()
        out["payload_hash(statistic)"], _ = _median_us(hashes, repeat)
    if courses and "map_course" in stages:
        out["map_course"], _ = _median_us(course_map, repeat)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, time the mapping, print one line per stage."""
    p = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__)
    p.add_argument("--rows", type=int, default=20_000, help="activity rows to map")
    p.add_argument("--courses", type=int, default=2_000, help="courses to map")
    p.add_argument("--repeat", type=int, default=7, help="passes; the median is reported")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true", help="print nothing (instruction counting)")
    p.add_argument(
        "--stage",
        action="append",
        choices=[*STAGES, "none"],
        help="time only this stage (repeatable); 'none' only builds and parses the records",
    )
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    stages = STAGES if not a.stage else tuple(a.stage)
    results = run(a.rows, a.courses, a.repeat, a.seed, stages)
    if not a.quiet:
        for name, us in results.items():
            print(f"{name:<26} {us:8.1f} µs per record  ({1e6 / us:,.0f} per CPU-second)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
