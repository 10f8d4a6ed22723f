"""Bulk operations as values, the pairing of results with inputs, and our share of the slots.

360Learning runs at most 3 bulk operations per company at once, across every tool the customer
uses (research/360learning-api.md §6). ``BulkSlots`` caps how many of those *we* hold, so the
connector leaves room for the others; a slot is taken at submit and given back when the operation
is seen finished (or released explicitly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from udemy360.learning360.models import BulkStatus

TERMINAL_STATUSES: Final = frozenset({"completed", "error"})
MAX_BULK_SLOTS: Final = 3  # per company, all tools together — research/360learning-api.md §6


@dataclass(frozen=True, slots=True)
class BulkOperation:
    """A bulk operation's id and last known state."""

    id: str
    type: str | None
    status: BulkStatus
    error_message: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the operation has ended (``completed`` or ``error``)."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    """The outcome of one submitted item, at ``index`` in the submitted chunk.

    ``key`` is the item's identity (``externalId``, or course/user identifiers for statistics) as
    echoed by 360Learning; ``matched`` is False when it differs from what we sent at that index.
    """

    index: int
    input: dict[str, object]
    ok: bool
    resource_id: str | None
    error_message: str | None
    key: str | None = None
    matched: bool = True


@dataclass(frozen=True, slots=True)
class BulkMismatch:
    """A result whose echoed input is not the item we sent at that position."""

    index: int
    expected_key: str | None
    actual_key: str | None


@dataclass(frozen=True, slots=True)
class BulkResults:
    """All results of one operation, paired with the submitted items."""

    operation_id: str
    items: tuple[BulkItemResult, ...]
    mismatches: tuple[BulkMismatch, ...] = ()
    expected_count: int | None = None

    @property
    def succeeded(self) -> tuple[BulkItemResult, ...]:
        """Items 360Learning accepted."""
        return tuple(item for item in self.items if item.ok)

    @property
    def failed(self) -> tuple[BulkItemResult, ...]:
        """Items 360Learning rejected (each with its ``error_message``)."""
        return tuple(item for item in self.items if not item.ok)

    @property
    def complete(self) -> bool:
        """True when there is exactly one matching result per submitted item."""
        count_ok = self.expected_count is None or self.expected_count == len(self.items)
        return count_ok and not self.mismatches


def item_key(item: Mapping[str, object]) -> str | None:
    """Return the identity of a bulk item in wire form (as sent, or as echoed in ``input``)."""
    external_id = item.get("externalId")
    if isinstance(external_id, str):
        return external_id
    course, user = item.get("courseIdentifier"), item.get("userIdentifier")
    if isinstance(course, Mapping) and isinstance(user, Mapping):
        return f"{course.get('type')}:{course.get('value')}|{user.get('type')}:{user.get('value')}"
    return None


def pair_results(
    operation_id: str, results: Sequence[BulkItemResult], sent_keys: Sequence[str | None] | None
) -> BulkResults:
    """Pair results with the submitted items by position, checking each echoed key.

    360Learning returns one result per input, in input order (research/360learning-api.md §10.2);
    a result whose ``input`` names another item is reported as a mismatch rather than trusted.
    """
    if sent_keys is None:
        return BulkResults(operation_id=operation_id, items=tuple(results))
    items: list[BulkItemResult] = []
    mismatches: list[BulkMismatch] = []
    for result in results:
        expected = sent_keys[result.index] if result.index < len(sent_keys) else None
        matched = expected is not None and expected == result.key
        if not matched:
            mismatches.append(BulkMismatch(result.index, expected, result.key))
        items.append(
            BulkItemResult(
                index=result.index,
                input=result.input,
                ok=result.ok,
                resource_id=result.resource_id,
                error_message=result.error_message,
                key=result.key,
                matched=matched,
            )
        )
    return BulkResults(
        operation_id=operation_id,
        items=tuple(items),
        mismatches=tuple(mismatches),
        expected_count=len(sent_keys),
    )


def operation_id_from_location(location: str) -> str:
    """Return the operation id: the last path segment of the 202's ``Location`` header."""
    path = urlsplit(location).path.rstrip("/")
    op_id = path.rsplit("/", 1)[-1]
    if not op_id or "/bulk/operations" not in path:
        raise ValueError(f"not a bulk operation URL: {location!r}")
    return op_id


@dataclass(slots=True)
class BulkSlots:
    """Our share of the company's bulk slots: reservations (submits in flight) plus operations."""

    limit: int
    reserved: int = 0
    operations: set[str] = field(default_factory=set)
    watched: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_BULK_SLOTS:
            raise ValueError(f"max_bulk_in_flight must be between 1 and {MAX_BULK_SLOTS}")

    @property
    def busy(self) -> int:
        """Slots held: submits being sent plus operations not yet seen finished."""
        return self.reserved + len(self.operations)

    def try_reserve(self) -> bool:
        """Take a slot for a submit if one is free (call under ``changed``)."""
        if self.busy < self.limit:
            self.reserved += 1
            return True
        return False

    async def settle(self, operation_id: str | None) -> None:
        """Turn a reservation into a held operation (or drop it when the submit failed)."""
        async with self.changed:
            self.reserved -= 1
            if operation_id is not None:
                self.operations.add(operation_id)
            self.changed.notify_all()

    async def release(self, operation_id: str) -> bool:
        """Give back an operation's slot; returns whether it was held."""
        async with self.changed:
            held = operation_id in self.operations
            self.operations.discard(operation_id)
            self.changed.notify_all()
            return held

    def unwatched(self) -> list[str]:
        """Held operations nobody is currently polling (a waiting submit may poll them)."""
        return [op for op in self.operations if not self.watched.get(op)]
