"""Builders of valid 360Learning payloads for the client tests."""

from __future__ import annotations

from datetime import UTC, datetime

from udemy360.learning360 import (
    CourseIdentifier,
    ExternalCourse,
    ExternalStatistic,
    IntegrationSettings,
    Source,
    UserIdentifier,
)


def course(i: int, **changes: object) -> ExternalCourse:
    """A valid external course with ``externalId`` ``str(i)``."""
    fields: dict[str, object] = {
        "external_id": str(i),
        "name": f"Course {i}",
        "default_lang": "en",
        "launch_url": f"https://acme.udemy.com/course/{i}/",
        "sources": [Source(name="Udemy")],
        "subjects": ["Development"],
        "duration": 90,
        "difficulty_level": "beginner",
    }
    fields.update(changes)
    return ExternalCourse.model_validate(fields)


def statistic(external_id: str, mail: str, progress: int = 40) -> ExternalStatistic:
    """A valid statistic row for a learner on a course."""
    return ExternalStatistic(
        course_identifier=CourseIdentifier(type="externalId", value=external_id),
        user_identifier=UserIdentifier(type="mail", value=mail),
        progress=progress,
        time_spent=60_000,
        first_activity_at=datetime(2025, 7, 1, 8, 0, tzinfo=UTC),
        last_activity_at=datetime(2025, 7, 2, 9, 30, tzinfo=UTC),
    )


def settings(group_id: str, author_id: str, name: str = "Acme Udemy") -> IntegrationSettings:
    """Integration settings as the connector sends them (DESIGN.md, Integration)."""
    return IntegrationSettings(
        external_platform=name,
        group_id=group_id,
        author_id=author_id,
        default_completion=True,
        default_progress=0,
        no_group_propagation=False,
    )
