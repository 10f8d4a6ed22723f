"""Per-connection options of a sync run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to sync for one connection, and the engine's safety and batching knobs.

    Options that change mapped output (tags, learning paths, the owner's language) are part of
    each item's payload hash, so changing one re-sends exactly the items it affects.
    """

    connection_id: str
    integration_id: str
    owner_id: str
    account_name: str
    tags_enabled: bool = False
    learning_paths_enabled: bool = False
    launch_hosts: frozenset[str] = frozenset()
    """Hosts a launch URL may be on besides the account's and udemy.com (the base URL's)."""
    max_archive_share: float = 0.10
    stats_overlap_days: int = 2
    full_stats_every_days: int = 7
    # 360Learning takes up to 10,000 per upsert, but a batch of full course payloads is the
    # largest thing a run holds in memory: 2,500 keeps a run's memory flat from a small to a
    # 30,000-course catalog, at the cost of a few more (cheap) bulk submits (bench/).
    course_batch_size: int = 2_500
    stats_batch_size: int = 10_000
    archive_batch_size: int = 1_000
    retry_failed_after: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        # 360Learning's bulk limits: research/360learning-api.md §10.5
        if not 1 <= self.course_batch_size <= 10_000:
            raise ValueError("course_batch_size must be within 1..10000 (360Learning limit)")
        if not 1 <= self.stats_batch_size <= 10_000:
            raise ValueError("stats_batch_size must be within 1..10000 (360Learning limit)")
        if not 1 <= self.archive_batch_size <= 1_000:
            raise ValueError("archive_batch_size must be within 1..1000 (360Learning limit)")
        if not 0.0 <= self.max_archive_share <= 1.0:
            raise ValueError("max_archive_share must be a fraction within 0..1")
