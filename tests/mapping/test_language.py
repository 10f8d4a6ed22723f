"""Locale to v2 language codes: DESIGN.md course table, ``locale.locale`` row."""

from __future__ import annotations

import pytest

from udemy360.learning360.models import LANGUAGE_CODES
from udemy360.mapping import map_language, v2_language


class TestMapLanguage:
    @pytest.mark.parametrize(
        ("locale", "owner", "expected"),
        [
            ("en", None, "en"),
            ("pt_BR", None, "pt_BR"),
            ("zh_TW", None, "zh_tw"),
            ("ZH_hant", None, "zh_HANT"),
            ("he_IL", None, "he_IL"),
            ("en_GB", None, "en_GB"),
            ("en-GB", None, "en_GB"),
            ("en_US", None, "en"),
            ("es_ES", None, "es"),
            ("zh_CN", None, "zh"),
            ("ja_JP", "fr", "ja"),
            (" de_DE ", None, "de"),
        ],
    )
    def test_locale_maps_to_enum_then_language_part(
        self, locale: str, owner: str | None, expected: str
    ) -> None:
        """The v2 code wins case-insensitively, else the locale's language part."""
        assert map_language(locale, owner) == expected

    @pytest.mark.parametrize(
        ("locale", "owner", "expected"),
        [
            (None, "fr", "fr"),
            ("", "fr_CA", "fr_CA"),
            ("xx_YY", "de", "de"),
            (None, "pt_PT", "pt"),
            (None, None, "en"),
            ("xx_YY", "yy", "en"),
            ("   ", "  ", "en"),
        ],
    )
    def test_fallbacks_owner_language_then_en(
        self, locale: str | None, owner: str | None, expected: str
    ) -> None:
        """With no usable locale the owner's language is used, else en."""
        assert map_language(locale, owner) == expected

    def test_every_v2_code_maps_to_itself(self) -> None:
        """Each code of the v2 enum is its own mapping, whatever its case."""
        for code in LANGUAGE_CODES:
            assert map_language(code) == code
            assert map_language(code.upper()) == code

    def test_result_is_always_in_the_enum(self) -> None:
        """The mapped language is always one of the v2 codes."""
        for locale in ["en_US", "sw_TZ", "nonsense", "", "he", "kar_MM", "zh_TW"]:
            assert map_language(locale) in LANGUAGE_CODES

    def test_v2_language_gives_none_when_unknown(self) -> None:
        """An unmappable code resolves to None so callers can fall back."""
        assert v2_language("xx_YY") is None
        assert v2_language(None) is None
