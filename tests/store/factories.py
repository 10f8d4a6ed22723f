"""Builders shared by the store's tests."""

from __future__ import annotations

from udemy360.store import ItemState, ItemUpdate

# A statistic as sent to 360Learning, kept on held, unmatched and failed rows to send later.
STAT_PAYLOAD = {
    "courseIdentifier": {"type": "externalId", "value": "101"},
    "userIdentifier": {"type": "mail", "value": "a@example.com"},
    "progress": 40,
    "timeSpent": 60000,
    "firstActivityAt": "2026-03-01T10:00:00.000Z",
    "lastActivityAt": "2026-03-02T10:00:00.000Z",
}


def item_update(ext: str, **changes: object) -> ItemUpdate:
    """An active, synced course item ``ext`` (numeric), with ``changes`` applied."""
    values: dict[str, object] = {
        "external_id": ext,
        "kind": "course",
        "udemy_id": int(ext),
        "state": ItemState.ACTIVE,
        "payload_hash": f"h{ext}",
        "course_id": f"lms-{ext}",
        **changes,
    }
    return ItemUpdate(**values)  # type: ignore[arg-type]
