"""Plain values going into and coming out of the store.

Rows are frozen dataclasses, never ORM objects: callers (the async engine, the web UI) can pass
them between threads without lazy loads or detached-instance surprises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from udemy360.domain import ItemKind


class ItemState(StrEnum):
    """Where a catalog item stands in 360Learning."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    FAILED = "failed"


class StatState(StrEnum):
    """What happened to the last statistic built for one (course, learner) pair."""

    SENT = "sent"
    UNMATCHED = "unmatched"  # learner unknown to 360Learning (a per-item bulk error)
    FAILED = "failed"
    HELD = "held"  # the course is not (yet) synced and active; sent once it is


class RunStatus(StrEnum):
    """Outcome of a run; PARTIAL means it finished but some items failed.

    REFUSED: the mass-archive guard stopped a catalog run; LOCKED: another run held the
    connection's lock, so this one did nothing.
    """

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    ABORTED = "aborted"
    REFUSED = "refused"
    LOCKED = "locked"


SUCCESSFUL_RUN_STATUSES: frozenset[RunStatus] = frozenset({RunStatus.SUCCEEDED, RunStatus.PARTIAL})


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """One Udemy account linked to one 360Learning integration."""

    connection_id: str
    udemy_account: str
    group_id: str
    integration_id: str | None
    active: bool
    options_hash: str | None
    owner_lang: str | None
    settings: Mapping[str, object]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ItemRow:
    """What the store knows about one synced catalog item (course or learning path)."""

    connection_id: str
    external_id: str
    kind: ItemKind
    udemy_id: int
    payload_hash: str | None
    course_id: str | None
    state: ItemState
    last_error: str | None
    attempts: int
    next_retry_at: datetime | None
    video_url: str | None
    last_sent_at: datetime | None
    seen_at: datetime | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    default_lang: str | None = None


@dataclass(frozen=True, slots=True)
class ItemUpdate:
    """The outcome of sending one catalog item, written by `Store.upsert_item_results`.

    On an existing row, `payload_hash`, `state`, `last_error`, `attempts` and `next_retry_at`
    are overwritten as given (None clears them: a None hash forces a resend next run), while
    `course_id`, `video_url`, `default_lang`, `last_sent_at` and `seen_at` keep their stored
    value when None, so a failed update never forgets the 360Learning course id.
    """

    external_id: str
    kind: ItemKind
    udemy_id: int
    state: ItemState
    payload_hash: str | None = None
    course_id: str | None = None
    last_error: str | None = None
    attempts: int = 0
    next_retry_at: datetime | None = None
    video_url: str | None = None
    last_sent_at: datetime | None = None
    seen_at: datetime | None = None
    default_lang: str | None = None


@dataclass(frozen=True, slots=True)
class StatRow:
    """The last statistic built for one (course externalId, learner mail) pair."""

    connection_id: str
    external_course_id: str
    learner_mail: str
    payload_hash: str | None
    first_activity_at: datetime | None
    completed: bool
    state: StatState
    last_error: str | None
    last_sent_at: datetime | None
    run_id: int | None
    created_at: datetime
    updated_at: datetime
    payload: Mapping[str, object] | None = None
    attempts: int = 0
    next_retry_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The (external course id, learner mail) pair the row is keyed by."""
        return (self.external_course_id, self.learner_mail)


@dataclass(frozen=True, slots=True)
class StatUpdate:
    """The outcome of building or sending one statistic, written by `Store.upsert_stats`.

    Two rules of DESIGN.md are enforced by the store itself: `first_activity_at` never changes
    once the row has been sent (a new value makes 360Learning open a second attempt), and
    `completed` never goes back to False (completion is final). Set `completed` only once
    360Learning accepted the completion. `last_sent_at` keeps its stored value when None;
    the other fields are overwritten, so a None `payload` (kept for held and failed rows, to
    send them from the store later) clears it, and `attempts`/`next_retry_at` (failed rows'
    backoff) are reset by any update that does not give them.
    """

    external_course_id: str
    learner_mail: str
    state: StatState
    payload_hash: str | None = None
    first_activity_at: datetime | None = None
    completed: bool = False
    last_error: str | None = None
    last_sent_at: datetime | None = None
    run_id: int | None = None
    payload: Mapping[str, object] | None = None
    attempts: int = 0
    next_retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run of a job (e.g. "courses", "statistics") for one connection."""

    run_id: int
    connection_id: str
    job: str
    dry_run: bool
    full: bool
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    counts: Mapping[str, int]
    calls: Mapping[str, int]
    errors: Sequence[str]
    report: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """A per-item result worth keeping for a run: an error, an unmatched learner, a skip."""

    kind: str  # "course", "learning_path", "statistic", ...
    external_id: str
    outcome: str  # "error", "unmatched", "skipped", ...
    message: str | None = None
    learner_mail: str | None = None


@dataclass(frozen=True, slots=True)
class ItemOutcomeRow:
    """A stored per-item outcome of a run."""

    outcome_id: int
    run_id: int
    connection_id: str
    kind: str
    external_id: str
    learner_mail: str | None
    outcome: str
    message: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BulkOpRow:
    """A submitted 360Learning bulk operation, kept so a crashed run resumes by polling it."""

    op_id: str
    connection_id: str
    run_id: int | None
    op_type: str
    item_count: int
    status: str
    submitted_at: datetime
    finished_at: datetime | None
    context: Mapping[str, object] = field(default_factory=dict)


BULK_OP_PENDING = "pending"
