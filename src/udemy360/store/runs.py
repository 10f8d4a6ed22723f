"""Runs of a job and their per-item outcomes (errors, unmatched learners, skipped rows)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Row, func, insert, select, true, update

from udemy360.store._db import OUTCOMES, RUNS, WRITE_CHUNK, Database, aware, chunks
from udemy360.store.rows import (
    SUCCESSFUL_RUN_STATUSES,
    ItemOutcome,
    ItemOutcomeRow,
    RunRow,
    RunStatus,
)

INTERRUPTED_ERROR = (
    "interrupted: the run's process died or lost its lease before the run finished; "
    "its counts are those last saved, and the next run resumed from the store"
)
"""The error line `Runs.close_interrupted` adds to each run it closes."""


class Runs:
    """Start, follow and finish runs, and keep their per-item outcomes (``store.runs``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(
        self, connection_id: str, job: str, *, dry_run: bool, full: bool = False, now: datetime
    ) -> int:
        """Record the start of a run and return its id."""
        stmt = (
            insert(RUNS)
            .values(
                connection_id=connection_id,
                job=job,
                dry_run=dry_run,
                full=full,
                status=RunStatus.RUNNING.value,
                started_at=aware(now),
                ended_at=None,
                counts={},
                calls={},
                errors=[],
                report={},
            )
            .returning(RUNS.c.id)
        )
        with self._db.write("runs.start") as conn:
            return int(conn.execute(stmt).scalar_one())

    def save_progress(
        self, run_id: int, counts: Mapping[str, int], calls: Mapping[str, int]
    ) -> bool:
        """Save a running run's counts and calls so far, kept if the run is interrupted.

        Returns False, writing nothing, when the run is no longer running (another run
        closed it as interrupted).

        Raises:
            LookupError: no run has that id.
        """
        stmt = (
            update(RUNS)
            .where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.RUNNING.value)
            .values(counts=dict(counts), calls=dict(calls))
        )
        with self._db.write("runs.save_progress") as conn:
            if conn.execute(stmt).rowcount == 1:
                return True
            if conn.execute(select(RUNS.c.id).where(RUNS.c.id == run_id)).first() is None:
                raise LookupError(f"unknown run {run_id}")
            return False

    def finish(
        self,
        run_id: int,
        *,
        status: RunStatus,
        ended_at: datetime,
        counts: Mapping[str, int],
        calls: Mapping[str, int],
        errors: Sequence[str],
        report: Mapping[str, object],
    ) -> None:
        """Record the end of a run with its counts, calls per endpoint, errors and report.

        Raises:
            LookupError: no run has that id.
            StoreDataError: the database refused a value (e.g. a NUL byte on PostgreSQL).
        """
        stmt = (
            update(RUNS)
            .where(RUNS.c.id == run_id)
            .values(
                status=RunStatus(status).value,
                ended_at=aware(ended_at),
                counts=dict(counts),
                calls=dict(calls),
                errors=list(errors),
                report=dict(report),
            )
        )
        with self._db.write("runs.finish") as conn:
            if conn.execute(stmt).rowcount != 1:
                raise LookupError(f"unknown run {run_id}")

    def close_interrupted(self, connection_id: str, now: datetime) -> builtins.list[int]:
        """Close every run of the connection still ``running`` as ``interrupted``; return ids.

        Call it right after taking the connection's lease and before starting a run: with the
        lease held, a run still marked running is one whose process died or lost the lease.
        Each keeps its last saved counts (`save_progress`) and gets `INTERRUPTED_ERROR`.
        """
        ended = aware(now)
        with self._db.write("runs.close_interrupted") as conn:
            running = conn.execute(
                select(RUNS.c.id, RUNS.c.errors)
                .where(
                    RUNS.c.connection_id == connection_id,
                    RUNS.c.status == RunStatus.RUNNING.value,
                )
                .order_by(RUNS.c.id)
            ).all()
            for run in running:
                conn.execute(
                    update(RUNS)
                    .where(RUNS.c.id == run.id, RUNS.c.status == RunStatus.RUNNING.value)
                    .values(
                        status=RunStatus.INTERRUPTED.value,
                        ended_at=ended,
                        errors=[*(run.errors or []), INTERRUPTED_ERROR],
                    )
                )
        return [int(run.id) for run in running]

    def get(self, run_id: int) -> RunRow | None:
        """Return the run, or None."""
        with self._db.read() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one_or_none()
        return None if row is None else _run_row(row)

    def list(self, connection_id: str | None = None, limit: int = 20) -> builtins.list[RunRow]:
        """Return the latest runs, newest first, of one connection or of all."""
        stmt = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit)
        if connection_id is not None:
            stmt = stmt.where(RUNS.c.connection_id == connection_id)
        with self._db.read() as conn:
            return [_run_row(r) for r in conn.execute(stmt)]

    def last_successful(
        self, connection_id: str, job: str, *, full: bool | None = None
    ) -> RunRow | None:
        """Return the newest non-dry run of `job` that finished SUCCEEDED or PARTIAL.

        PARTIAL counts: its failed items are kept in the store and retried from there.
        """
        stmt = (
            select(RUNS)
            .where(
                RUNS.c.connection_id == connection_id,
                RUNS.c.job == job,
                RUNS.c.dry_run == False,  # noqa: E712 - SQL comparison, not Python
                RUNS.c.status.in_([s.value for s in SUCCESSFUL_RUN_STATUSES]),
                true() if full is None else RUNS.c.full == full,
            )
            .order_by(RUNS.c.id.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).one_or_none()
        return None if row is None else _run_row(row)

    # -- per-item outcomes -------------------------------------------------------------------

    def add_outcomes(
        self, run_id: int, connection_id: str, outcomes: Iterable[ItemOutcome]
    ) -> None:
        """Record per-item outcomes of a run (errors, unmatched learners, skips).

        Raises:
            StoreDataError: the database refused a value (e.g. a NUL byte on PostgreSQL).
        """
        now = self._db.now()
        params = (
            {
                "run_id": run_id,
                "connection_id": connection_id,
                "kind": o.kind,
                "external_id": o.external_id,
                "learner_mail": o.learner_mail,
                "outcome": o.outcome,
                "message": o.message,
                "created_at": now,
            }
            for o in outcomes
        )
        with self._db.write("runs.add_outcomes") as conn:
            for chunk in chunks(params, WRITE_CHUNK):
                conn.execute(insert(OUTCOMES), chunk)

    def iter_outcomes(self, run_id: int, *, outcome: str | None = None) -> Iterator[ItemOutcomeRow]:
        """Stream a run's per-item outcomes, optionally of one kind of outcome."""
        stmt = select(OUTCOMES).where(OUTCOMES.c.run_id == run_id)
        if outcome is not None:
            stmt = stmt.where(OUTCOMES.c.outcome == outcome)
        return (_outcome_row(r) for r in self._db.page(stmt, OUTCOMES.c.id))

    def count_outcomes(self, run_id: int) -> dict[str, int]:
        """Return how many outcomes of each kind of outcome a run recorded."""
        stmt = (
            select(OUTCOMES.c.outcome, func.count())
            .where(OUTCOMES.c.run_id == run_id)
            .group_by(OUTCOMES.c.outcome)
        )
        with self._db.read() as conn:
            return {str(outcome): int(n) for outcome, n in conn.execute(stmt)}


def _run_row(r: Row[tuple[object, ...]]) -> RunRow:
    return RunRow(
        run_id=r.id,
        connection_id=r.connection_id,
        job=r.job,
        dry_run=bool(r.dry_run),
        full=bool(r.full),
        status=RunStatus(r.status),
        started_at=r.started_at,
        ended_at=r.ended_at,
        counts=dict(r.counts or {}),
        calls=dict(r.calls or {}),
        errors=list(r.errors or []),
        report=dict(r.report or {}),
    )


def _outcome_row(r: Row[tuple[object, ...]]) -> ItemOutcomeRow:
    return ItemOutcomeRow(
        outcome_id=r.id,
        run_id=r.run_id,
        connection_id=r.connection_id,
        kind=r.kind,
        external_id=r.external_id,
        learner_mail=r.learner_mail,
        outcome=r.outcome,
        message=r.message,
        created_at=r.created_at,
    )
