"""The sync engine: keeps 360Learning in step with Udemy Business.

``run_courses`` syncs the catalog (courses, public learning paths, category tags) and
``run_statistics`` syncs learners' progress. Both return a ``RunReport`` and never raise for
API trouble; see docs/sync.md for what a run does.
"""

from __future__ import annotations

from udemy360.sync._run import is_unknown_learner
from udemy360.sync.courses import run_courses
from udemy360.sync.errors import ArchiveGuardTripped, RunLocked, SyncError
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import COUNT_KEYS, ProgressSink, RunReport
from udemy360.sync.statistics import run_statistics

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
