"""Payload hashing: canonical JSON, extras, mapping version."""

from __future__ import annotations

import hashlib
import json

from udemy360.learning360.models import ExternalCourse, Source
from udemy360.mapping import MAPPING_VERSION, payload_hash, without_query


def payload(**overrides: object) -> ExternalCourse:
    """Return a minimal external course."""
    fields: dict[str, object] = {
        "external_id": "1",
        "name": "Course",
        "default_lang": "en",
        "launch_url": "https://acme.udemy.com/course/c/",
        "sources": [Source(name="Udemy")],
        "subjects": [],
    }
    fields.update(overrides)
    return ExternalCourse.model_validate(fields)


class TestPayloadHash:
    def test_hash_is_sha256_of_canonical_json(self) -> None:
        """The hash is sha256 over sorted-key, whitespace-free JSON of body, extras and version."""
        body = payload()
        expected = json.dumps(
            {
                "extras": {"a": 1},
                "mappingVersion": MAPPING_VERSION,
                "payload": body.model_dump(mode="json", by_alias=True, exclude_none=True),
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert payload_hash(body, {"a": 1}) == hashlib.sha256(expected.encode()).hexdigest()

    def test_extras_order_does_not_matter(self) -> None:
        """Extras with the same content hash equal whatever their insertion order."""
        assert payload_hash(payload(), {"a": 1, "b": [2]}) == payload_hash(
            payload(), {"b": [2], "a": 1}
        )

    def test_extras_count(self) -> None:
        """Different extras give different hashes."""
        assert payload_hash(payload(), {"tags": None}) != payload_hash(payload(), {"tags": []})

    def test_payload_counts(self) -> None:
        """Any different field gives a different hash."""
        assert payload_hash(payload()) != payload_hash(payload(duration=5))


class TestWithoutQuery:
    def test_signed_query_and_fragment_are_dropped(self) -> None:
        """The query string and fragment of a signed URL are removed."""
        url = "https://mp4.udemycdn.com/a/720.mp4?Expires=1&Signature=s&Key-Pair-Id=k#t"
        assert without_query(url) == "https://mp4.udemycdn.com/a/720.mp4"

    def test_none(self) -> None:
        """No URL stays no URL."""
        assert without_query(None) is None
