"""Payload hashing: canonical JSON, extras, mapping version."""

from __future__ import annotations

import hashlib
import json

import pytest

from udemy360.learning360.models import ExternalCourse, Source
from udemy360.mapping import MAPPING_VERSION, payload_hash, without_query
from udemy360.mapping.hashing import wire_hash


def stdlib_hash(wire: object, extras: object = None) -> str:
    """The hash as first defined: sha256 of ``json.dumps`` with sorted keys, UTF-8."""
    document = {"mappingVersion": MAPPING_VERSION, "payload": wire, "extras": extras or {}}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


class TestWireHash:
    def test_equals_payload_hash_of_the_model(self) -> None:
        """Hashing a payload's wire form gives the payload's hash."""
        body = payload(description="<p>Ünïcödé — “quotes”</p>", duration=90)
        wire = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert wire_hash(wire, {"tags": ["a"]}) == payload_hash(body, {"tags": ["a"]})

    def test_every_character_hashes_as_the_standard_library_writes_it(self) -> None:
        """Each Unicode scalar value (controls, quotes, non-ASCII, U+2028) keeps its old hash."""
        scalars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
        for start in range(0, len(scalars), 8192):
            text = "".join(scalars[start : start + 8192])
            wire = {"name": text, "nested": {"b": [text[:3], 1, True, None], "a": -7}}
            assert wire_hash(wire, {"tags": [text[-3:]]}) == stdlib_hash(
                wire, {"tags": [text[-3:]]}
            )

    def test_integers_beyond_64_bits_hash_as_before(self) -> None:
        """An integer orjson cannot write is hashed through the standard library, as before."""
        wire = {"id": 2**70, "neg": -(2**70)}
        assert wire_hash(wire) == stdlib_hash(wire)

    def test_lone_surrogate_is_refused_as_before(self) -> None:
        """A lone surrogate cannot be hashed: the same UnicodeEncodeError as ever."""
        with pytest.raises(UnicodeEncodeError):
            wire_hash({"name": "\ud800"})


class TestWithoutQuery:
    def test_signed_query_and_fragment_are_dropped(self) -> None:
        """The query string and fragment of a signed URL are removed."""
        url = "https://mp4.udemycdn.com/a/720.mp4?Expires=1&Signature=s&Key-Pair-Id=k#t"
        assert without_query(url) == "https://mp4.udemycdn.com/a/720.mp4"

    def test_none(self) -> None:
        """No URL stays no URL."""
        assert without_query(None) is None
