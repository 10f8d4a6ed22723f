"""The state store: what was synced, runs and their outcomes, and the per-connection run lock.

SQLAlchemy 2 with Alembic migrations applied on open; a SQLite file by default, PostgreSQL by
URL. `Store` is the API; `udemy360.store.records` holds the ORM records for extra queries.
"""

from __future__ import annotations

from udemy360.store.errors import LockHeld, LockLost, StoreDataError, StoreError, UnknownConnection
from udemy360.store.lock import Lease
from udemy360.store.queries import Store, tag_key
from udemy360.store.rows import (
    BulkOpRow,
    ConnectionRow,
    ItemOutcome,
    ItemOutcomeRow,
    ItemRow,
    ItemState,
    ItemUpdate,
    RunRow,
    RunStatus,
    StatRow,
    StatState,
    StatUpdate,
)

__all__ = [
    "BulkOpRow",
    "ConnectionRow",
    "ItemOutcome",
    "ItemOutcomeRow",
    "ItemRow",
    "ItemState",
    "ItemUpdate",
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
    "UnknownConnection",
    "tag_key",
]
