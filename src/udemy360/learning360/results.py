"""A bulk operation's results as typed values, keyed by what was sent and checked item by item.

360Learning returns one result per input, in input order, each echoing its input
(research/360learning-api.md §10.2). Results are paired with the sent keys by position, and each
pairing is checked against the echo: a result that names another item, that comes past the end,
or that cannot be read is *unpaired* — an error of the operation, reported and never trusted —
and the item sent at that position gets a ``NO_RESULT`` failure, as does every item left without
a result. So every sent key has exactly one :class:`ItemResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, Literal, TypeVar

from udemy360.learning360.item_errors import ItemErrorKind, classify_item_error
from udemy360.learning360.keys import (
    StatisticKey,
    echoed_course_key,
    echoed_statistic_key,
    echoes_statistic,
)

K = TypeVar("K", bound=Hashable)

NO_RESULT_MESSAGE: Final = "no result for this item"
OTHER_ITEM_MESSAGE: Final = "the result at this item's position names another item"
UNREADABLE_MESSAGE: Final = "the result at this item's position could not be read"

UnpairedReason = Literal["other_item", "extra", "unreadable"]


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why an item failed: 360Learning's code (if it sent one), its message, and what it means."""

    kind: ItemErrorKind
    message: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ItemResult(Generic[K]):
    """The outcome of the item sent under ``key`` at ``index`` of the chunk.

    ``resource_id`` is the id of what 360Learning created or changed: the course id for a course
    upsert or archive, the attempt id for a statistic.
    """

    key: K
    index: int
    resource_id: str | None = None
    error: ItemError | None = None

    @property
    def ok(self) -> bool:
        """Whether 360Learning accepted the item."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class UnpairedResult(Generic[K]):
    """A result that could not be paired with what was sent at its position.

    ``index`` is its position in 360Learning's results; ``expected`` what we sent there (None
    past the end); ``echoed`` the key its input names (None when it names none we can read).
    """

    index: int
    reason: UnpairedReason
    expected: K | None
    echoed: K | None


@dataclass(frozen=True, slots=True)
class BulkOutcome(Generic[K]):
    """Every sent item's result, in sent order, plus the results that could not be paired."""

    operation_id: str
    items: tuple[ItemResult[K], ...]
    unpaired: tuple[UnpairedResult[K], ...] = ()
    result_count: int = 0
    _by_key: Mapping[K, ItemResult[K]] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[ItemResult[K]]:
        return iter(self.items)

    def __getitem__(self, key: K) -> ItemResult[K]:
        """The result of the item sent under ``key`` (a failure wins if it was sent twice)."""
        return self._by_key[key]

    def get(self, key: K) -> ItemResult[K] | None:
        """The result of the item sent under ``key``, or None if no item was sent under it."""
        return self._by_key.get(key)

    @property
    def complete(self) -> bool:
        """True when every result paired with its item and every item had one."""
        return not self.unpaired and self.result_count == len(self.items)

    @property
    def succeeded(self) -> tuple[ItemResult[K], ...]:
        """Items 360Learning accepted."""
        return tuple(item for item in self.items if item.error is None)

    @property
    def failed(self) -> tuple[ItemResult[K], ...]:
        """Items that failed, including those left without a result."""
        return tuple(item for item in self.items if item.error is not None)


def pair_course_results(
    operation_id: str, sent: Sequence[str], results: Sequence[object]
) -> BulkOutcome[str]:
    """Pair the raw results of a course upsert or archive with the ``externalId``s sent."""
    return _pair(
        operation_id,
        sent,
        results,
        echoes=lambda echo, key: echo.get("externalId") == key,
        read_key=echoed_course_key,
    )


def pair_statistic_results(
    operation_id: str, sent: Sequence[StatisticKey], results: Sequence[object]
) -> BulkOutcome[StatisticKey]:
    """Pair the raw results of a statistics import with the keys sent."""
    return _pair(
        operation_id, sent, results, echoes=echoes_statistic, read_key=echoed_statistic_key
    )


def _pair(
    operation_id: str,
    sent: Sequence[K],
    results: Sequence[object],
    *,
    echoes: Callable[[Mapping[str, object], K], bool],
    read_key: Callable[[Mapping[str, object]], K | None],
) -> BulkOutcome[K]:
    # Runs for every statistic sent (a million a day on a large tenant): plain dict checks
    # (results come from json.loads), no intermediate objects on the success path.
    items: list[ItemResult[K]] = []
    unpaired: list[UnpairedResult[K]] = []
    count = len(results)
    for index, key in enumerate(sent):
        if index >= count:
            items.append(_no_result(key, index, NO_RESULT_MESSAGE))
            continue
        result = results[index]
        entry: dict[str, object] = result if isinstance(result, dict) else {}
        echo, status, resource_id = entry.get("input"), entry.get("status"), entry.get("resourceId")
        if not isinstance(echo, dict) or not (
            isinstance(resource_id, str) if status == "success" else status == "error"
        ):
            unpaired.append(UnpairedResult(index, "unreadable", key, None))
            items.append(_no_result(key, index, UNREADABLE_MESSAGE))
        elif not echoes(echo, key):
            unpaired.append(UnpairedResult(index, "other_item", key, read_key(echo)))
            items.append(_no_result(key, index, OTHER_ITEM_MESSAGE))
        elif status == "success" and isinstance(resource_id, str):
            items.append(ItemResult(key, index, resource_id))
        else:
            items.append(ItemResult(key, index, error=_error(key, entry)))
    for index in range(len(sent), count):
        result = results[index]
        echo = result.get("input") if isinstance(result, dict) else None
        echoed = read_key(echo) if isinstance(echo, dict) else None
        unpaired.append(UnpairedResult(index, "extra", None, echoed))
    by_key = {item.key: item for item in items}
    if len(by_key) < len(items):  # a key sent twice: its failure must not be hidden
        for item in items:
            if not item.ok:
                by_key[item.key] = item
    return BulkOutcome(operation_id, tuple(items), tuple(unpaired), count, by_key)


def _error(key: object, result: Mapping[str, object]) -> ItemError:
    """An ``ErrorResultDTO`` as an :class:`ItemError`, classified for the item sent."""
    message = result.get("errorMessage")
    text = message if isinstance(message, str) else ""
    # No per-item code is documented; read one if 360Learning adds it (research §8 names codes
    # as the machine-readable part of every error).
    code = result.get("errorCode", result.get("code"))
    code = code if isinstance(code, str) and code else None
    return ItemError(classify_item_error(_error_key(key), text, code), text, code)


def _error_key(key: object) -> str | StatisticKey:
    return key if isinstance(key, StatisticKey) else str(key)


def _no_result(key: K, index: int, message: str) -> ItemResult[K]:
    return ItemResult(key, index, error=ItemError(ItemErrorKind.NO_RESULT, message))
