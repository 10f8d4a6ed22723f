"""Tags: category name → tag id, matched case-insensitively, and the tags we attached."""

from __future__ import annotations

import pytest

from udemy360.store import Store, StoreDataError, tag_key
from udemy360.store.records import TagRecord

from .factories import item_update
from .tables import count


class TestTagIds:
    def test_tag_ids_are_keyed_case_insensitively(self, store: Store) -> None:
        """Names are matched trimmed and lower-cased; a later save replaces the id, not the key."""
        store.tags.save("c1", "Data Science", "t1")
        store.tags.save("c1", " data science ", "t2")
        store.tags.save("c1", "Python", "t3")
        assert store.tags.ids("c1") == {"data science": "t2", "python": "t3"}
        assert tag_key("  Data SCIENCE") == "data science"

    def test_tags_are_scoped_by_connection(self, store: Store) -> None:
        """Another connection does not see our tags."""
        store.connections.ensure("c2", udemy_account="other", group_id="g2")
        store.tags.save("c1", "Python", "t1")
        assert store.tags.ids("c2") == {}

    def test_delete_drops_ids_and_links(self, store: Store) -> None:
        """Forgetting a tag id removes it and our links to it, and nothing else."""
        store.tags.save("c1", "Development", "t1")
        store.tags.save("c1", "Design", "t2")
        store.items.upsert("c1", [item_update("101")])
        store.tags.set_attached("c1", "101", ["t1", "t2"])
        store.tags.delete("c1", ["t1"])
        assert store.tags.ids("c1") == {"design": "t2"}
        assert store.tags.attached("c1", "101") == {"t2"}

    def test_nul_byte_in_name(self, store: Store, backend: str) -> None:
        """A category name with a NUL byte is a StoreDataError on PostgreSQL, nothing written."""
        if backend != "postgresql":
            store.tags.save("c1", "Zebra\x00Kite", "t1")
            assert store.tags.ids("c1") == {"zebra\x00kite": "t1"}
            return
        with pytest.raises(StoreDataError) as info:
            store.tags.save("c1", "Zebra\x00Kite", "t1")
        assert info.value.operation == "tags.save"
        assert "Zebra" not in str(info.value)
        assert count(store, TagRecord) == 0

    def test_lone_surrogate_in_name(self, store: Store) -> None:
        """A category name with a lone surrogate is a StoreDataError on every backend."""
        with pytest.raises(StoreDataError, match=r"tags\.save"):
            store.tags.save("c1", "Data \ud800", "t1")
        assert count(store, TagRecord) == 0


class TestAttached:
    def test_attached_tags_are_replaced_as_a_set(self, store: Store) -> None:
        """set_attached replaces the set of tags we attached; duplicates collapse."""
        assert store.tags.attached("c1", "1") == set()
        store.tags.set_attached("c1", "1", ["t1", "t2", "t1"])
        store.tags.set_attached("c1", "2", ["t9"])
        assert store.tags.attached("c1", "1") == {"t1", "t2"}
        store.tags.set_attached("c1", "1", ["t2", "t3"])
        assert store.tags.attached("c1", "1") == {"t2", "t3"}
        store.tags.set_attached("c1", "1", [])
        assert store.tags.attached("c1", "1") == set()
        assert store.tags.attached("c1", "2") == {"t9"}
