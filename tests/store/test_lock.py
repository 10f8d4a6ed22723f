"""The per-connection run lease: exclusive across stores, threads and processes."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext

import pytest
from sqlalchemy import update

from udemy360.store import Lease, LockHeld, LockLost, Store
from udemy360.store.records import LockRecord

from .conftest import FakeClock


def _child(url: str, out: Connection) -> None:
    """Run in another process: see the parent's lease, then take one and "crash" holding it."""
    store = Store.open(url)
    try:
        store.locks.acquire("c1", "child", ttl=60)
        out.send("acquired c1")
    except LockHeld as exc:
        out.send(f"held c1 by {exc.holder}")
    store.locks.acquire("c2", "child", ttl=60)
    out.send("acquired c2")
    # exits without releasing c2, like a killed run


def _mp_context() -> ForkContext | SpawnContext:
    # fork reuses the parent's imports (fast); spawn where fork does not exist
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class TestLock:
    def test_second_owner_gets_lock_held(
        self, store: Store, open_store: Callable[[], Store], clock: FakeClock
    ) -> None:
        """While one store holds the lease, another store's attempt raises LockHeld with holder."""
        other = open_store()
        with store.locks.acquire("c1", "run-a", ttl=600) as lease:
            with pytest.raises(LockHeld) as info, other.locks.acquire("c1", "run-b"):
                pytest.fail("entered a held lock")
            assert info.value.holder == "run-a"
            assert info.value.expires_at == clock.now + timedelta(seconds=600)
            assert info.value.expires_at == lease.expires_at

    def test_released_at_block_exit_even_on_error(
        self, store: Store, open_store: Callable[[], Store]
    ) -> None:
        """The lease is released when the block ends, also by an exception."""
        other = open_store()
        with pytest.raises(RuntimeError), store.locks.acquire("c1", "run-a"):
            raise RuntimeError("run failed")
        with other.locks.acquire("c1", "run-b") as lease:
            assert lease.owner == "run-b"

    def test_connections_are_independent(self, store: Store) -> None:
        """Holding one connection's lease does not block another connection."""
        with store.locks.acquire("c1", "run-a"), store.locks.acquire("c2", "run-b") as lease:
            assert lease.connection_id == "c2"

    def test_same_owner_cannot_reenter(self, store: Store) -> None:
        """The lease is not re-entrant: a second run with the same owner name is refused too."""
        with store.locks.acquire("c1", "worker"), pytest.raises(LockHeld):
            store.locks.acquire("c1", "worker")

    def test_expired_lease_is_taken_over(
        self, store: Store, open_store: Callable[[], Store], clock: FakeClock
    ) -> None:
        """A lease past its expiry (a crashed run) is taken over by the next owner."""
        stale = store.locks.acquire("c1", "crashed", ttl=60)
        clock.advance(61)
        with open_store().locks.acquire("c1", "next") as lease:
            assert lease.owner == "next"
            with pytest.raises(LockHeld) as info:
                store.locks.acquire("c1", "third")
            assert info.value.holder == "next"
            # the crashed run wakes up: it learns it lost the lease and cannot free the new one
            with pytest.raises(LockLost):
                stale.renew()
            stale.release()
            with pytest.raises(LockHeld):
                store.locks.acquire("c1", "third")

    def test_lease_at_exact_expiry_is_free(self, store: Store, clock: FakeClock) -> None:
        """At its expiry instant the lease no longer protects its holder."""
        store.locks.acquire("c1", "old", ttl=10)
        clock.advance(10)
        assert store.locks.acquire("c1", "new", ttl=10).owner == "new"

    def test_renew_extends_the_lease(
        self, store: Store, open_store: Callable[[], Store], clock: FakeClock
    ) -> None:
        """A renewed lease stays held past its first expiry."""
        other = open_store()
        with store.locks.acquire("c1", "long-run", ttl=60) as lease:
            clock.advance(50)
            assert lease.renew() == clock.now + timedelta(seconds=60)
            clock.advance(50)
            with pytest.raises(LockHeld):
                other.locks.acquire("c1", "intruder")
            assert lease.renew(ttl=5) == clock.now + timedelta(seconds=5)
            clock.advance(6)
            assert other.locks.acquire("c1", "intruder").owner == "intruder"

    def test_non_positive_ttl_is_refused(self, store: Store) -> None:
        """A lease must last some time."""
        with pytest.raises(ValueError, match="ttl"):
            store.locks.acquire("c1", "x", ttl=0)

    def test_repr_hides_the_token(self, store: Store) -> None:
        """The lease token, the only proof of ownership, stays out of reprs."""
        lease = store.locks.acquire("c1", "run")
        assert isinstance(lease, Lease)
        assert lease.token not in repr(lease)

    def test_racing_stores_have_one_winner(self, open_store: Callable[[], Store]) -> None:
        """Eight stores racing from eight threads: exactly one gets the lease."""
        stores = [open_store() for _ in range(8)]
        start = threading.Barrier(len(stores))
        winners: list[str] = []
        held: list[str] = []

        def race(i: int) -> None:
            start.wait()
            try:
                winners.append(stores[i].locks.acquire("c1", f"t{i}").owner)
            except LockHeld as exc:
                held.append(exc.holder)

        threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1
        assert held == [winners[0]] * 7

    def test_exclusive_across_processes(self, store: Store, db_url: str, clock: FakeClock) -> None:
        """Another process sees our lease, and a lease it left behind when it ended is free."""
        ctx = _mp_context()
        receive, send = ctx.Pipe(duplex=False)
        with store.locks.acquire("c1", "parent"):
            child = ctx.Process(target=_child, args=(db_url, send))
            child.start()
            child.join(timeout=60)
        assert child.exitcode == 0
        assert [receive.recv(), receive.recv()] == ["held c1 by parent", "acquired c2"]
        # the child's process is gone: its lease is taken over without waiting for expiry
        assert store.locks.acquire("c2", "parent").owner == "parent"


class TestDeadHolder:
    def test_killed_holder_is_taken_over_at_once(self, store: Store, db_url: str) -> None:
        """A lease held by a live process blocks; once that process is SIGKILLed it is free."""
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, db_url],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "held"
            with pytest.raises(LockHeld) as info:
                store.locks.acquire("c1", "next", ttl=600)
            assert info.value.holder == "killed"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
        with store.locks.acquire("c1", "next", ttl=600) as lease:
            assert lease.owner == "next"

    def test_dead_holder_on_another_host_waits_for_expiry(
        self, store: Store, db_url: str, clock: FakeClock
    ) -> None:
        """A pid is only checked on its own host: elsewhere the lease waits for its expiry."""
        ctx = _mp_context()
        _receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(db_url, send))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        with store.engine.begin() as conn:
            conn.execute(update(LockRecord).values(host="another-host"))
        with pytest.raises(LockHeld):
            store.locks.acquire("c2", "parent")
        clock.advance(61)
        assert store.locks.acquire("c2", "parent").owner == "parent"

    def test_own_process_lease_is_never_taken_over(self, store: Store) -> None:
        """A lease held elsewhere in this very process counts as alive."""
        store.locks.acquire("c1", "first")
        with pytest.raises(LockHeld):
            store.locks.acquire("c1", "second")


# takes the lease with a store clock in the real present, says so, then waits to be killed
_HOLDER = """
import sys, time
from udemy360.store import Store
store = Store.open(sys.argv[1])
store.locks.acquire("c1", "killed", ttl=600)
print("held", flush=True)
time.sleep(600)
"""
