"""Read a JSON response body once, and turn every way it can be unusable into one error type.

``json.loads`` raises ``RecursionError`` on deep nesting (a 100,000-deep array), a
``UnicodeDecodeError`` on bytes that are not text, and ``ValueError`` on an integer of more than
4,300 digits; callers see ``UnusableBody`` for all of them, never those.
"""

from __future__ import annotations

import json


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
