"""Read a JSON response body once, and turn every way it can be unusable into one error type.

``json.loads`` raises ``RecursionError`` on deep nesting (a 100,000-deep array), a
``UnicodeDecodeError`` on bytes that are not text, and ``ValueError`` on an integer of more than
4,300 digits; callers see ``UnusableBody`` for all of them, never those.

``may_hold_unsafe_text`` tells, from the raw bytes and far faster than looking at every parsed
string, whether any string in the body can hold a NUL, another control character or a lone
surrogate.
"""

from __future__ import annotations

import json
import re
from typing import Final

# Strict JSON refuses raw control characters inside strings (RFC 8259 §7), so these reach a
# parsed string only as an escape (\u0000-\u001f, \u007f, \ud800-\udfff) or as raw bytes:
# DEL, or a surrogate encoded as UTF-8 (ED A0..BF), which json.loads decodes with surrogatepass.
# \b and \f are JSON's short escapes of control characters (RFC 8259 §7); \n, \r, \t are kept
_UNSAFE_ESCAPE: Final = re.compile(rb"\\(?:u(?:00[01]|007[fF]|[dD][89a-fA-F])|[bf])")
_ENCODED_SURROGATE: Final = re.compile(rb"\xed[\xa0-\xbf]")


class UnusableBody(ValueError):
    """A response body that is not JSON we can read.

    ``retriable`` is true when fetching again may help: a body cut short by a dropped connection
    (research/udemy-api.md §5.1); a well-formed but hostile body (too deep, not text) is not.
    """

    def __init__(self, reason: str, *, retriable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retriable = retriable


def parse_json(content: bytes) -> object:
    """Parse a response body as JSON (UTF-8, or UTF-16/32 as RFC 8259 detection allows).

    Raises:
        UnusableBody: not JSON, not text, too deeply nested, or a number too long to read.
    """
    try:
        return json.loads(content)
    except RecursionError:
        raise UnusableBody("response body is nested too deeply", retriable=False) from None
    except UnicodeDecodeError as exc:
        # A cut inside a multi-byte character runs to the very end of the body: that is a
        # truncation, worth another try; an invalid byte earlier on is not.
        cut = exc.end >= len(content)
        raise UnusableBody("response body is not UTF-8 text", retriable=cut) from exc
    except json.JSONDecodeError as exc:
        raise UnusableBody("response body is not valid JSON", retriable=True) from exc
    except ValueError as exc:
        # e.g. an integer literal beyond int's digit limit (sys.get_int_max_str_digits)
        raise UnusableBody(
            f"response body cannot be read: {type(exc).__name__}", retriable=False
        ) from exc


def may_hold_unsafe_text(content: bytes) -> bool:
    """Whether a string parsed from ``content`` may hold a control character or lone surrogate.

    Never a false "no". Each test is a memchr-speed byte search first: a body without a single
    backslash (the usual case for a UTF-8 API) costs a few microseconds per 100 KB. A NUL byte
    also answers "maybe", which covers UTF-16 and UTF-32 bodies.
    """
    if b"\x00" in content or b"\x7f" in content:
        return True
    if b"\xed" in content and _ENCODED_SURROGATE.search(content) is not None:
        return True
    return b"\\" in content and _UNSAFE_ESCAPE.search(content) is not None
