"""Plain values going into and coming out of the store.

Rows are frozen dataclasses, never ORM objects: callers (the async engine, the web UI) can pass
them between threads without lazy loads or detached-instance surprises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from udemy360.domain import ItemKind


class ItemState(StrEnum):
    """Where a catalog item stands in 360Learning."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    FAILED = "failed"


class StatState(StrEnum):
    """What happened to the last statistic built for one (course, learner) pair."""

    SENT = "sent"
    # the learner is unknown to 360Learning: kept with its payload, sent once the learner appears
    UNMATCHED = "unmatched"
    FAILED = "failed"
    HELD = "held"  # the course is not (yet) synced and active; sent once it is


class RunStatus(StrEnum):
    """Outcome of a run; PARTIAL means it finished but some items failed.

    REFUSED: the mass-archive guard stopped a catalog run; LOCKED: another run held the
    connection's lock, so this one did nothing; INTERRUPTED: its process died or lost the lease
    before it finished, and the next run of the connection closed it (with its last saved counts).
    """

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    ABORTED = "aborted"
    REFUSED = "refused"
    LOCKED = "locked"
    INTERRUPTED = "interrupted"


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
    """The outcome of sending one catalog item, written by ``store.items.upsert``.

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
    unmatched_since: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The (external course id, learner mail) pair the row is keyed by."""
        return (self.external_course_id, self.learner_mail)


@dataclass(frozen=True, slots=True)
class StatUpdate:
    """The outcome of building or sending one statistic, written by ``store.stats.upsert``.

    Two rules of DESIGN.md are enforced by the store itself: `first_activity_at` never changes
    once the row has been sent (a new value makes 360Learning open a second attempt), and
    `completed` never goes back to False (completion is final). Set `completed` only once
    360Learning accepted the completion. `last_sent_at` keeps its stored value when None;
    the other fields are overwritten, so a None `payload` (kept for held, unmatched and failed
    rows, to send them from the store later) clears it, and `attempts`/`next_retry_at` (failed
    rows' backoff) are reset by any update that does not give them. The store stamps
    `unmatched_since` itself: when a row first becomes unmatched, kept while it stays so.
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


@dataclass(frozen=True, slots=True)
class UnmatchedLearner:
    """A learner Udemy reports whom 360Learning does not know, with the rows waiting for them."""

    mail: str
    courses: int
    course_ids: Sequence[str]
    first_seen: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class UnmatchedSummary:
    """What waits for learners 360Learning does not know: rows, learners, courses, since when."""

    rows: int
    learners: int
    courses: int
    first_seen: datetime | None


@dataclass(frozen=True, slots=True)
class LearnerUpdate:
    """One 360Learning user as read from ``GET /api/v2/users`` (``mail``, ``_id``, ``status``)."""

    mail: str
    user_id: str
    status: str  # "active", "invited" or "deleted" (core-api.openapi.json, UserDTO)


@dataclass(frozen=True, slots=True)
class LearnerRow:
    """A 360Learning user in the connection's learner directory; `mail` is lower-case."""

    connection_id: str
    mail: str
    user_id: str
    status: str
    seen_at: datetime


AliasKind = Literal["mail", "domain"]
"""An explicit mail alias (one learner) or a domain rewrite (every learner of a domain)."""


@dataclass(frozen=True, slots=True)
class Alias:
    """A rule matching a Udemy learner to a 360Learning user when their mails disagree.

    ``mail``: `source` is a Udemy mail and `target` the 360Learning mail; ``domain``: both are
    domains (without ``@``), and a mail of the source domain is looked up in the target one.
    """

    kind: AliasKind
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class AliasRow:
    """A stored alias rule of one connection (values trimmed and lower-case)."""

    connection_id: str
    kind: AliasKind
    source: str
    target: str
    created_at: datetime
