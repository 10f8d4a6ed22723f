"""The learner directory: users read from 360Learning, matched by mail, through alias rules."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from udemy360.store import (
    Alias,
    AliasKind,
    AliasRow,
    LearnerRow,
    LearnerUpdate,
    Store,
    StoreDataError,
)
from udemy360.store.records import LearnerRecord

from .conftest import FakeClock
from .tables import count


def _users(n: int, start: int = 0, status: str = "active") -> list[LearnerUpdate]:
    return [LearnerUpdate(f"User{i}@Corp.com", f"u{i:04d}", status) for i in range(start, n)]


class TestDirectory:
    def test_upsert_pages_then_resolve(self, store: Store, clock: FakeClock) -> None:
        """Users upserted page by page are found by trimmed, case-insensitive mail, batched."""
        for page in range(3):
            store.learners.upsert("c1", _users(500 * (page + 1), 500 * page), clock.now)
        wanted = [f"  user{i}@corp.COM " for i in range(0, 1500, 3)]
        found = store.learners.resolve("c1", [*wanted, "nobody@corp.com", ""])
        assert len(found) == 500
        assert found["user3@corp.com"] == LearnerRow(
            connection_id="c1",
            mail="user3@corp.com",
            user_id="u0003",
            status="active",
            seen_at=clock.now,
        )
        assert "nobody@corp.com" not in found
        assert store.learners.count("c1") == 1500

    def test_upsert_updates_status_and_id(self, store: Store, clock: FakeClock) -> None:
        """A user read again takes its new id, status and seen time."""
        store.learners.upsert("c1", [LearnerUpdate("a@x.io", "u1", "invited")], clock.now)
        clock.advance(60)
        store.learners.upsert("c1", [LearnerUpdate(" A@X.io", "u2", "deleted")], clock.now)
        assert store.learners.resolve("c1", ["a@x.io"])["a@x.io"] == LearnerRow(
            "c1", "a@x.io", "u2", "deleted", clock.now
        )
        assert store.learners.count("c1") == 1
        assert store.learners.count("c1", status="deleted") == 1
        assert store.learners.count("c1", status="active") == 0

    def test_users_without_mail_are_left_out(self, store: Store, clock: FakeClock) -> None:
        """A user whose mail is blank can match no learner and is not stored."""
        store.learners.upsert(
            "c1",
            [LearnerUpdate("  ", "u1", "active"), LearnerUpdate("b@x.io", "u2", "active")],
            clock.now,
        )
        assert count(store, LearnerRecord, connection_id="c1") == 1

    def test_delete_unseen_after_a_full_refresh(self, store: Store, clock: FakeClock) -> None:
        """Users a full refresh did not see again are forgotten; the others stay."""
        store.learners.upsert("c1", _users(10), clock.now)
        assert store.learners.last_refreshed_at("c1") == clock.now
        clock.advance(3600)
        refresh = clock.now
        store.learners.upsert("c1", _users(6), refresh)
        assert store.learners.delete_unseen("c1", refresh) == 4
        assert sorted(store.learners.resolve("c1", [f"user{i}@corp.com" for i in range(10)])) == [
            f"user{i}@corp.com" for i in range(6)
        ]
        assert store.learners.last_refreshed_at("c1") == refresh

    def test_directory_is_scoped_by_connection(self, store: Store, clock: FakeClock) -> None:
        """Another connection neither sees nor loses our users."""
        store.connections.ensure("c2", udemy_account="other", group_id="g2")
        store.learners.upsert("c1", _users(3), clock.now)
        assert store.learners.resolve("c2", ["user1@corp.com"]) == {}
        assert store.learners.delete_unseen("c2", clock.now + timedelta(days=1)) == 0
        assert store.learners.count("c1") == 3
        assert store.learners.last_refreshed_at("c2") is None

    def test_refused_value_writes_nothing(self, store: Store, clock: FakeClock) -> None:
        """A page with a mail the database refuses raises StoreDataError, none of it stored."""
        page = [*_users(5), LearnerUpdate("x\ud800@corp.com", "u9", "active")]
        with pytest.raises(StoreDataError, match=r"learners\.upsert"):
            store.learners.upsert("c1", page, clock.now)
        assert store.learners.count("c1") == 0


class TestAliases:
    def test_add_list_remove(self, store: Store, clock: FakeClock) -> None:
        """Rules are stored trimmed and lower-case, a domain without "@"; remove says if any."""
        store.learners.add_alias("c1", "mail", " Old.Name@Corp.com ", "New.Name@corp.com")
        store.learners.add_alias("c1", "domain", "@Corp-Old.com", "corp.com")
        assert store.learners.aliases("c1") == [
            AliasRow("c1", "domain", "corp-old.com", "corp.com", clock.now),
            AliasRow("c1", "mail", "old.name@corp.com", "new.name@corp.com", clock.now),
        ]
        assert store.learners.remove_alias("c1", "domain", "corp-old.com")
        assert not store.learners.remove_alias("c1", "domain", "corp-old.com")
        assert store.learners.remove_alias("c1", "mail", "OLD.name@corp.com ")
        assert store.learners.aliases("c1") == []

    def test_adding_again_changes_the_target(self, store: Store) -> None:
        """A second rule with the same kind and source replaces the first one's target."""
        store.learners.add_alias("c1", "mail", "a@x.io", "b@x.io")
        store.learners.add_alias("c1", "mail", "A@x.io", "c@x.io")
        assert [(a.source, a.target) for a in store.learners.aliases("c1")] == [
            ("a@x.io", "c@x.io")
        ]

    @pytest.mark.parametrize(
        ("kind", "source", "target"),
        [
            ("mail", "not-a-mail", "b@x.io"),
            ("mail", "a@x.io", "b x@x.io"),
            ("domain", "a@x.io", "x.io"),
            ("domain", "", "x.io"),
            ("user", "a@x.io", "b@x.io"),
        ],
    )
    def test_invalid_rules_are_refused(
        self, store: Store, kind: str, source: str, target: str
    ) -> None:
        """A rule whose values do not fit its kind (or an unknown kind) raises ValueError."""
        with pytest.raises(ValueError, match="alias"):
            store.learners.add_alias("c1", cast(AliasKind, kind), source, target)
        assert store.learners.aliases("c1") == []

    def test_import_is_all_or_nothing(self, store: Store) -> None:
        """Importing upserts every rule and counts them; one bad rule, named, writes none."""
        rules = [Alias("mail", f"u{i}@old.io", f"u{i}@new.io") for i in range(3000)]
        assert (
            store.learners.import_aliases("c1", [*rules, Alias("domain", "a.io", "b.io")]) == 3001
        )
        assert len(store.learners.aliases("c1")) == 3001
        with pytest.raises(ValueError, match="alias 2:"):
            store.learners.import_aliases(
                "c1", [Alias("domain", "c.io", "d.io"), Alias("mail", "x", "y")]
            )
        assert len(store.learners.aliases("c1")) == 3001

    def test_resolve_through_aliases(self, store: Store, clock: FakeClock) -> None:
        """A mail alias replaces the whole mail, else a domain rewrite replaces the domain."""
        store.learners.upsert(
            "c1",
            [
                LearnerUpdate("ann@corp.com", "u-ann", "active"),
                LearnerUpdate("bob@corp.com", "u-bob", "active"),
                LearnerUpdate("robert.smith@corp.com", "u-rob", "active"),
                LearnerUpdate("bob@corp-old.com", "u-old-bob", "deleted"),
            ],
            clock.now,
        )
        store.learners.add_alias("c1", "domain", "corp-old.com", "corp.com")
        store.learners.add_alias("c1", "mail", "rob@corp-old.com", "robert.smith@corp.com")
        found = store.learners.resolve(
            "c1",
            ["Ann@Corp-Old.com", "bob@corp-old.com", "rob@corp-old.com", "eve@corp-old.com"],
        )
        assert {mail: row.user_id for mail, row in found.items()} == {
            "ann@corp-old.com": "u-ann",
            "bob@corp-old.com": "u-bob",  # the rule wins over the old, deleted account
            "rob@corp-old.com": "u-rob",
        }
        assert found["ann@corp-old.com"].mail == "ann@corp.com"

    def test_aliases_are_scoped_by_connection(self, store: Store, clock: FakeClock) -> None:
        """Another connection's rules do not apply to ours."""
        store.connections.ensure("c2", udemy_account="other", group_id="g2")
        store.learners.upsert("c1", [LearnerUpdate("a@new.io", "u1", "active")], clock.now)
        store.learners.add_alias("c2", "domain", "old.io", "new.io")
        assert store.learners.resolve("c1", ["a@old.io"]) == {}
        assert store.learners.aliases("c1") == []


