"""Hash mapped payloads so the sync engine sends only what changed.

The hash covers the exact JSON we would send plus the extras that are kept outside the payload
(tag names, the promo video URL), and ``MAPPING_VERSION``: bumping it after a mapping change
makes the next run re-send every item (DESIGN.md "Catalog rules").

The canonical JSON is what ``json.dumps(document, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` writes, encoded as UTF-8. orjson writes the same bytes for strings, 64-bit
integers, booleans, null, lists and objects about four times faster (a million statistics a day
are hashed); what it refuses goes through ``json`` as before. Floats are kept out by type: the
two spell some of them differently (``1e+16`` / ``1e16``), and no payload has one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import orjson
from pydantic import BaseModel

MAPPING_VERSION: Final = "1"

JsonValue: TypeAlias = (
    str
    | int
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
    return wire_hash(payload.model_dump(mode="json", by_alias=True, exclude_none=True), extras)


def wire_hash(wire: Mapping[str, object], extras: Mapping[str, JsonValue] | None = None) -> str:
    """Return ``payload_hash`` of a payload already in its wire form (camelCase, no nulls).

    For mappers that build the wire form themselves, so that hashing costs no ``model_dump``.
    """
    document = {"extras": dict(extras or {}), "mappingVersion": MAPPING_VERSION, "payload": wire}
    return hashlib.sha256(_canonical(document)).hexdigest()


def _canonical(document: Mapping[str, object]) -> bytes:
    """Return ``document`` as sorted-key, whitespace-free UTF-8 JSON."""
    try:
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # What orjson refuses (integers beyond 64 bits, lone surrogates) is written, or
        # refused, exactly as the standard library always did.
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def without_query(url: str | None) -> str | None:
    """Return ``url`` without query string and fragment: a signed URL's stable part.

    Udemy promo videos are signed CloudFront URLs whose ``Expires``/``Signature`` change on every
    listing (research/udemy-api.md §3.1), so only the path may count as a change.
    """
    if url is None:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
