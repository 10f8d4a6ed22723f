"""Map a Udemy course-activity row to a 360Learning v2 statistic (DESIGN.md activity table).

360Learning keys attempts on ``firstActivityAt``: a later value opens a second attempt
(research/360learning-api.md §15.2), so the caller passes the value it first sent. v2 has no
``completedAt``: completion is ``progress: 100`` with ``lastActivityAt`` as the completion date.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from udemy360.learning360.models import ExternalStatistic, format_timestamp
from udemy360.mapping.hashing import wire_hash
from udemy360.mapping.language import v2_language
from udemy360.udemy.models import UdemyCourseActivity

MIN_TIME_SPENT_MS: Final = 1  # the stats API rejects 0 — research/360learning-api.md §15.3
COMPLETE: Final = 100

SkipReason = Literal["no_email", "invalid_email", "no_dates"]


@dataclass(frozen=True, slots=True)
class MappedStatistic:
    """A statistic ready to send, keyed by course and learner, with its change hash."""

    external_course_id: str
    learner_mail: str
    statistic: ExternalStatistic
    completed: bool
    """True when 360Learning will record the attempt as completed (progress 100)."""
    hash: str


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """An activity row that cannot become a statistic; counted in the run report."""

    reason: SkipReason
    course_id: int | None
    detail: str


_WHITESPACE: Final = re.compile(r"\s")


def normalize_email(raw: str | None) -> str | None:
    """Return ``raw`` trimmed and lower-cased if it is a plausible address, else None.

    Plausible: exactly one ``@``, a non-empty local part, a dotted domain without empty labels,
    no whitespace. Udemy anonymises some learners as "Anonymized User" (research/udemy-api.md §3.4).
    """
    email = (raw or "").strip().lower()
    if email.count("@") != 1 or _WHITESPACE.search(email):
        return None
    local, domain = email.split("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(labels):
        return None
    return email


def _utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value is taken to be UTC already (Udemy sends ``Z``)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _progress(ratio: float | None) -> int:
    """Return ``completion_ratio`` (0..100) rounded down and clamped: 99.6 must not complete."""
    if ratio is None or math.isnan(ratio):
        return 0
    if math.isinf(ratio):
        return COMPLETE if ratio > 0 else 0
    return min(max(math.floor(ratio), 0), COMPLETE)


def _time_spent(minutes: float | None) -> int:
    """Return video minutes as milliseconds, at least 1 (1 when unknown or beyond a float)."""
    if minutes is None or not math.isfinite(minutes * 60_000):
        return MIN_TIME_SPENT_MS
    return max(round(minutes * 60_000), MIN_TIME_SPENT_MS)


def map_activity(
    row: UdemyCourseActivity,
    *,
    course_lang: str | None,
    first_activity_at: datetime | None = None,
) -> MappedStatistic | SkippedRow:
    """Map one activity row, or say why it is skipped.

    Args:
        row: the Udemy row.
        course_lang: the course's ``defaultLang``, sent as ``lang``.
        first_activity_at: the ``firstActivityAt`` this enrollment was first sent with (from the
            store). When given it wins over the row's dates, so the attempt never changes.
    """
    if row.user_email is None or not row.user_email.strip():
        return SkippedRow("no_email", row.course_id, "activity row has no user email")
    mail = normalize_email(row.user_email)
    if mail is None:
        # The address itself stays out of the detail: reports are shown to admins and logged.
        return SkippedRow("invalid_email", row.course_id, "user email is not a usable address")

    first_raw = first_activity_at or row.course_start_date or row.course_enroll_date
    if first_raw is None:
        return SkippedRow("no_dates", row.course_id, "no start or enroll date")
    first = _utc(first_raw)
    last = _utc(row.course_last_accessed_date) if row.course_last_accessed_date else first

    # Completion is final on Udemy's side too; the first completion date covers a row whose
    # latest completion date was cleared (research/udemy-api.md §3.4).
    completed_at = row.course_completion_date or row.course_first_completion_date
    if completed_at is not None:
        progress = COMPLETE
        last = _utc(completed_at)
    else:
        progress = _progress(row.completion_ratio)
    # An attempt cannot end before it starts: 360Learning would see an inverted attempt.
    last = max(last, first)

    course_id = str(row.course_id)
    lang = v2_language(course_lang)
    # The wire form is built here once and hashed as it is (``wire_hash``): the same JSON that
    # ``payload_hash(statistic)`` would get from ``model_dump``, at a fraction of the cost.
    wire: dict[str, object] = {
        "courseIdentifier": {"type": "externalId", "value": course_id},
        "userIdentifier": {"type": "mail", "value": mail},
        "progress": progress,
        "timeSpent": _time_spent(row.num_video_consumed_minutes),
        "firstActivityAt": first,
        "lastActivityAt": last,
    }
    if lang is not None:
        wire["lang"] = lang
    # one validation in pydantic-core for the whole item, nested identifiers included
    statistic = ExternalStatistic.model_validate(wire)
    wire["firstActivityAt"] = format_timestamp(first)
    wire["lastActivityAt"] = format_timestamp(last)
    return MappedStatistic(
        external_course_id=course_id,
        learner_mail=mail,
        statistic=statistic,
        completed=progress == COMPLETE,
        hash=wire_hash(wire),
    )
