"""Listing-level faults of the Udemy sandbox: raw records, hostile envelopes and ``next`` links.

On top of the generic plan (latency, throttles, errors, cut, slow or replaced bodies), a listing
(matched by path prefix relative to the organization root, e.g. ``"courses/list/"``) can:

- be served from raw JSON values instead of the tenant (``listing``): any objects, wrong types,
  nulls, huge strings, lone surrogates, out-of-range integers — ``count`` is their number;
- have one page's envelope fields replaced by raw values (``envelope``, ``page_records``), or its
  whole body replaced by bytes (``page_body``);
- ignore the requested ``page_size`` (``ignore_page_size``);
- never end (``endless_next``): every page links to the next, past the end too.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from udemy360.sandbox.faults import Clock, Faults, Sleep, path_matches


@dataclass(slots=True)
class ListingRules:
    """What is wrong with one listing; the app reads this when it builds a page."""

    records: list[object] | None = None
    page_size: int | None = None
    endless: bool = False
    repeat_past_end: bool = False
    envelopes: dict[int, dict[str, object]] = field(default_factory=dict)
    bodies: dict[int, tuple[int, bytes]] = field(default_factory=dict)

    def raw_slice(self, start: int, stop: int) -> list[object]:
        """Positions ``start``..``stop`` of the raw listing (empty when there is none)."""
        return (self.records or [])[start:stop]

    def describe(self) -> dict[str, object]:
        """The rules, as JSON-friendly data (records are counted, not echoed)."""
        return {
            "records": None if self.records is None else len(self.records),
            "page_size": self.page_size,
            "endless": self.endless,
            "repeat_past_end": self.repeat_past_end,
            "envelope_pages": sorted(self.envelopes),
            "body_pages": sorted(self.bodies),
        }


_LISTING_KEYS = frozenset(
    {"listing", "page_records", "envelope", "page_body", "ignore_page_size", "endless_next"}
)


class UdemyFaults(Faults):
    """The fault plan of a Udemy sandbox; paths are relative to the organization root.

    Example, page 2 of the course listing holds three hostile records::

        sandbox.faults.page_records("courses/list/", 2, [{"id": 2**70, "title": "x"}, None, 7])
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep | None = None) -> None:
        super().__init__(clock=clock, sleep=sleep)
        self._listings: dict[str, ListingRules] = {}

    def _rules(self, path_prefix: str) -> ListingRules:
        return self._listings.setdefault(path_prefix, ListingRules())

    def listing_rules(self, path: str) -> ListingRules | None:
        """The rules of the listing at ``path``, if any applies."""
        for prefix, rules in self._listings.items():
            if path_matches(prefix, path):
                return rules
        return None

    def listing(self, path_prefix: str, records: Sequence[object]) -> UdemyFaults:
        """Serve the listing from these raw JSON values, paged as usual; ``count`` is their number.

        The tenant's records, field selection and date filters no longer apply to it.
        """
        self._rules(path_prefix).records = list(records)
        return self

    def envelope(self, path_prefix: str, page: int, **fields: object) -> UdemyFaults:
        """Replace fields of page ``page``'s envelope by raw values (``count``, ``next``, …).

        Anything JSON can carry goes: ``count="many"``, ``next=42``, ``results=None``.
        """
        self._rules(path_prefix).envelopes.setdefault(page, {}).update(fields)
        return self

    def page_records(self, path_prefix: str, page: int, records: Sequence[object]) -> UdemyFaults:
        """Page ``page`` of the listing holds exactly these raw values (``count`` unchanged)."""
        return self.envelope(path_prefix, page, results=list(records))

    def page_body(
        self, path_prefix: str, page: int, body: bytes | str, *, status: int = 200
    ) -> UdemyFaults:
        """Page ``page`` of the listing is answered with ``body`` as it is (any bytes)."""
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
        self._rules(path_prefix).bodies[page] = (status, raw)
        return self

    def ignore_page_size(self, path_prefix: str, page_size: int = 12) -> UdemyFaults:
        """Page the listing by ``page_size`` whatever the request asks for."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._rules(path_prefix).page_size = page_size
        return self

    def endless_next(self, path_prefix: str, *, repeat: bool = False) -> UdemyFaults:
        """Link every page of the listing to the next one, past its end too.

        Past the end, pages are empty, or with ``repeat`` hold the last page's records again
        (``count`` stays true): a client that trusts ``next`` reads forever.
        """
        rules = self._rules(path_prefix)
        rules.endless = True
        rules.repeat_past_end = repeat
        return self

    def clear(self) -> UdemyFaults:
        """Remove every fault, listing rules included."""
        super().clear()
        self._listings.clear()
        return self

    def configure(self, plan: Mapping[str, object]) -> UdemyFaults:
        """Apply a JSON plan; listing keys take a list of objects named like the methods' args.

        Example: ``{"page_records": [{"path_prefix": "courses/list/", "page": 2,
        "records": [{"id": -1, "title": "\\u0000"}]}], "endless_next": [{"path_prefix":
        "courses/list/"}], "page_body": [{"path_prefix": "courses/list/", "page": 3,
        "body_base64": "/w=="}]}``; ``envelope`` entries carry ``page`` and ``fields``.
        """
        generic = {k: v for k, v in plan.items() if k not in _LISTING_KEYS}
        super().configure(generic)
        for name, value in plan.items():
            if name not in _LISTING_KEYS:
                continue
            if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                raise ValueError(f"{name} must be a list of objects")
            for entry in value:
                args = dict(entry)
                if name == "envelope":
                    fields = args.pop("fields", {})
                    if not isinstance(fields, dict):
                        raise ValueError("envelope fields must be an object")
                    self.envelope(**args, **fields)
                elif name == "page_body" and "body_base64" in args:
                    args["body"] = base64.b64decode(str(args.pop("body_base64")))
                    self.page_body(**args)
                else:
                    getattr(self, name)(**args)
        return self

    def describe(self) -> dict[str, object]:
        """The active plan, as JSON-friendly data."""
        return {
            **super().describe(),
            "listings": {prefix: rules.describe() for prefix, rules in self._listings.items()},
        }
