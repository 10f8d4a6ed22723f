"""Process settings for the faces that run jobs (CLI, daily service, benchmark, workers).

A sync allocates many short-lived objects (a statistic is ~10 containers) on top of a large,
long-lived heap (pydantic, SQLAlchemy, httpx). With CPython's default thresholds the full
collection runs dozens of times per 100,000 rows, each walking that whole heap: measured at
~18% of a statistics run's CPU (BENCHMARKS.md). Freezing what start-up allocated and collecting
the young generation less often removes most of it, for a few MB of peak memory.
"""

from __future__ import annotations

import gc
from typing import Final

#: Young-generation allocations between collections (CPython's default is 700).
GC_THRESHOLDS: Final = (50_000, 20, 100)


def tune_gc() -> None:
    """Move every object alive now out of the collector's sight, and collect less often.

    Called by a face once its imports are done, before it runs jobs; calling it again later
    freezes what was added since (cheap). Library code never calls it: the process is the face's.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
