"""Map a public Udemy learning path to a 360Learning v2 external course (DESIGN.md path table).

A path becomes one course named ``[Learning Path] {title}`` whose description links to every
item, as the spec describes. Its ``externalId`` is ``lp-{id}`` because Udemy course ids and path
ids share one number space.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from udemy360.learning360.models import ExternalCourse
from udemy360.mapping.context import MappedCourse, MappingContext, MappingProblem
from udemy360.mapping.fields import clamp_duration, pick_image, sources_for
from udemy360.mapping.hashing import payload_hash
from udemy360.mapping.html import link_list, sanitize_description
from udemy360.mapping.urls import RejectedUrl, launch_url, link_url
from udemy360.udemy.models import UdemyLearningPath, UdemyLearningPathItem

NAME_PREFIX: Final = "[Learning Path] "
PATH_LANGUAGE: Final = "en"  # the API returns no language for paths (spec, path table)


def path_external_id(path_id: int) -> str:
    """Return the ``externalId`` of learning path ``path_id``."""
    return f"lp-{path_id}"


def _ordered_items(path: UdemyLearningPath) -> Iterator[UdemyLearningPathItem]:
    """Yield every item in section order, then item order (API order breaks ties)."""
    sections = sorted(path.sections, key=lambda s: (s.order is None, s.order or 0))
    for section in sections:
        yield from sorted(section.items, key=lambda i: (i.order is None, i.order or 0))


def _description(path: UdemyLearningPath, ctx: MappingContext) -> str | None:
    """Return the sanitised path description followed by a list linking every item.

    Items without a usable URL are listed as plain text (the learner still sees the path's
    structure); items without a title are skipped. An item may be an external article, so its
    link may be on any host (``link_url``), unlike the path's own launch URL.
    """
    entries = [
        (item.title.strip(), link_url(item.url, ctx.account_name))
        for item in _ordered_items(path)
        if item.title and item.title.strip()
    ]
    intro = sanitize_description(path.description) or ""
    # Sanitising the assembled HTML again drops item hrefs with a disallowed scheme.
    return sanitize_description(intro + link_list(entries))


def _image(path: UdemyLearningPath) -> str | None:
    """Return the path's own image, else the first item thumbnail with a preferred size."""
    own = pick_image(path.images)
    if own is not None:
        return own
    for item in _ordered_items(path):
        thumbnail = pick_image(item.thumbnail)
        if thumbnail is not None:
            return thumbnail
    return None


def map_learning_path(
    path: UdemyLearningPath, ctx: MappingContext
) -> MappedCourse | MappingProblem:
    """Map one learning path; a private path, empty title or unusable launch URL is a problem."""
    external_id = path_external_id(path.id)
    # Only public paths are synced; the client drops the others, this is the second guard.
    if path.is_public is False:
        return MappingProblem(external_id, path.id, "learning path is not public")
    title = path.title.strip()
    if not title:
        return MappingProblem(external_id, path.id, "learning path has an empty title")
    url = launch_url(path.url, ctx.account_name, hosts=ctx.launch_hosts)
    if isinstance(url, RejectedUrl):
        return MappingProblem(external_id, path.id, f"learning path {url.reason}")
    payload = ExternalCourse(
        external_id=external_id,
        name=f"{NAME_PREFIX}{title}",
        default_lang=PATH_LANGUAGE,
        launch_url=url,
        sources=sources_for(editor.display_name for editor in path.editors),
        subjects=[],
        description=_description(path, ctx),
        image_url=_image(path),
        duration=clamp_duration(path.estimated_content_length),
    )
    return MappedCourse(
        kind="learning_path",
        external_id=external_id,
        udemy_id=path.id,
        payload=payload,
        tag_names=(),
        video_url=None,
        hash=payload_hash(payload),
    )
