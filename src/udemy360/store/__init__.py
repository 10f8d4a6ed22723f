"""The state store: what was synced, the learner directory, runs, and the per-connection lease.

SQLAlchemy 2 with Alembic migrations applied on open; a SQLite file by default, PostgreSQL by
URL. `Store` is the API, one attribute per kind of record (``store.items.get(…)``,
``store.runs.start(…)``, …); `udemy360.store.records` holds the ORM records for extra queries.
"""

from __future__ import annotations

from udemy360.store.errors import (
    LockHeld,
    LockLost,
    StoreDataError,
    StoreError,
    StoreUnavailable,
    UnknownConnection,
)
from udemy360.store.facade import Store
from udemy360.store.learners import LearnerDirectory
from udemy360.store.lock import Lease
from udemy360.store.rows import (
    Alias,
    AliasKind,
    AliasRow,
    BulkOpRow,
    ConnectionRow,
    ItemOutcome,
    ItemOutcomeRow,
    ItemRow,
    ItemState,
    ItemUpdate,
    LearnerRow,
    LearnerUpdate,
    RunRow,
    RunStatus,
    StatRow,
    StatState,
    StatUpdate,
    UnmatchedLearner,
    UnmatchedSummary,
)
from udemy360.store.tags import tag_key

__all__ = [
    "Alias",
    "AliasKind",
    "AliasRow",
    "BulkOpRow",
    "ConnectionRow",
    "ItemOutcome",
    "ItemOutcomeRow",
    "ItemRow",
    "ItemState",
    "ItemUpdate",
    "LearnerDirectory",
    "LearnerRow",
    "LearnerUpdate",
    "Lease",
    "LockHeld",
    "LockLost",
    "RunRow",
    "RunStatus",
    "StatRow",
    "StatState",
    "StatUpdate",
    "Store",
    "StoreDataError",
    "StoreError",
    "StoreUnavailable",
    "UnknownConnection",
    "UnmatchedLearner",
    "UnmatchedSummary",
    "tag_key",
]
