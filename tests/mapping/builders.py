"""Builders for the Udemy models the mapping tests feed in (validated like API responses)."""

from __future__ import annotations

from datetime import UTC, datetime

from udemy360.udemy.models import UdemyCourse, UdemyCourseActivity, UdemyLearningPath

ACCOUNT = "acme"

IMAGES = {
    "size_240x135": "https://img-c.udemycdn.com/course/240x135/1_a.jpg",
    "size_304x171": "https://img-c.udemycdn.com/course/304x171/1_a.jpg",
    "size_480x270": "https://img-c.udemycdn.com/course/480x270/1_a.jpg",
    "size_750x422": "https://img-c.udemycdn.com/course/750x422/1_a.jpg",
}


def at(day: int, hour: int = 12) -> datetime:
    """Return an aware UTC datetime in July 2025."""
    return datetime(2025, 7, day, hour, 0, tzinfo=UTC)


def course(**overrides: object) -> UdemyCourse:
    """Return a complete course (as ``courses/list/`` sends it) with ``overrides`` applied."""
    data: dict[str, object] = {
        "id": 900920,
        "title": "Planning on one sheet of paper",
        "headline": "Plan faster",
        "description": "<p>Learn to <strong>plan</strong>.</p>",
        "url": "https://acme.udemy.com/course/planning/",
        "estimated_content_length": 178,
        "categories": ["Marketing Strategy"],
        "primary_category": {"id": 316, "title": "Marketing", "url": "/courses/ufb-marketing/"},
        "primary_subcategory": {
            "id": 458,
            "title": "Marketing Strategy",
            "url": "/courses/ufb-marketing/ufb-marketing-strategy/",
        },
        "topics": [],
        "instructors": ["Ann Teacher"],
        "locale": "en_US",
        "images": dict(IMAGES),
        "promo_video_url": [
            {
                "type": "video/mp4",
                "label": "360",
                "file": "https://mp4.udemycdn.com/360.mp4?Expires=1",
            },
            {
                "type": "video/mp4",
                "label": "720",
                "file": "https://mp4.udemycdn.com/720.mp4?Expires=1",
            },
        ],
        "level": "Beginner",
        "mobile_native_deeplink": "udemyufb://discover?coursePublishedTitle=planning",
        "last_update_date": "2024-12-28",
    }
    data.update(overrides)
    return UdemyCourse.model_validate(data)


def item(
    item_id: int, title: str, url: str | None, order: int, **extra: object
) -> dict[str, object]:
    """Return one learning-path item as the API sends it."""
    return {
        "id": item_id,
        "title": title,
        "url": url,
        "type": "course",
        "duration": 60.0,
        "order": order,
        "thumbnail": {},
        "resource_url": None,
        **extra,
    }


def learning_path(**overrides: object) -> UdemyLearningPath:
    """Return a public learning path with two sections, with ``overrides`` applied."""
    data: dict[str, object] = {
        "id": 4567,
        "title": "Cloud Engineer Onboarding",
        "description": "<p>Path description</p>",
        "url": "https://acme.udemy.com/learning-paths/4567/",
        "editors": [{"display_name": "Ann Admin", "email": "ann@acme.com"}],
        "estimated_content_length": 1260,
        "last_modified": "2023-06-12T16:40:03Z",
        "is_public": True,
        "is_pro_path": False,
        "images": {},
        "sections": [
            {
                "id": 2,
                "title": "Advanced",
                "order": 2,
                "items": [item(3, "Kubernetes", "/course/k8s/", 1)],
            },
            {
                "id": 1,
                "title": "Basics",
                "order": 1,
                "items": [
                    item(2, "Linux", "https://acme.udemy.com/course/linux/", 2),
                    item(1, "AWS Fundamentals", "https://acme.udemy.com/course/aws/", 1),
                ],
            },
        ],
    }
    data.update(overrides)
    return UdemyLearningPath.model_validate(data)


def activity(**overrides: object) -> UdemyCourseActivity:
    """Return an in-progress activity row with ``overrides`` applied."""
    data: dict[str, object] = {
        "user_email": "Ada@Acme.com",
        "course_id": 900920,
        "completion_ratio": 42.0,
        "num_video_consumed_minutes": 61.5,
        "course_enroll_date": "2025-07-01T10:00:00Z",
        "course_start_date": "2025-07-02T10:00:00Z",
        "course_completion_date": None,
        "course_first_completion_date": None,
        "course_last_accessed_date": "2025-07-08T22:00:00Z",
    }
    data.update(overrides)
    return UdemyCourseActivity.model_validate(data)
