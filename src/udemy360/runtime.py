"""Process settings for the faces that run jobs (CLI, daily service, benchmark, workers).

A sync allocates many short-lived objects (a statistic is ~10 containers) on top of a large,
long-lived heap (pydantic, SQLAlchemy, httpx). The full collection runs dozens of times per
100,000 rows, each walking that whole heap: measured at ~18% of a statistics run's CPU
(BENCHMARKS.md). Freezing what start-up allocated takes that heap out of every collection.
The thresholds stay CPython's: raising them saved a little more CPU, but peak memory grew with
them, and the connector holds to 250 MB at scale 1.0 (BENCHMARKS.md).
"""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Move every object alive now out of the collector's sight.

    Called by a face once its imports are done, before it runs jobs; calling it again later
    freezes what was added since (cheap). Library code never calls it: the process is the face's.
    """
    gc.freeze()
