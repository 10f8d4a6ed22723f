"""Submitted 360Learning bulk operations, kept so a crashed run resumes by polling them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Row, select, update

from udemy360.store._db import BULK_OPS, Database, aware
from udemy360.store.rows import BULK_OP_PENDING, BulkOpRow


class BulkOperations:
    """Record bulk operations before waiting for them, and finish them (``store.bulk``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        connection_id: str,
        run_id: int | None,
        op_id: str,
        op_type: str,
        item_count: int,
        submitted_at: datetime,
        *,
        context: Mapping[str, object] | None = None,
    ) -> None:
        """Persist a submitted bulk operation BEFORE waiting for it, so a crash can resume.

        `context` is any JSON the engine needs to record the results after a resume (for
        example the payload hashes of the batch). Recording the same op id twice is a no-op.

        Raises:
            StoreDataError: the database refused a value.
        """
        stmt = (
            self._db.insert(BULK_OPS)
            .values(
                op_id=op_id,
                connection_id=connection_id,
                run_id=run_id,
                op_type=op_type,
                item_count=item_count,
                status=BULK_OP_PENDING,
                submitted_at=aware(submitted_at),
                finished_at=None,
                context=dict(context or {}),
            )
            .on_conflict_do_nothing(index_elements=[BULK_OPS.c.op_id])
        )
        with self._db.write("bulk.record") as conn:
            conn.execute(stmt)

    def pending(self, connection_id: str) -> list[BulkOpRow]:
        """Return the connection's bulk operations not yet finished, oldest first."""
        stmt = (
            select(BULK_OPS)
            .where(BULK_OPS.c.connection_id == connection_id, BULK_OPS.c.status == BULK_OP_PENDING)
            .order_by(BULK_OPS.c.submitted_at, BULK_OPS.c.op_id)
        )
        with self._db.read() as conn:
            return [_bulk_op_row(r) for r in conn.execute(stmt)]

    def finish(
        self, op_id: str, status: str, finished_at: datetime, *, clear_context: bool = False
    ) -> None:
        """Record that a bulk operation ended (e.g. "succeeded", "failed", "timeout").

        Call it once the operation's results are recorded. ``clear_context=True`` drops the
        context, which is only needed to resume and can be large (a batch's hashes).

        Raises:
            LookupError: no bulk operation has that id.
        """
        if status == BULK_OP_PENDING:
            raise ValueError("a finished bulk operation cannot be 'pending'")
        values: dict[str, object] = {"status": status, "finished_at": aware(finished_at)}
        if clear_context:
            values["context"] = {}
        stmt = update(BULK_OPS).where(BULK_OPS.c.op_id == op_id).values(**values)
        with self._db.write("bulk.finish") as conn:
            if conn.execute(stmt).rowcount != 1:
                raise LookupError(f"unknown bulk operation {op_id!r}")


def _bulk_op_row(r: Row[tuple[object, ...]]) -> BulkOpRow:
    return BulkOpRow(
        op_id=r.op_id,
        connection_id=r.connection_id,
        run_id=r.run_id,
        op_type=r.op_type,
        item_count=int(r.item_count),
        status=r.status,
        submitted_at=r.submitted_at,
        finished_at=r.finished_at,
        context=dict(r.context or {}),
    )
