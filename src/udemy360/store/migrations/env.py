"""Alembic environment: runs only on a connection handed over by ``udemy360.store.engine``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from udemy360.store.records import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "udemy360 migrations run programmatically: use udemy360.store.engine.upgrade(engine), "
        "which passes the connection in config.attributes['connection']"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
