"""Errors the sync engine raises.

Tree::

    SyncError                 a run could not do its job; the message is for people
    ├── ArchiveGuardTripped   archiving was refused (too many items, or an incomplete listing)
    └── RunLocked             another run of the same connection holds the lock

Client errors (``UdemyError``, ``Learning360Error``) never escape ``run_job``: the engine
turns them into a "failed" run report.
"""

from __future__ import annotations

from typing import Literal

GuardReason = Literal["mass_archive", "incomplete_listing"]


class SyncError(Exception):
    """A run could not finish its job; ``message`` is human-readable and free of secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ArchiveGuardTripped(SyncError):
    """Archiving was refused: too large a share of the active items, or an incomplete listing."""

    def __init__(
        self,
        *,
        reason: GuardReason,
        would_archive: int,
        active: int,
        max_share: float,
        detail: str = "",
    ) -> None:
        if reason == "mass_archive":
            message = (
                f"refusing to archive {would_archive} of {active} active items "
                f"(more than {max_share:.0%}); check the Udemy account, then run again with "
                "allow_mass_archive (CLI: --allow-mass-archive) if this is intended"
            )
        else:
            message = f"Udemy listing incomplete, nothing archived: {detail}"
        super().__init__(message)
        self.reason: GuardReason = reason
        self.would_archive = would_archive
        self.active = active
        self.max_share = max_share


class RunLocked(SyncError):
    """Another run of the same connection holds the lock."""

    def __init__(self, connection_id: str, holder: str) -> None:
        super().__init__(f"connection {connection_id!r} is already being synced by {holder}")
        self.connection_id = connection_id
        self.holder = holder
