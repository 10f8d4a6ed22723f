"""Map Udemy locales (``en_US``) to 360Learning v2 language codes (``en``).

The v2 enum mixes formats: ``zh_tw`` is lower-case, ``zh_HANT`` is not, and there is no ``en_US``
(research/360learning-api.md §11.3), so the lookup is case-insensitive and falls back to the
language part of the locale.
"""

from __future__ import annotations

from typing import Final

from udemy360.learning360.models import LANGUAGE_CODES

DEFAULT_LANGUAGE: Final = "en"

_BY_FOLDED: Final = {code.casefold(): code for code in LANGUAGE_CODES}


def v2_language(code: str | None) -> str | None:
    """Return the v2 code for ``code`` (exact match, then language part), or None.

    Udemy locales are ``ll_CC`` (research/udemy-api.md §5.5); BCP 47 hyphens are accepted too.
    """
    if code is None:
        return None
    folded = code.strip().replace("-", "_").casefold()
    if not folded:
        return None
    exact = _BY_FOLDED.get(folded)
    if exact is not None:
        return exact
    return _BY_FOLDED.get(folded.split("_", 1)[0])


def map_language(locale: str | None, owner_lang: str | None = None) -> str:
    """Return a course's ``defaultLang``: its locale, else the owner's language, else ``en``.

    DESIGN.md course table, ``locale.locale`` row. Each of the two inputs is resolved with
    ``v2_language`` (case-insensitive code, then language part).
    """
    return v2_language(locale) or v2_language(owner_lang) or DEFAULT_LANGUAGE
