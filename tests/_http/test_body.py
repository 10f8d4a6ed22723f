"""A response body is parsed once, and every way it can be unusable is one error type."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from udemy360._http import UnusableBody, may_hold_unsafe_text, parse_json
from udemy360.udemy import safe_text

# Short strings of ordinary characters with the ones the check is about mixed in, often alone.
# (st.text() never yields surrogates, so strings are joined from single characters.)
_TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\x1f", "\x7f", "\ud800", "\udfff", "\\", "u"]),
        st.integers(min_value=0xD800, max_value=0xDFFF).map(chr),
    ),
    max_size=4,
).map("".join)


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*strings_in(k), *strings_in(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


class TestParseJson:
    def test_json_is_parsed(self) -> None:
        """A UTF-8 JSON body gives its value; escapes of lone surrogates decode as they are."""
        assert parse_json(b'{"a": [1, "\\ud800", "caf\xc3\xa9"]}') == {"a": [1, "\ud800", "café"]}

    def test_deep_nesting_is_unusable_and_final(self) -> None:
        """A body nested 100,000 deep is UnusableBody, not RecursionError, and not retried."""
        with pytest.raises(UnusableBody, match="nested too deeply") as info:
            parse_json(b"[" * 100_000 + b"]" * 100_000)
        assert info.value.retriable is False

    def test_bytes_that_are_not_text_are_final(self) -> None:
        """An invalid byte in the middle of the body is not cured by fetching again."""
        with pytest.raises(UnusableBody, match="not UTF-8") as info:
            parse_json(b'{"title": "\xff", "more": 1}')
        assert info.value.retriable is False

    def test_body_cut_inside_a_character_is_retriable(self) -> None:
        """A body ending in half a character was cut short: another try may get it whole."""
        with pytest.raises(UnusableBody, match="not UTF-8") as info:
            parse_json('{"title": "é'.encode()[:-1])
        assert info.value.retriable is True

    @pytest.mark.parametrize("body", [b'{"count": 1, "res', b"", b"<html>502</html>"])
    def test_invalid_json_is_retriable(self, body: bytes) -> None:
        """A cut or non-JSON body may be a dropped connection: worth another try."""
        with pytest.raises(UnusableBody, match="not valid JSON") as info:
            parse_json(body)
        assert info.value.retriable is True

    def test_integer_beyond_the_digit_limit_is_final(self) -> None:
        """A 5,000-digit number cannot be read; the error says so and is not retried."""
        with pytest.raises(UnusableBody, match="cannot be read") as info:
            parse_json(b"[" + b"9" * 5_000 + b"]")
        assert info.value.retriable is False


class TestMayHoldUnsafeText:
    @settings(max_examples=300)
    @given(st.lists(st.dictionaries(_TEXT, _TEXT, max_size=2), max_size=2), st.booleans())
    @example([{"": "\f"}], True)  # JSON's short escapes of control characters: \f and \b
    @example([{"": "\b"}], False)
    def test_never_a_false_no(self, records: list[dict[str, str]], ascii_only: bool) -> None:
        """Whenever a parsed string would change under safe_text, the body check says so."""
        body = json.dumps(records, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        unsafe = any(safe_text(s) != s for s in strings_in(parse_json(body)))
        if unsafe:
            assert may_hold_unsafe_text(body)

    @pytest.mark.parametrize(
        "body",
        [
            b'{"title": "caf\xc3\xa9 \xe5\xa4\xa7 \\"quoted\\" \\n \\u00e9 \\ud83d\\ude00"}',
            b'{"korean": "\xed\x95\x9c"}',
        ],
    )
    def test_ordinary_bodies_pass(self, body: bytes) -> None:
        """Accents, CJK, Hangul, quotes and newlines pass; an escaped emoji is a harmless maybe."""
        expected = b"\\ud83d" in body
        assert may_hold_unsafe_text(body) is expected

    @pytest.mark.parametrize(
        "body",
        [
            b'{"t": "\\u0000"}',
            b'{"t": "\\u001F"}',
            b'{"t": "\\u007f"}',
            b'{"t": "\\uDBFF"}',
            b'{"t": "\x7f"}',
            b'{"t": "\xed\xa0\x80"}',
            '{"t": 1}'.encode("utf-16"),
        ],
    )
    def test_each_way_in_is_flagged(self, body: bytes) -> None:
        """Escapes of controls, DEL and surrogates, raw DEL, encoded surrogates, UTF-16."""
        assert may_hold_unsafe_text(body)
