"""Sanitise Udemy HTML descriptions to the allow-list 360Learning receives.

Udemy descriptions are instructor-authored HTML (research/udemy-api.md §3.1). 360Learning does not
say what HTML v2 accepts (research/360learning-api.md §11.1), so we send a small, safe subset:
DESIGN.md "Catalog rules" fixes the allow-list below.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Final

import nh3

ALLOWED_TAGS: Final = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a"}
    | {"h2", "h3", "h4", "blockquote", "code", "pre"}
)
ALLOWED_URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})

# Elements whose *content* is not text a learner should read: dropped together with the tag.
_DROPPED_WITH_CONTENT: Final = frozenset(
    {"script", "style", "iframe", "noscript", "template", "textarea", "svg", "math", "object"}
)
_TAG_RE: Final = re.compile(r"<[^>]*>")


def sanitize_description(raw: str | None) -> str | None:
    """Return ``raw`` cleaned to the allow-list, or None when no visible text remains.

    ``a`` keeps only an ``href`` with an http, https or mailto scheme; relative links are dropped
    because the description is shown on 360Learning, where they would resolve to the wrong host.
    """
    if raw is None or not raw.strip():
        return None
    cleaned = nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        # "*" replaces nh3's default generic attributes (lang, title) with none at all.
        attributes={"a": {"href"}, "*": set()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    ).strip()
    return cleaned if has_visible_text(cleaned) else None


def has_visible_text(fragment: str) -> bool:
    """Whether an HTML fragment shows any non-whitespace text once tags are removed."""
    text = html.unescape(_TAG_RE.sub("", fragment))
    return bool(text.strip())


def link_list(items: Iterable[tuple[str, str | None]]) -> str:
    """Render ``(title, url)`` pairs as ``<ul><li><a href>…</a></li></ul>``; a None url gives text.

    Returns an empty string for no items. Titles and URLs are escaped; the caller sanitises the
    result again, which also drops any href whose scheme is not allowed.
    """
    rows = [
        f'<li><a href="{html.escape(url, quote=True)}">{html.escape(title)}</a></li>'
        if url
        else f"<li>{html.escape(title)}</li>"
        for title, url in items
    ]
    return f"<ul>{''.join(rows)}</ul>" if rows else ""
