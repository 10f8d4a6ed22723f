"""Errors raised by the state store.

StoreError
 ├ LockHeld   another owner holds an unexpired lease on the connection
 ├ LockLost   our lease expired and was taken over (or released) before we renewed it
 └ UnknownConnection   (also a LookupError) no connection with that id
"""

from __future__ import annotations

from datetime import datetime


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class LockHeld(StoreError):
    """Another run holds the connection's lease; two runs of one connection never overlap."""

    def __init__(self, holder: str, expires_at: datetime, *, connection_id: str) -> None:
        super().__init__(
            f"connection {connection_id!r} is locked by {holder!r} until {expires_at.isoformat()}"
        )
        self.connection_id = connection_id
        self.holder = holder
        self.expires_at = expires_at


class LockLost(StoreError):
    """Our lease is gone (expired and taken over), so the run must stop writing."""

    def __init__(self, connection_id: str, owner: str) -> None:
        super().__init__(f"lease on connection {connection_id!r} held by {owner!r} was lost")
        self.connection_id = connection_id
        self.owner = owner


class UnknownConnection(StoreError, LookupError):
    """The connection id names no connection; create it with `Store.ensure_connection` first."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"unknown connection {connection_id!r}")
        self.connection_id = connection_id


class StoreDataError(StoreError):
    """The database refused a value (temporary until the store split lands)."""