class TestSnapshot:
    def test_resolves_like_the_store(self, store: Store, clock: FakeClock) -> None:
        """A run's in-memory snapshot finds exactly what the store's lookup finds."""
        seen = clock.now
        store.learners.upsert(
            "c1",
            [
                LearnerUpdate("ann@corp.com", "u1", "active"),
                LearnerUpdate("joanna@corp.com", "u2", "active"),
                LearnerUpdate("gone@corp.com", "u3", "deleted"),
            ],
            seen,
        )
        store.learners.add_alias("c1", "mail", "jo@udemy-only.com", "joanna@corp.com")
        store.learners.add_alias("c1", "domain", "corp-old.com", "corp.com")
        mails = [" Ann@Corp.com", "jo@udemy-only.com", "ann@corp-old.com", "gone@corp.com", "x@y"]
        snapshot = store.learners.snapshot("c1")
        expected = store.learners.resolve("c1", mails)
        got = snapshot.resolve(mails)
        assert {k: (r.mail, r.user_id, r.status) for k, r in got.items()} == {
            k: (r.mail, r.user_id, r.status) for k, r in expected.items()
        }
        assert set(got) == {
            "ann@corp.com",
            "jo@udemy-only.com",
            "ann@corp-old.com",
            "gone@corp.com",
        }
