"""The sync engine: keeps 360Learning in step with Udemy Business.

``run_job`` is its one entry point: the catalog job ("courses": courses, public learning paths,
category tags) or the statistics job ("stats": learners' progress) of one connection. It
returns a ``RunReport`` and never raises for API trouble; see docs/sync.md for what a run does.
"""

from __future__ import annotations

from udemy360.sync.context import LOCK_TTL, Clients
from udemy360.sync.errors import ArchiveGuardTripped, RunLocked, SyncError
from udemy360.sync.job import JobRequest, run_job
from udemy360.sync.options import SyncOptions
from udemy360.sync.report import COUNT_KEYS, JOBS, Job, ProgressSink, RunReport, as_job
from udemy360.sync.statistics import NOT_SENT_STATUSES

__all__ = [
    "COUNT_KEYS",
    "JOBS",
    "LOCK_TTL",
    "NOT_SENT_STATUSES",
    "ArchiveGuardTripped",
    "Clients",
    "Job",
    "JobRequest",
    "ProgressSink",
    "RunLocked",
    "RunReport",
    "SyncError",
    "SyncOptions",
    "as_job",
    "run_job",
]
