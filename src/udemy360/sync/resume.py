"""What a run keeps of a batch while its bulk operation is in flight, stored for crash-resume.

Each submitted batch is recorded with its bulk operation before the run waits for it (STYLE
§4.7). The record holds, per item, exactly what recording its result needs — not the payload —
so a run that resumes the operation after a crash records the results as the crashed run would
have. Records are frozen dataclasses (cheap to build, 10,000 per batch), serialised by field
name through pydantic under a version number: a record written by an older version (or
damaged) reads back as ``None``, and the caller falls back to re-sending those items on the
next listing (an idempotent upsert).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

from pydantic import TypeAdapter, ValidationError

from udemy360.domain import ItemKind
from udemy360.sync.plan import ItemAction

#: Bumped whenever a record's fields change meaning; older records are not trusted.
RESUME_VERSION: Final = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class SentItem:
    """A catalog item in flight: what recording its upsert result needs."""

    external_id: str
    kind: ItemKind
    udemy_id: int
    hash: str
    video_url: str | None = None
    action: ItemAction
    attempts: int = 0
    course_id: str | None = None
    tag_names: tuple[str, ...] = ()
    default_lang: str | None = None
    is_new: bool = False
    """No store row before this run: 360Learning cannot have tags on it yet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SentArchive:
    """A catalog item whose archiving is in flight."""

    external_id: str
    kind: ItemKind


@dataclass(frozen=True, slots=True, kw_only=True)
class SentStat:
    """A statistic in flight: the store row it becomes once 360Learning answers."""

    course: str
    learner: str
    """The learner's Udemy email (normalised): the store's key, whatever identifier was sent."""
    user_id: str | None = None
    """360Learning user id when the learner was sent by id (an aliased learner)."""
    hash: str
    first_activity_at: datetime
    completed: bool
    was_sent: bool = False
    prior_first_activity_at: datetime | None = None
    prior_completed: bool = False
    attempts: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """The store's key of this statistic: (course external id, learner's Udemy email)."""
        return (self.course, self.learner)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemBatch:
    """The items of one catalog upsert."""

    items: tuple[SentItem, ...]
    version: int = RESUME_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveBatch:
    """The items of one archive operation."""

    items: tuple[SentArchive, ...]
    version: int = RESUME_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class StatBatch:
    """The statistics of one statistics import."""

    items: tuple[SentStat, ...]
    version: int = RESUME_VERSION


Batch = ItemBatch | ArchiveBatch | StatBatch
_B = TypeVar("_B", ItemBatch, ArchiveBatch, StatBatch)

# pydantic writes and checks the records by field name only when a batch is stored or read
_ADAPTERS: Final[dict[type[Batch], TypeAdapter[Batch]]] = {
    kind: TypeAdapter(kind) for kind in (ItemBatch, ArchiveBatch, StatBatch)
}


def dump(batch: Batch) -> dict[str, object]:
    """The JSON-ready context stored with the bulk operation."""
    data: dict[str, object] = _ADAPTERS[type(batch)].dump_python(batch, mode="json")
    return data


def load(kind: type[_B], context: Mapping[str, object]) -> _B | None:
    """The batch stored with an operation; ``None`` when absent, older or damaged."""
    if context.get("version") != RESUME_VERSION:
        return None
    try:
        batch = _ADAPTERS[kind].validate_python(context)
    except ValidationError:
        return None
    return batch if isinstance(batch, kind) else None
