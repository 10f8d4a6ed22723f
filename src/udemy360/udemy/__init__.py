"""Udemy Business API client: typed models, paginated streams, errors."""

from __future__ import annotations

from udemy360.udemy.client import UdemyClient
from udemy360.udemy.errors import (
    UdemyAuthError,
    UdemyConfigError,
    UdemyError,
    UdemyRateLimited,
    UdemyResponseError,
    UdemyTransportError,
)
from udemy360.udemy.models import (
    UdemyCategory,
    UdemyCourse,
    UdemyCourseActivity,
    UdemyCredentials,
    UdemyEditor,
    UdemyLearningPath,
    UdemyLearningPathItem,
    UdemyLearningPathSection,
    UdemyPromoVideo,
    safe_text,
)
from udemy360.udemy.pagination import ListingStop, RecordProblem, UdemyPage

__all__ = [
    "ListingStop",
    "RecordProblem",
    "UdemyAuthError",
    "UdemyCategory",
    "UdemyClient",
    "UdemyConfigError",
    "UdemyCourse",
    "UdemyCourseActivity",
    "UdemyCredentials",
    "UdemyEditor",
    "UdemyError",
    "UdemyLearningPath",
    "UdemyLearningPathItem",
    "UdemyLearningPathSection",
    "UdemyPage",
    "UdemyPromoVideo",
    "UdemyRateLimited",
    "UdemyResponseError",
    "UdemyTransportError",
    "safe_text",
]
