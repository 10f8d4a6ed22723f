"""Direct reads of the store's tables, for what the store's API deliberately does not offer."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select

from udemy360.store import Store
from udemy360.store.records import Base


def _table(record: type[Base]) -> Table:
    return cast(Table, record.__table__)


def rows(store: Store, record: type[Base], **where: object) -> list[dict[str, object]]:
    """Return the record's rows matching ``column=value`` filters, in primary-key order."""
    table = _table(record)
    stmt = (
        select(table)
        .where(*(table.c[k] == v for k, v in where.items()))
        .order_by(*table.primary_key.columns)
    )
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def count(store: Store, record: type[Base], **where: object) -> int:
    """Count the record's rows matching ``column=value`` filters."""
    table = _table(record)
    stmt = select(func.count()).select_from(table)
    stmt = stmt.where(*(table.c[k] == v for k, v in where.items()))
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())
