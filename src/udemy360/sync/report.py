"""The run report: what a run did (or, in a dry run, would do), for people and the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Job = Literal["courses", "stats"]
JOBS: tuple[Job, ...] = ("courses", "stats")


def as_job(name: str) -> Job:
    """The job called ``name``; ``ValueError`` for any other name."""
    for job in JOBS:
        if job == name:
            return job
    raise ValueError(f"unknown job {name!r}: expected one of {', '.join(JOBS)}")


Status = Literal["succeeded", "partial", "failed", "refused", "locked", "aborted"]

#: Counters every report carries, zero when nothing happened.
COUNT_KEYS: tuple[str, ...] = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "archived",
    "restored",
    "tagged",
    "failed",
    "skipped",
    "unmatched",
    "held",
)


class ProgressSink(Protocol):
    """Receives progress; the CLI passes a rich progress adapter."""

    def start(self, task: str, total: int | None) -> None:
        """A task starts; ``total`` is None when unknown."""

    def advance(self, task: str, n: int = 1) -> None:
        """``n`` more units of ``task`` are done."""

    def finish(self, task: str) -> None:
        """The task is over."""


@dataclass(frozen=True)
class RunReport:
    """The outcome of one run; persisted with the run so it can be shown again later."""

    run_id: int | None
    connection_id: str
    job: Job
    status: Status
    dry_run: bool
    full: bool
    started_at: datetime
    ended_at: datetime
    counts: Mapping[str, int]
    calls: Mapping[str, int]
    errors: tuple[str, ...] = ()
    unmatched: tuple[tuple[str, int], ...] = ()

    @property
    def duration(self) -> float:
        """Wall time of the run in seconds."""
        return (self.ended_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (datetimes as ISO 8601)."""
        return {
            "run_id": self.run_id,
            "connection_id": self.connection_id,
            "job": self.job,
            "status": self.status,
            "dry_run": self.dry_run,
            "full": self.full,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "duration": self.duration,
            "counts": dict(self.counts),
            "calls": dict(self.calls),
            "errors": list(self.errors),
            "unmatched": [[mail, n] for mail, n in self.unmatched],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RunReport:
        """Rebuild a report saved with ``to_dict`` (for ``runs show``)."""
        counts = data.get("counts")
        calls = data.get("calls")
        errors = data.get("errors")
        unmatched = data.get("unmatched")
        run_id = data.get("run_id")
        return cls(
            run_id=run_id if isinstance(run_id, int) else None,
            connection_id=str(data["connection_id"]),
            job="stats" if data.get("job") == "stats" else "courses",
            status=_status(data.get("status")),
            dry_run=bool(data.get("dry_run")),
            full=bool(data.get("full")),
            started_at=datetime.fromisoformat(str(data["started_at"])),
            ended_at=datetime.fromisoformat(str(data["ended_at"])),
            counts=_int_map(counts),
            calls=_int_map(calls),
            errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (),
            unmatched=tuple(
                (str(pair[0]), int(pair[1]))
                for pair in (unmatched if isinstance(unmatched, list) else [])
                if isinstance(pair, list | tuple) and len(pair) == 2
            ),
        )


def _status(value: object) -> Status:
    for status in ("succeeded", "partial", "failed", "refused", "locked", "aborted"):
        if value == status:
            return status
    return "failed"


def _int_map(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


@dataclass(slots=True)
class Tally:
    """Mutable counters and messages gathered while a run goes; frozen into a RunReport."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    unmatched: Counter[str] = field(default_factory=Counter)
    max_errors: int = 200

    def add(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key``."""
        self.counts[key] += n

    def error(self, message: str) -> None:
        """Record a human-readable error (the first ``max_errors`` are kept, then a summary)."""
        if len(self.errors) < self.max_errors:
            self.errors.append(message)
        elif len(self.errors) == self.max_errors:
            self.errors.append("… more errors are in the run's item outcomes")

    def snapshot_counts(self) -> dict[str, int]:
        """Return every standard counter (zeros included) plus any extra ones."""
        out = dict.fromkeys(COUNT_KEYS, 0)
        out.update(self.counts)
        return out


def calls_delta(before: Mapping[str, int], after: Mapping[str, int], prefix: str) -> dict[str, int]:
    """Return ``after - before`` per endpoint, keys prefixed with the API's name."""
    out: dict[str, int] = {}
    for key, value in after.items():
        delta = value - before.get(key, 0)
        if delta:
            out[f"{prefix} {key}"] = delta
    return out
