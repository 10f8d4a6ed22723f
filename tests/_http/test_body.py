"""A response body is parsed once, and every way it can be unusable is one error type."""

from __future__ import annotations

import pytest

from udemy360._http import UnusableBody, parse_json


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
