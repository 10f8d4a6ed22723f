"""Connections: creation, settings, and what a changed integration forgets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from udemy360.sandbox.seed import learner_email
from udemy360.store import (
    ConnectionRow,
    ItemState,
    ItemUpdate,
    StatState,
    StatUpdate,
    Store,
    UnknownConnection,
)
from udemy360.store.records import StatRecord

from .conftest import FakeClock
from .factories import item_update
from .tables import rows


def _item(ext: str, **changes: object) -> ItemUpdate:
    return item_update(ext, **{"default_lang": "fr", **changes})


class TestConnections:
    def test_ensure_creates_with_defaults(self, store: Store, clock: FakeClock) -> None:
        """A new connection is active, with no integration and empty settings."""
        assert store.connections.ensure("c9", udemy_account="acme", group_id="g9") == ConnectionRow(
            connection_id="c9",
            udemy_account="acme",
            group_id="g9",
            integration_id=None,
            active=True,
            options_hash=None,
            owner_lang=None,
            settings={},
            created_at=clock.now,
            updated_at=clock.now,
        )

    def test_ensure_is_idempotent_and_updates(self, store: Store, clock: FakeClock) -> None:
        """Ensuring again keeps the row and what was set on it, and updates account and group."""
        store.connections.set_integration("c1", "int-1")
        clock.advance(5)
        same = store.connections.ensure("c1", udemy_account="acme", group_id="g1")
        assert (same.integration_id, same.updated_at) == ("int-1", clock.now - timedelta(seconds=5))
        moved = store.connections.ensure("c1", udemy_account="acme2", group_id="g2")
        assert (moved.udemy_account, moved.group_id, moved.integration_id) == (
            "acme2",
            "g2",
            "int-1",
        )
        assert moved.updated_at == clock.now
        assert [c.connection_id for c in store.connections.list()] == ["c1"]

    def test_setters(self, store: Store) -> None:
        """Each setter changes its own field."""
        store.connections.set_integration("c1", "int-1")
        store.connections.set_active("c1", False)
        store.connections.set_settings("c1", {"tags": True, "schedule": {"courses": "07:30"}})
        conn = store.connections.get("c1")
        assert conn is not None
        assert (conn.integration_id, conn.active) == ("int-1", False)
        assert conn.settings == {"tags": True, "schedule": {"courses": "07:30"}}

    def test_unknown_connection(self, store: Store) -> None:
        """Reading an unknown connection gives None; changing one raises UnknownConnection."""
        assert store.connections.get("nope") is None
        with pytest.raises(UnknownConnection) as info:
            store.connections.set_integration("nope", "x")
        assert info.value.connection_id == "nope"
        with pytest.raises(UnknownConnection):
            store.connections.set_settings("nope", {})

    def test_list_filters_active(self, store: Store) -> None:
        """Deactivated connections are left out of the active list (no scheduled syncs)."""
        store.connections.ensure("c2", udemy_account="b", group_id="g2")
        store.connections.set_active("c1", False)
        assert [c.connection_id for c in store.connections.list(active=True)] == ["c2"]
        assert [c.connection_id for c in store.connections.list(active=False)] == ["c1"]
        assert [c.connection_id for c in store.connections.list()] == ["c1", "c2"]


def _synced(store: Store, clock: FakeClock) -> None:
    """Connection c1 synced into integration int-1: items, tags, statistics, a pending op."""
    store.connections.set_integration("c1", "int-1")
    store.items.upsert("c1", [_item("101"), _item("102", state=ItemState.ARCHIVED)])
    store.tags.save("c1", "Development", "t1")
    store.tags.set_attached("c1", "101", ["t1"])
    store.stats.upsert(
        "c1",
        [
            StatUpdate(
                "101",
                learner_email(0),
                StatState.SENT,
                "h",
                first_activity_at=clock.now,
                completed=True,
            ),
            StatUpdate("101", learner_email(1), StatState.UNMATCHED, "h", payload={"a": 1}),
        ],
    )
    store.bulk.record("c1", None, "op-1", "courses", 1, clock.now, context={"a": 1})


class TestIntegrationChange:
    def test_new_integration_forgets_the_remote_state(self, store: Store, clock: FakeClock) -> None:
        """A different integration id resets items, statistics, tag links and pending ops."""
        _synced(store, clock)
        store.connections.set_integration("c1", "int-2")
        items = store.items.get("c1", ["101", "102"])
        for row in items.values():
            assert (row.payload_hash, row.course_id, row.state) == (None, None, ItemState.ACTIVE)
            assert row.archived_at is None
        assert items["101"].default_lang == "fr"  # Udemy-side facts stay
        stats = rows(store, StatRecord, connection_id="c1")
        assert [
            (
                s["state"],
                s["payload_hash"],
                s["first_activity_at"],
                s["completed"],
                s["payload"],
                s["unmatched_since"],
            )
            for s in stats
        ] == [("held", None, None, False, None, None)] * 2
        assert store.tags.attached("c1", "101") == set()
        assert store.tags.ids("c1") == {"development": "t1"}  # tags belong to the platform
        assert store.bulk.pending("c1") == []
        connection = store.connections.get("c1")
        assert connection is not None
        assert connection.integration_id == "int-2"

    def test_cleared_integration_also_resets(self, store: Store, clock: FakeClock) -> None:
        """Deleting the integration (id set to None) forgets its courses too."""
        _synced(store, clock)
        store.connections.set_integration("c1", None)
        assert store.items.get("c1", ["101"])["101"].course_id is None

    def test_same_integration_keeps_everything(self, store: Store, clock: FakeClock) -> None:
        """Recording the same id again (set-up adopting it) changes nothing."""
        _synced(store, clock)
        store.connections.set_integration("c1", "int-1")
        assert store.items.get("c1", ["101"])["101"].course_id == "lms-101"
        assert store.tags.attached("c1", "101") == {"t1"}
        assert len(store.bulk.pending("c1")) == 1
