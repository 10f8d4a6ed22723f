"""What identifies one item of a bulk operation, as we send it and as 360Learning echoes it.

A course upsert or archive item is identified by its ``externalId`` (a plain ``str``); a statistic
by its :class:`StatisticKey`. Results echo each submitted item in ``input``
(research/360learning-api.md §10.2), so the readers below recover the key from an echo and the
engine never parses 360Learning JSON itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from udemy360.learning360.models import ExternalStatistic

LearnerIdType = Literal["mail", "internalId"]


@dataclass(frozen=True, slots=True)
class StatisticKey:
    """A statistic's identity: course ``externalId`` and the learner's identifier.

    360Learning keys an attempt by the couple (courseIdentifier.value, userIdentifier.value)
    (bulk-api ``importExternalStatistics``, research/360learning-api.md §15.2). A mail is kept
    lower-cased, so ``Jane@X.com`` and ``jane@x.com`` are one key.
    """

    external_id: str
    learner_type: LearnerIdType
    learner: str

    def __post_init__(self) -> None:
        if self.learner_type == "mail":
            lowered = self.learner.lower()
            if lowered != self.learner:
                object.__setattr__(self, "learner", lowered)


def statistic_key(stat: ExternalStatistic) -> StatisticKey:
    """Return the key of a statistic we send (its course must be named by ``externalId``).

    Raises:
        ValueError: the statistic names its course by 360Learning id, which no key covers.
    """
    course, user = stat.course_identifier, stat.user_identifier
    if course.type != "externalId":
        raise ValueError("a statistic key needs the course's externalId")
    return StatisticKey(course.value, user.type, user.value)


def echoed_course_key(echo: Mapping[str, object]) -> str | None:
    """Return the ``externalId`` an echoed course item names, or None when it names none."""
    value = echo.get("externalId")
    return value if isinstance(value, str) and value else None


def echoed_statistic_key(echo: Mapping[str, object]) -> StatisticKey | None:
    """Return the key an echoed statistic names, or None when it names no key we could send."""
    course, user = echo.get("courseIdentifier"), echo.get("userIdentifier")
    if not isinstance(course, dict) or not isinstance(user, dict):
        return None
    course_value, user_type, user_value = course.get("value"), user.get("type"), user.get("value")
    if course.get("type") != "externalId" or not isinstance(course_value, str) or not course_value:
        return None
    if not isinstance(user_value, str) or not user_value:
        return None
    if user_type == "mail":
        return StatisticKey(course_value, "mail", user_value)
    if user_type == "internalId":
        return StatisticKey(course_value, "internalId", user_value)
    return None


def echoes_statistic(echo: Mapping[str, object], key: StatisticKey) -> bool:
    """Whether an echoed statistic names ``key`` (a fast check: builds no key on the way)."""
    # dict, not Mapping: echoes come from json.loads, and an ABC check costs 4x as much
    course, user = echo.get("courseIdentifier"), echo.get("userIdentifier")
    if not isinstance(course, dict) or not isinstance(user, dict):
        return False
    value = user.get("value")
    if not isinstance(value, str):
        return False
    return (
        course.get("type") == "externalId"
        and course.get("value") == key.external_id
        and user.get("type") == key.learner_type
        and (value.lower() if key.learner_type == "mail" else value) == key.learner
    )
