"""Pure mapping from Udemy Business models to 360Learning v2 payloads.

No I/O, no clock, no settings: every input is an argument (``MappingContext`` for run-wide
values). Items that cannot be mapped come back as ``MappingProblem``/``SkippedRow`` values, never
as exceptions. The rules are DESIGN.md's three mapping tables; ``docs/mapping.md`` lists them.
"""

from __future__ import annotations

from udemy360.learning360.models import DifficultyLevel
from udemy360.mapping.context import MappedCourse, MappingContext, MappingProblem
from udemy360.mapping.courses import map_course, subjects_for
from udemy360.mapping.fields import (
    IMAGE_SIZES,
    clamp_duration,
    clean_names,
    map_difficulty,
    pick_image,
)
from udemy360.mapping.hashing import MAPPING_VERSION, payload_hash, without_query
from udemy360.mapping.html import ALLOWED_TAGS, sanitize_description
from udemy360.mapping.language import map_language, v2_language
from udemy360.mapping.learning_paths import map_learning_path, path_external_id
from udemy360.mapping.statistics import (
    MappedStatistic,
    SkippedRow,
    SkipReason,
    map_activity,
    normalize_email,
)
from udemy360.mapping.urls import (
    UDEMY_HOSTS,
    RejectedUrl,
    image_url,
    launch_hosts,
    launch_url,
)

__all__ = [
    "ALLOWED_TAGS",
    "IMAGE_SIZES",
    "MAPPING_VERSION",
    "UDEMY_HOSTS",
    "DifficultyLevel",
    "MappedCourse",
    "MappedStatistic",
    "MappingContext",
    "MappingProblem",
    "RejectedUrl",
    "SkipReason",
    "SkippedRow",
    "clamp_duration",
    "clean_names",
    "image_url",
    "launch_hosts",
    "launch_url",
    "map_activity",
    "map_course",
    "map_difficulty",
    "map_language",
    "map_learning_path",
    "normalize_email",
    "path_external_id",
    "payload_hash",
    "pick_image",
    "sanitize_description",
    "subjects_for",
    "v2_language",
    "without_query",
]
