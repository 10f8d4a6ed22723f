"""What every write shares: one transaction, refused values as StoreDataError, aware dates."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from udemy360.store import ItemState, ItemUpdate, Store, StoreDataError
from udemy360.store._db import Database
from udemy360.store.records import ConnectionRecord, ItemRecord, TagRecord

from .conftest import FakeClock
from .tables import count


class TestWrite:
    def test_refused_value_rolls_back_the_whole_transaction(
        self, store: Store, clock: FakeClock
    ) -> None:
        """A value refused mid-transaction undoes the statements before it, then raises."""
        db = Database(store.engine, clock)
        tag = {"connection_id": "c1", "name_key": "k", "name": "k", "created_at": clock.now}
        item = {
            "connection_id": "c1",
            "kind": "course",
            "external_id": "1",
            "udemy_id": 2**70,
            "state": "active",
            "attempts": 0,
            "created_at": clock.now,
            "updated_at": clock.now,
        }

        def tag_then_item() -> None:
            with db.write("test.operation") as conn:
                conn.execute(insert(TagRecord).values(tag_id="t1", **tag))
                conn.execute(insert(ItemRecord).values(item))

        with pytest.raises(StoreDataError) as info:
            tag_then_item()
        assert info.value.operation == "test.operation"
        assert str(info.value).startswith("the database refused a value in test.operation (")
        assert (count(store, TagRecord), count(store, ItemRecord)) == (0, 0)

    def test_broken_constraint_is_not_a_data_error(self, store: Store, clock: FakeClock) -> None:
        """A broken constraint (a bug, not a value) passes unchanged, after the rollback."""
        db = Database(store.engine, clock)
        with pytest.raises(IntegrityError), db.write("test.operation") as conn:
            conn.execute(
                insert(ConnectionRecord).values(
                    id="c1",
                    udemy_account="a",
                    group_id="g",
                    active=True,
                    settings={},
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )


class TestDates:
    def test_naive_datetimes_are_refused(self, store: Store) -> None:
        """A naive datetime never reaches the database, and the batch is not written."""
        row = ItemUpdate(
            external_id="1",
            kind="course",
            udemy_id=1,
            state=ItemState.ACTIVE,
            seen_at=datetime(2025, 1, 1),
        )
        with pytest.raises(ValueError, match="naive datetime"):
            store.items.upsert("c1", [row])
        assert count(store, ItemRecord) == 0
        # the ORM column type refuses it too
        with Session(store.engine) as session:
            record = session.get_one(ConnectionRecord, "c1")
            record.updated_at = datetime(2025, 1, 1)
            with pytest.raises(StatementError) as info:
                session.flush()
        assert isinstance(info.value.orig, ValueError)
