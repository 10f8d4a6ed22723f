"""What a per-item error of a bulk operation means, decided by facts rather than by snippets.

360Learning's results carry only ``errorMessage`` (bulk-api ``ErrorResultDTO``) and document no
wording for an unknown learner (research/360learning-api.md §15.4). So an error is classified:

1. by its ``code``, when 360Learning sends one with the item (``CODE_KINDS``);
2. otherwise by matching the whole message against one of the documented forms of
   ``MESSAGE_FORMS`` — anchored patterns whose placeholders must name the very item we sent;
3. otherwise it is ``OTHER``: a failure, never a silent skip.

The connector prefers the learner directory (``GET /api/v2/users``) to all of this; the
classification is the fallback for credentials without ``users:read``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from udemy360.learning360.keys import StatisticKey


class ItemErrorKind(StrEnum):
    """Why 360Learning refused one item (or why it has no result)."""

    UNKNOWN_LEARNER = "unknown_learner"
    DELETED_LEARNER = "deleted_learner"
    UNKNOWN_COURSE = "unknown_course"
    NO_RESULT = "no_result"  # the operation gave no result we could pair with the item
    OTHER = "other"


_LEARNER_KINDS: Final = frozenset({ItemErrorKind.UNKNOWN_LEARNER, ItemErrorKind.DELETED_LEARNER})

# Error codes 360Learning uses for these facts elsewhere in API v2 (core-api.openapi.json: the
# 404/400 bodies of the users, paths and classrooms endpoints; research/360learning-api.md §8).
CODE_KINDS: Final[Mapping[str, ItemErrorKind]] = {
    # "The given user does not correspond to any existing and non-deleted user."
    "userNotFound": ItemErrorKind.UNKNOWN_LEARNER,
    # "At least one of the given users does not correspond to any existing and non-deleted user."
    "usersNotFound": ItemErrorKind.UNKNOWN_LEARNER,
    # "The given `userId` corresponds to a deleted user."
    "userDeleted": ItemErrorKind.DELETED_LEARNER,
    # "The given `courseId` does not correspond to any existing course."
    "courseNotFound": ItemErrorKind.UNKNOWN_COURSE,
    # "The given `externalId` does not belong to the given integration." (research §12.1)
    "courseNotBelongToIntegration": ItemErrorKind.UNKNOWN_COURSE,
}


@dataclass(frozen=True, slots=True)
class MessageForm:
    """One documented wording: a template with placeholders, and what it means.

    Placeholders: ``<learner>`` (must be the learner we sent), ``<code>`` (a camelCase error
    code, classified by ``CODE_KINDS``) and ``<text>`` (anything). Literal text matches
    case-insensitively; the whole message must match.
    ``kind`` is None for forms that carry a code.
    """

    template: str
    kind: ItemErrorKind | None
    source: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.template))


_PLACEHOLDERS: Final = {
    "<learner>": r"(?P<learner>.+?)",
    "<code>": r"(?P<code>[a-z][A-Za-z0-9]*)",
    "<text>": r".*",
}


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(<learner>|<code>|<text>)", template)
    body = "".join(_PLACEHOLDERS.get(part) or re.escape(part) for part in parts)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


# Every wording the classifier knows, with where it comes from. Add a form only with its source.
MESSAGE_FORMS: Final[tuple[MessageForm, ...]] = (
    MessageForm(
        "User '<learner>' not found.",
        ItemErrorKind.UNKNOWN_LEARNER,
        "a wording reported from a 360Learning platform for an unknown learner's statistic",
    ),
    MessageForm(
        "The given user does not correspond to any existing and non-deleted user.",
        ItemErrorKind.UNKNOWN_LEARNER,
        "core-api.openapi.json: the description of the userNotFound error",
    ),
    MessageForm(
        "The given `userId` corresponds to a deleted user.",
        ItemErrorKind.DELETED_LEARNER,
        "core-api.openapi.json: the description of the userDeleted error",
    ),
    MessageForm(
        "No user has the mail '<learner>'.",
        ItemErrorKind.UNKNOWN_LEARNER,
        "the 360Learning sandbox: userNotFound message for a mail",
    ),
    MessageForm(
        "No user has the ID <learner>.",
        ItemErrorKind.UNKNOWN_LEARNER,
        "the 360Learning sandbox: userNotFound message for a user id",
    ),
    MessageForm(
        "The given `externalId` does not belong to the given integration.",
        ItemErrorKind.UNKNOWN_COURSE,
        "bulk/core-api.openapi.json: the description of courseNotBelongToIntegration (§12.1)",
    ),
    MessageForm(
        "The given `courseId` does not correspond to any existing course.",
        ItemErrorKind.UNKNOWN_COURSE,
        "core-api.openapi.json: the description of the courseNotFound error",
    ),
    MessageForm(
        "<code>: <text>",
        None,
        "the 360Learning sandbox: per-item messages start with the error code "
        "(e.g. 'userNotFound: no 360Learning user matches …')",
    ),
)


def classify_item_error(
    key: str | StatisticKey, message: str | None, code: str | None = None
) -> ItemErrorKind:
    """Classify 360Learning's error for the item sent under ``key``.

    ``key`` is a course's ``externalId`` (upsert, archive) or a :class:`StatisticKey`; learner
    kinds apply to statistics only (on a course upsert, ``userNotFound`` is about its author).
    """
    if code:
        return _allowed(CODE_KINDS.get(code, ItemErrorKind.OTHER), key)
    text = (message or "").strip()
    for form in MESSAGE_FORMS:
        match = form.pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        if form.kind is None:
            kind = CODE_KINDS.get(groups.get("code") or "", ItemErrorKind.OTHER)
        elif _names_learner(groups.get("learner"), key):
            kind = form.kind
        else:
            continue
        return _allowed(kind, key)
    return ItemErrorKind.OTHER


def _allowed(kind: ItemErrorKind, key: str | StatisticKey) -> ItemErrorKind:
    if kind in _LEARNER_KINDS and not isinstance(key, StatisticKey):
        return ItemErrorKind.OTHER
    return kind


def _names_learner(named: str | None, key: str | StatisticKey) -> bool:
    """Whether a form's ``<learner>`` (if it has one) is the learner we sent."""
    if named is None:
        return True
    if not isinstance(key, StatisticKey):
        return False
    named = named.strip()
    return (named.lower() if key.learner_type == "mail" else named) == key.learner
