"""The per-connection run lock: a lease row in the database.

A lease is taken with one atomic ``INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= now``:
it inserts a free lease, takes over an expired one, and leaves a live one alone. Because the
database decides, it holds across threads, processes and machines sharing one database. A run
renews its lease while it works; if it crashed, the lease expires and the next run takes over.

A lease also records where its holder runs (host and process id). A lease whose holder was a
process on this same host that no longer exists (a SIGKILLed run) is taken over at once
instead of after its expiry; the takeover is a compare-and-swap on the dead holder's token.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from udemy360.store.errors import LockHeld, LockLost
from udemy360.store.records import LockRecord

log = logging.getLogger(__name__)

_locks = cast(Table, LockRecord.__table__)


def host_id() -> str:
    """Name this host so that two processes agree only when they can see each other's pids.

    The hostname alone is not enough: containers may share one hostname but not their pid
    namespace, so on Linux the pid namespace's id is added.
    """
    name = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        return name[:200]
    return f"{name[:200]}/{namespace}"


def process_gone(host: str | None, pid: int | None) -> bool:
    """Whether the holder named by (host, pid) is a process of this host that has ended.

    Only a definite "no such process" counts: another host, an unknown pid, our own pid or a
    process we may not signal are all treated as alive, so a live lease is never stolen.
    """
    if os.name != "posix" or host is None or pid is None or pid <= 0:
        return False
    if host != host_id() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only (POSIX kill(2))
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Lease:
    """A held lease on one connection; renew it before `expires_at`, release it when done.

    A lease is also a context manager that releases it when the block ends, however it ends.
    """

    __slots__ = ("_clock", "_engine", "connection_id", "expires_at", "owner", "token", "ttl")

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        connection_id: str,
        owner: str,
        token: str,
        ttl: float,
        expires_at: datetime,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.connection_id = connection_id
        self.owner = owner
        self.token = token
        self.ttl = ttl
        self.expires_at = expires_at

    def __repr__(self) -> str:
        # the token is not a secret, but it is the only proof of ownership: keep it out of logs
        return (
            f"Lease(connection_id={self.connection_id!r}, owner={self.owner!r}, "
            f"expires_at={self.expires_at.isoformat()!r})"
        )

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def renew(self, ttl: float | None = None) -> datetime:
        """Push the expiry to now + ttl and return it.

        Raises:
            LockLost: the lease expired and another owner took it over, or it was released.
        """
        ttl = self.ttl if ttl is None else ttl
        expires_at = self._clock() + timedelta(seconds=ttl)
        stmt = (
            update(_locks)
            .where(_locks.c.connection_id == self.connection_id, _locks.c.token == self.token)
            .values(expires_at=expires_at)
        )
        with self._engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise LockLost(self.connection_id, self.owner)
        self.expires_at = expires_at
        return expires_at

    def release(self) -> None:
        """Give the lease up; a no-op when it was already taken over."""
        stmt = delete(_locks).where(
            _locks.c.connection_id == self.connection_id, _locks.c.token == self.token
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)
        log.debug("lease released connection=%s owner=%s", self.connection_id, self.owner)


class Locks:
    """The per-connection run leases (``store.locks``)."""

    __slots__ = ("_clock", "_engine")

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def acquire(self, connection_id: str, owner: str, ttl: float = 600) -> Lease:
        """Take the connection's lease; use it in a ``with`` block or `release()` it.

        Raises:
            LockHeld: another owner holds an unexpired lease (fields `holder`, `expires_at`).
        """
        return acquire(self._engine, self._clock, connection_id, owner, ttl)


def acquire(
    engine: Engine,
    clock: Callable[[], datetime],
    connection_id: str,
    owner: str,
    ttl: float,
) -> Lease:
    """Take the connection's lease, or raise `LockHeld` naming the current holder."""
    if ttl <= 0:
        raise ValueError(f"ttl must be positive, got {ttl}")
    token = secrets.token_hex(16)
    host, pid = host_id(), os.getpid()
    # a lease released between our INSERT and our SELECT leaves nothing to report: try again
    for _ in range(3):
        now = clock()
        expires_at = now + timedelta(seconds=ttl)
        values = {
            "connection_id": connection_id,
            "owner": owner,
            "token": token,
            "host": host,
            "pid": pid,
            "acquired_at": now,
            "expires_at": expires_at,
        }
        columns = ("owner", "token", "host", "pid", "acquired_at", "expires_at")
        if engine.dialect.name == "postgresql":
            pg = postgresql.insert(_locks).values(values)
            stmt = pg.on_conflict_do_update(
                index_elements=[_locks.c.connection_id],
                set_={k: pg.excluded[k] for k in columns},
                where=_locks.c.expires_at <= pg.excluded.acquired_at,
            ).returning(_locks.c.token)
        else:
            lite = sqlite.insert(_locks).values(values)
            stmt = lite.on_conflict_do_update(
                index_elements=[_locks.c.connection_id],
                set_={k: lite.excluded[k] for k in columns},
                where=_locks.c.expires_at <= lite.excluded.acquired_at,
            ).returning(_locks.c.token)
        with engine.begin() as conn:
            won = conn.execute(stmt).scalar_one_or_none() == token
            if not won:
                holder = conn.execute(
                    select(
                        _locks.c.owner,
                        _locks.c.expires_at,
                        _locks.c.token,
                        _locks.c.host,
                        _locks.c.pid,
                    ).where(_locks.c.connection_id == connection_id)
                ).one_or_none()
                if holder is not None and process_gone(holder.host, holder.pid):
                    # the holder died without releasing: take its lease over, unless someone
                    # else did so first (the update matches only the dead holder's token)
                    taken = conn.execute(
                        update(_locks)
                        .where(
                            _locks.c.connection_id == connection_id,
                            _locks.c.token == holder.token,
                        )
                        .values({k: values[k] for k in columns})
                    )
                    won = taken.rowcount == 1
                    if won:
                        log.info(
                            "lease of dead process taken over connection=%s holder=%s pid=%s",
                            connection_id,
                            holder.owner,
                            holder.pid,
                        )
        if won:
            log.debug("lease acquired connection=%s owner=%s", connection_id, owner)
            return Lease(
                engine,
                clock,
                connection_id=connection_id,
                owner=owner,
                token=token,
                ttl=ttl,
                expires_at=expires_at,
            )
        if holder is not None:
            raise LockHeld(holder.owner, holder.expires_at, connection_id=connection_id)
    raise LockHeld("unknown", clock(), connection_id=connection_id)
