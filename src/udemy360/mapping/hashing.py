"""Hash mapped payloads so the sync engine sends only what changed.

The hash covers the exact JSON we would send plus the extras that are kept outside the payload
(tag names, the promo video URL), and ``MAPPING_VERSION``: bumping it after a mapping change
makes the next run re-send every item (DESIGN.md "Catalog rules").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

MAPPING_VERSION: Final = "1"

JsonValue: TypeAlias = (
    str
    | int
    | float
    | bool
    | list["JsonValue"]
    | tuple["JsonValue", ...]
    | Mapping[str, "JsonValue"]
    | None
)


def payload_hash(payload: BaseModel, extras: Mapping[str, JsonValue] | None = None) -> str:
    """Return the sha256 hex digest of ``payload`` as sent, ``extras`` and the mapping version.

    The JSON is canonical (sorted keys, no whitespace), so equal inputs always hash equal.
    """
    document = {
        "mappingVersion": MAPPING_VERSION,
        "payload": payload.model_dump(mode="json", by_alias=True, exclude_none=True),
        "extras": dict(extras or {}),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def without_query(url: str | None) -> str | None:
    """Return ``url`` without query string and fragment: a signed URL's stable part.

    Udemy promo videos are signed CloudFront URLs whose ``Expires``/``Signature`` change on every
    listing (research/udemy-api.md §3.1), so only the path may count as a change.
    """
    if url is None:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
