"""Description sanitising: DESIGN.md "Catalog rules", HTML allow-list."""

from __future__ import annotations

import pytest

from udemy360.mapping import ALLOWED_TAGS, sanitize_description


class TestSanitizeDescription:
    @pytest.mark.parametrize("tag", sorted(ALLOWED_TAGS - {"a", "br"}))
    def test_allowed_tags_are_kept(self, tag: str) -> None:
        """Every tag of the allow-list survives with its text."""
        assert sanitize_description(f"<{tag}>text</{tag}>") == f"<{tag}>text</{tag}>"

    def test_br_is_kept(self) -> None:
        """A line break is on the allow-list."""
        assert sanitize_description("one<br>two") == "one<br>two"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("<div><span>text</span></div>", "text"),
            ("<h1>Title</h1>", "Title"),
            ('<p>see <img src="x.png"> here</p>', "<p>see  here</p>"),
            ("<table><tr><td>cell</td></tr></table>", "cell"),
        ],
    )
    def test_other_tags_are_unwrapped(self, raw: str, expected: str) -> None:
        """Tags outside the allow-list are removed but their text is kept."""
        assert sanitize_description(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("<p>safe</p><script>alert(1)</script>", "<p>safe</p>"),
            ("<style>p{color:red}</style><p>safe</p>", "<p>safe</p>"),
            ('<iframe src="https://evil.example">x</iframe><p>safe</p>', "<p>safe</p>"),
        ],
    )
    def test_script_like_elements_are_dropped_with_content(self, raw: str, expected: str) -> None:
        """script, style and iframe are removed together with what they contain."""
        assert sanitize_description(raw) == expected

    def test_event_handlers_and_other_attributes_are_removed(self) -> None:
        """onclick, style, class, title and lang never survive."""
        raw = '<p onclick="x()" style="color:red" class="c" title="t" lang="en">hi</p>'
        assert sanitize_description(raw) == "<p>hi</p>"

    @pytest.mark.parametrize(
        "href", ["https://example.com/a", "http://example.com/a", "mailto:help@example.com"]
    )
    def test_links_keep_allowed_schemes(self, href: str) -> None:
        """An a keeps an href with http, https or mailto and nothing else (no rel added)."""
        raw = f'<a href="{href}" target="_blank" title="t">go</a>'
        assert sanitize_description(raw) == f'<a href="{href}">go</a>'

    @pytest.mark.parametrize(
        "href",
        [
            "javascript:alert(1)",
            " javascript:alert(1)",
            "java&#x09;script:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "ftp://example.com/file",
            "/course/relative/",
        ],
    )
    def test_links_lose_other_hrefs(self, href: str) -> None:
        """javascript:, data:, other schemes and relative hrefs are removed; the text stays."""
        assert sanitize_description(f'<a href="{href}">go</a>') == "<a>go</a>"

    @pytest.mark.parametrize(
        "raw",
        [None, "", "   ", "<p></p>", "<p>&nbsp;</p><br>", "<script>x</script>", "<img src=x>"],
    )
    def test_no_visible_text_gives_none(self, raw: str | None) -> None:
        """A description with no visible text left after cleaning is omitted."""
        assert sanitize_description(raw) is None

    def test_plain_text_is_escaped(self) -> None:
        """Plain text with markup characters is escaped, not interpreted."""
        assert sanitize_description("a < b & c") == "a &lt; b &amp; c"

    def test_sanitising_twice_changes_nothing(self) -> None:
        """Cleaning is idempotent, so re-mapping an unchanged description hashes equal."""
        raw = '<p onclick="x">Hi <a href="https://e.com">e</a><script>y</script></p>'
        once = sanitize_description(raw)
        assert sanitize_description(once) == once
