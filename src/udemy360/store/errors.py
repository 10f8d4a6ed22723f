"""Errors raised by the state store.

StoreError
 ├ StoreUnavailable   `Store.open` could not open the database named by ``store_url``
 ├ StoreDataError     the database refused a value a write carried; nothing was written
 ├ LockHeld   another owner holds an unexpired lease on the connection
 ├ LockLost   our lease expired and was taken over (or released) before we renewed it
 └ UnknownConnection   (also a LookupError) no connection with that id
"""

from __future__ import annotations

from datetime import datetime


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database of the ``store_url`` setting cannot be opened; the message says how to fix it.

    Raised for a malformed URL, an unsupported database, a path that cannot be created or an
    unreachable server. The message shows the URL with its password masked.
    """

    def __init__(self, url: str, problem: str, fix: str) -> None:
        super().__init__(f"store_url {url!r}: {problem}; {fix}")
        self.url = url
        self.problem = problem
        self.fix = fix


class StoreDataError(StoreError):
    """The database refused a value of a write (a NUL byte, an integer beyond 64 bits, …).

    The write was rolled back whole. The message names the operation and the kind of error,
    never the values, which may be personal data.
    """

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"the database refused a value in {operation} ({reason})")
        self.operation = operation
        self.reason = reason


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
    """The connection id names no connection; create it with `store.connections.ensure` first."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"unknown connection {connection_id!r}")
        self.connection_id = connection_id
