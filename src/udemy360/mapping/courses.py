"""Map a Udemy course to a 360Learning v2 external course (DESIGN.md course table).

v2 has no ``authors``, ``tagNames``, ``videoUrl`` or ``courseDuration`` (research/360learning-api.md
§11.1): instructors become ``sources``, categories become ``subjects`` (and tags through the tag
API), the promo video is kept out of the payload, and the duration goes to ``duration``.
"""

from __future__ import annotations

from udemy360.learning360.models import ExternalCourse
from udemy360.mapping.context import MappedCourse, MappingContext, MappingProblem
from udemy360.mapping.fields import (
    clamp_duration,
    clean_names,
    map_difficulty,
    pick_image,
    sources_for,
)
from udemy360.mapping.hashing import payload_hash, without_query
from udemy360.mapping.html import sanitize_description
from udemy360.mapping.language import map_language
from udemy360.mapping.urls import RejectedUrl, launch_url
from udemy360.udemy.models import UdemyCourse


def subjects_for(course: UdemyCourse) -> tuple[str, ...]:
    """Return ``categories``, then the primary category and subcategory titles, de-duplicated.

    Duplicates are found case-insensitively and the first spelling wins: ``categories`` usually
    repeats the subcategory title (research/udemy-api.md §3.3).
    """
    titles: list[str | None] = list(course.categories)
    for category in (course.primary_category, course.primary_subcategory):
        if category is not None:
            titles.append(category.title)
    return clean_names(titles, case_insensitive=True)


def map_course(course: UdemyCourse, ctx: MappingContext) -> MappedCourse | MappingProblem:
    """Map one Udemy course; an empty title or an unusable launch URL gives a ``MappingProblem``.

    An unusable image is left out (``pick_image``): the course is still sent.
    """
    external_id = str(course.id)
    name = course.title.strip()
    if not name:
        return MappingProblem(external_id, course.id, "course has an empty title")
    url = launch_url(course.url, ctx.account_name, hosts=ctx.launch_hosts)
    if isinstance(url, RejectedUrl):
        return MappingProblem(external_id, course.id, f"course {url.reason}")
    subjects = subjects_for(course)
    payload = ExternalCourse(
        external_id=external_id,
        name=name,
        default_lang=map_language(course.locale, ctx.owner_lang),
        launch_url=url,
        sources=sources_for(course.instructors),
        subjects=list(subjects),
        description=sanitize_description(course.description),
        image_url=pick_image(course.images),
        duration=clamp_duration(course.estimated_content_length),
        difficulty_level=map_difficulty(course.level),
    )
    tag_names = subjects if ctx.tags_enabled else ()
    video_url = course.best_promo_video
    digest = payload_hash(
        payload,
        {
            # None (tags off) differs from [] (tags on, no category): toggling re-sends.
            "tags": list(tag_names) if ctx.tags_enabled else None,
            "video": without_query(video_url),
        },
    )
    return MappedCourse(
        kind="course",
        external_id=external_id,
        udemy_id=course.id,
        payload=payload,
        tag_names=tag_names,
        video_url=video_url,
        hash=digest,
    )
