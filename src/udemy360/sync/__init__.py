"""The sync engine: keeps 360Learning in step with Udemy Business.

``run_courses`` syncs the catalog (courses, public learning paths, category tags) and
``run_statistics`` syncs learners' progress. Both return a ``RunReport`` and never raise for
API trouble; see docs/sync.md for what a run does.
"""

from __future__ import annotations

from udemy360.sync.engine import is_unknown_learner, run_courses, run_statistics
from udemy360.sync.errors import ArchiveGuardTripped, RunLocked, SyncError
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import COUNT_KEYS, ProgressSink, RunReport

__all__ = [
    "COUNT_KEYS",
    "ArchiveGuardTripped",
    "ProgressSink",
    "RunLocked",
    "RunReport",
    "SyncError",
    "SyncOptions",
    "is_unknown_learner",
    "run_courses",
    "run_statistics",
]
