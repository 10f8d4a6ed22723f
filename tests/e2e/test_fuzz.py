"""A whole ``sync all`` over generated Udemy data: no record, page or server stops it.

Each example serves a few hundred generated records (courses, learning paths, activity rows),
mostly valid and built like the sandbox tenant's, mixed with hostile ones: wrong types, nulls,
missing fields, 100 KB strings, lone surrogates, NUL and control characters, integers out of
range, deep nesting, odd URLs, dates and emails. Day 1 runs the catalog then the statistics job
and checks every record against what it must become: synced, reported with a reason, held for
its course or waiting for its learner. Day 2 reads the same records, in some examples through a
hostile envelope (a lying ``count``, ``next`` links that repeat, go back or never end,
``results`` that is not a list, a page nested 100,000 deep…); day 3 reads them plainly. Each
later day must converge: nothing archived, nothing that was accepted sent again.
"""

from __future__ import annotations

import asyncio
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.e2e._hostile import (
    ACTIVITY,
    COURSES,
    PATHS,
    HostileEnv,
    activity_record,
    make_hostile_env,
    pg_schema,
)
from udemy360.sandbox.faults import nested_json
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy import UdemyFaults
from udemy360.sandbox.udemy.tenant import UdemyTenant
from udemy360.store import ItemOutcomeRow
from udemy360.sync import RunReport

T = TypeVar("T")

COURSE_BASE: Final = 3_000_000
PATH_BASE: Final = 3_500_000
OUTSIDE: Final = 4_000_000  # course ids no listing holds: their rows are held for the course
LEARNERS: Final = 60  # both sandboxes know learner_email(i); 360Learning lacks i % 25 == 24
LAUNCH_HOSTS: Final = frozenset({"acme.udemy.com", "udemy.com", "www.udemy.com"})
HUGE: Final = 100_000

_TENANT: Final = UdemyTenant(seed=11, courses=64, learning_paths=16, learners=LEARNERS)
COURSE_TEMPLATES: Final = _TENANT.course_page(0, 64)
PATH_TEMPLATES: Final = _TENANT.learning_path_page(0, 16)


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


DEEP: Final = _nested(200)  # deep inside a record; a whole page 100,000 deep is an envelope

_CONTROLS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cleaned(text: str) -> str:
    """Text as docs/udemy.md says the client makes it safe: lone surrogates become U+FFFD (a
    pair is joined), C0 controls but tab, newline and carriage return are removed, and DEL."""
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROLS.sub("", joined)


# -- drawing ----------------------------------------------------------------------------------


def pick(draw: st.DrawFn, values: Sequence[T]) -> T:
    """One of ``values`` (shrinking towards the first)."""
    return values[draw(st.integers(0, len(values) - 1))]


_HOSTILE_CHARS: Final = st.sampled_from(
    [
        *("\x00", "\ud800", "\udfff", "\ud83d", "\ude00", "\x07", "\x08", "\x0c", "\x1b"),
        *("\x7f", "\t", "\n", "\r", "é", "大", "É", "S", "İ", "\u202e", "\ufeff", "\u200b"),
        *("<", "&", "\\", '"', " "),
    ]
)
HOSTILE_TEXT: Final = st.text(
    alphabet=st.one_of(_HOSTILE_CHARS, st.characters(codec="utf-8")), max_size=8
)


def huge_text(draw: st.DrawFn) -> str:
    """About 100 KB of text around a hostile core."""
    return "T" + draw(HOSTILE_TEXT) * 4 + "x" * HUGE


Verdict = Literal["good", "bad", "absent"]
"""good: synced, not reported; bad: reported with a reason, never synced; absent: neither (a
private learning path is only counted as skipped)."""


@dataclass(frozen=True)
class Case:
    """One generated course or learning path, what it must become, and how it was made."""

    raw: object
    verdict: Verdict
    how: str

    @property
    def record_id(self) -> str | None:
        """The record's id when Udemy could have sent it (a positive 64-bit integer)."""
        if not isinstance(self.raw, dict):
            return None
        value = self.raw.get("id")
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63:
            return str(value)
        return None


Record = dict[str, object]
Mutator = Callable[[st.DrawFn, Record], Verdict]

NOT_OBJECTS: Final = [None, 7, "record", [], True, 1.5, [{"id": 1}]]
BAD_IDS: Final = [2**70, 2**63, -1, 0, True, False, 1.5, "12", None, [1], {"id": 1}, 1e3]
BAD_TITLES: Final[list[object]] = [None, 5, [], {}, "", "   ", "\x00\x01\x7f", True, "\x00 \x1b"]
GOOD_URLS: Final = [
    "http://acme.udemy.com/course/x/",
    "/course/x/",
    "//acme.udemy.com/course/x/",
    "https://www.udemy.com/course/x/",
    "https://udemy.com/course/x/",
    "https://ACME.udemy.com/course/x/",
    "https://acme.udemy.com./course/x/",
    "https://acme.udemy.com/course/\x00x/",
    "https://acme.udemy.com/course/\ud800/",
]
BAD_URLS: Final = [
    "javascript:alert(1)",
    "https://evil.example/course/x/",
    "http://evil.example/course/x/",
    None,
    "",
    "ftp://acme.udemy.com/x",
    "https://user:pw@acme.udemy.com/x",
    "https://acme.udemy.com:99999/x",
    "https://acme.udemy.com/a b",
    "https://acme.udemy.com.evil.example/x",
    "https://evil.example\\@acme.udemy.com/",
    "https://acme\ud800.udemy.com/x",
    "data:text/html,<script>alert(1)</script>",
]
ODD_IMAGES: Final = [
    {"size_750x422": "javascript:alert(1)"},
    {"size_750x422": "http://img.example/a.jpg"},
    {"size_750x422": "http://img.example/a.jpg", "size_480x270": "javascript:x"},
    {"size_750x422": "https://u:p@img.example/a.jpg"},
    {"size_750x422": "data:image/png;base64,AAAA"},
    {"size_750x422": 5, "size_480x270": None, "size_304x171": ""},
    {"size_750x422": "https://img-c.udemycdn.com/\ud800\x00.jpg"},
    {"size_750x422": "//img-c.udemycdn.com/a.jpg"},
    "not a dict",
    5,
    None,
    [],
    DEEP,
]


def _set_or_drop(draw: st.DrawFn, record: Record, key: str, values: Sequence[object]) -> None:
    """Set ``key`` to one of ``values``, or (one time in four) remove it."""
    if draw(st.integers(0, 3)) == 0:
        record.pop(key, None)
    else:
        record[key] = pick(draw, values)


def _title_text(draw: st.DrawFn, r: Record) -> Verdict:
    title = pick(draw, ["T", "", " ", "\x00"]) + draw(HOSTILE_TEXT)
    r["title"] = title
    return "good" if cleaned(title).strip() else "bad"


def _title_huge(draw: st.DrawFn, r: Record) -> Verdict:
    r["title"] = huge_text(draw)
    return "good"


def _nul_everywhere(draw: st.DrawFn, r: Record) -> Verdict:
    for key in ("title", "headline", "description", "level"):
        value = r.get(key)
        if isinstance(value, str):
            r[key] = f"\x00{value}\ud800\x07"
    r["categories"] = ["Data\x00 Science", "\udfffAI"]
    r["instructors"] = ["Jane\x00 Doe", "\ud800"]
    r["primary_category"] = {"id": 288, "title": "Dev\x00elopment\ud83d"}
    return "good"


def _description(draw: st.DrawFn, r: Record) -> Verdict:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        r["description"] = draw(HOSTILE_TEXT)
    elif choice == 1:
        r["description"] = huge_text(draw)
    else:
        fixed = ["<script>alert(1)</script>", None, "", "<p>\ud800</p>", "<a href='javascript:x'>"]
        r["description"] = pick(draw, fixed)
    return "good"


def _categories(draw: st.DrawFn, r: Record) -> Verdict:
    if draw(st.booleans()):
        r["categories"] = [draw(HOSTILE_TEXT), draw(HOSTILE_TEXT)]
    else:
        r["categories"] = pick(draw, [DEEP, [None, 5, {}], [], None, ["É"], ["SS", "ss"]])
    r["primary_category"] = pick(
        draw, [None, {"title": "\ud800"}, {"id": -5, "title": "Neg"}, {"title": "\x00"}]
    )
    return "good"


def _instructors(draw: st.DrawFn, r: Record) -> Verdict:
    r["instructors"] = pick(
        draw, [[None, 5, "", "\ud800"], ["x" * 1000], [], None, DEEP, ["  ", "Ann", "Ann"]]
    )
    return "good"


def _images(draw: st.DrawFn, r: Record) -> Verdict:
    r["images"] = pick(draw, ODD_IMAGES)
    return "good"


def _good_url(draw: st.DrawFn, r: Record) -> Verdict:
    r["url"] = pick(draw, GOOD_URLS)
    return "good"


def _odd_values(values: dict[str, list[object]]) -> Mutator:
    """A mutator setting one of the fields of ``values`` to one of its odd but valid values."""
    keys = sorted(values)

    def mutate(draw: st.DrawFn, r: Record) -> Verdict:
        key = pick(draw, keys)
        r[key] = pick(draw, values[key])
        return "good"

    return mutate


def _extra(draw: st.DrawFn, r: Record) -> Verdict:
    r.update({"\ud800key\x00": "\x00", "nested_extra": DEEP, "n": None, "big": 2**200})
    return "good"


def _bad_id(draw: st.DrawFn, r: Record) -> Verdict:
    _set_or_drop(draw, r, "id", BAD_IDS)
    return "bad"


def _bad_title(draw: st.DrawFn, r: Record) -> Verdict:
    _set_or_drop(draw, r, "title", BAD_TITLES)
    return "bad"


def _bad_url(draw: st.DrawFn, r: Record) -> Verdict:
    _set_or_drop(draw, r, "url", [*BAD_URLS, 5])
    return "bad"


def _bad_type(pairs: list[tuple[str, object]]) -> Mutator:
    """A mutator giving one field a value of a type (or range) the record cannot have."""

    def mutate(draw: st.DrawFn, r: Record) -> Verdict:
        key, value = pick(draw, pairs)
        r[key] = value
        return "bad"

    return mutate


COURSE_MUTATORS: Final[dict[str, Mutator]] = {
    "as_is": lambda draw, r: "good",
    "title_text": _title_text,
    "title_huge": _title_huge,
    "nul_everywhere": _nul_everywhere,
    "description": _description,
    "categories": _categories,
    "instructors": _instructors,
    "images": _images,
    "good_url": _good_url,
    "odd_values": _odd_values(
        {
            "locale": [None, "xx", "en", {"locale": None}, {"locale": "\ud800"}, "", "zh_TW"],
            "estimated_content_length": [None, -5, 0, 1e308, math.nan, math.inf, "12", 2**70],
            "level": [None, "", "Expert Level", "\x00", "x" * 1000],
            "last_update_date": [None, "", "2025-01-01T10:00:00Z", "2025-01-01T10:00:00+05:00"],
            "promo_video_url": [
                None,
                [],
                [{"file": "javascript:x", "label": "\ud800"}],
                [{"file": "https://mp4.example/v.mp4", "label": "9" * 50}],
            ],
            "headline": [None, "\x00", "x" * 1000],
            "mobile_native_deeplink": [None, "", "javascript:x"],
        }
    ),
    "extra": _extra,
    "bad_id": _bad_id,
    "bad_title": _bad_title,
    "bad_url": _bad_url,
    "bad_type": _bad_type(
        [
            ("headline", 5),
            ("description", 5),
            ("description", DEEP),
            ("description", {"a": 1}),
            ("level", 5),
            ("locale", 5),
            ("locale", []),
            ("estimated_content_length", "abc"),
            ("estimated_content_length", []),
            ("primary_category", "x"),
            ("primary_category", {"title": None}),
            ("primary_category", {"id": 2**70, "title": "t"}),
            ("topics", 5),
            ("topics", [{"id": 2**70, "title": "t"}]),
            ("topics", [{"title": None}]),
            ("topics", DEEP),
            ("last_update_date", "nope"),
            ("last_update_date", "2024-02-30"),
            ("last_update_date", 5),
            ("promo_video_url", "x"),
            ("promo_video_url", [{"file": None}]),
            ("categories", "str"),
            ("categories", 5),
            ("instructors", "str"),
        ]
    ),
}


def _path_items(draw: st.DrawFn, r: Record) -> Verdict:
    """Odd links and titles inside a path's sections: only the description's links change."""
    item = {
        "id": -7,
        "title": draw(HOSTILE_TEXT),
        "url": pick(draw, [*BAD_URLS, *GOOD_URLS]),
        "type": pick(draw, ["course", "link", "\ud800", None]),
        "duration": pick(draw, [None, -1.0, 1e308, math.nan, 7.5]),
        "order": pick(draw, [None, -(2**63), 2**63 - 1, 0]),
        "thumbnail": pick(draw, ODD_IMAGES),
        "resource_url": None,
    }
    r["sections"] = [
        {"id": 1, "title": "\x00", "order": None, "items": [item, {"title": "x" * HUGE}]},
        {"id": 2, "title": None, "order": 1, "items": None},
    ]
    return "good"


def _private(draw: st.DrawFn, r: Record) -> Verdict:
    r["is_public"] = False
    return "absent"


PATH_MUTATORS: Final[dict[str, Mutator]] = {
    "as_is": lambda draw, r: "good",
    "title_text": _title_text,
    "description": _description,
    "path_items": _path_items,
    "good_url": _good_url,
    "odd_values": _odd_values(
        {
            "editors": [[{"display_name": "\ud800", "email": "  X@Y "}], [], None, [{}]],
            "images": ODD_IMAGES,
            "sections": [[], None],
            "is_public": [True, None],
            "estimated_content_length": [None, -1, 1e308, math.nan],
            "last_modified": [None, "2025-01-01", "2025-01-01T00:00:00.123456+02:00"],
        }
    ),
    "extra": _extra,
    "private": _private,
    "bad_id": _bad_id,
    "bad_title": _bad_title,
    "bad_url": _bad_url,
    "bad_type": _bad_type(
        [
            ("sections", "x"),
            ("sections", [{"order": 2**70}]),
            ("sections", [{"items": [{"duration": "abc"}]}]),
            ("sections", [{"items": [5]}]),
            ("sections", DEEP),
            ("editors", [{"email": 5}]),
            ("editors", [None]),
            ("last_modified", "nope"),
            ("is_public", "maybe"),
            ("description", []),
        ]
    ),
}


def _weighted(names: Sequence[str], weights: dict[str, int]) -> list[str]:
    return [name for name in names for _ in range(weights.get(name, 1))]


COURSE_HOWS: Final = _weighted([*COURSE_MUTATORS, "not_object"], {"as_is": 12, "bad_type": 2})
PATH_HOWS: Final = _weighted([*PATH_MUTATORS, "not_object"], {"as_is": 8, "bad_type": 2})


def record_case(
    draw: st.DrawFn,
    templates: Sequence[Record],
    mutators: dict[str, Mutator],
    hows: Sequence[str],
    record_id: int,
) -> Case:
    """A template record with a new id, mutated by a drawn mutator (or not an object at all)."""
    how = pick(draw, hows)
    if how == "not_object":
        return Case(pick(draw, NOT_OBJECTS), "bad", how)
    # mutators only replace top-level values: a shallow copy keeps the template intact
    record = dict(templates[record_id % len(templates)])
    record["id"] = record_id
    record.pop("is_public", None)
    return Case(record, mutators[how](draw, record), how)


# -- activity rows ---------------------------------------------------------------------------

RowKind = Literal["valid", "skipped", "bad"]
"""valid: becomes a statistic (sent, waiting for its learner, or held for its course);
skipped: the mapping skips it; bad: Udemy's record cannot be read. Both last are reported."""


@dataclass(frozen=True)
class RowCase:
    """One generated activity row, its kind, and how it was made."""

    raw: object
    kind: RowKind
    how: str
    either: bool = False  # odd but readable dates: sent, or refused by 360Learning (reported)

    @property
    def course(self) -> str:
        assert isinstance(self.raw, dict)
        return str(self.raw["course_id"])

    @property
    def mail(self) -> str:
        """The learner's email once made safe, trimmed and lower-cased."""
        assert isinstance(self.raw, dict)
        value = self.raw["user_email"]
        assert isinstance(value, str)
        return cleaned(value).strip().lower()

    def progress(self) -> int | None:
        """The progress 360Learning must hold, when the row's numbers are plain ones."""
        assert isinstance(self.raw, dict)
        if self.how not in {"as_is", "email_case", "email_controls", "text"}:
            return None
        if self.raw.get("course_completion_date"):
            return 100
        ratio = self.raw["completion_ratio"]
        assert isinstance(ratio, float)
        return min(100, max(0, math.floor(ratio)))


ROW_HOWS: Final = _weighted(
    [
        *("as_is", "email_case", "email_controls", "email_surrogate", "stranger", "text"),
        *("ratio", "minutes", "dates", "extra", "bad_email", "no_dates", "bad_course", "bad_type"),
        "not_object",
    ],
    {"as_is": 12, "bad_type": 2},
)
BAD_EMAILS: Final[list[object]] = [
    *(None, "", "   ", 5, "Anonymized User", "no-at-sign", "a b@example.com", "a@b"),
    *("@example.com", "a@@example.com", [], "\x00", "a@example..com"),
]
ODD_DATES: Final = [
    "2026-02-20",
    "2026-02-20T09:00:00+05:30",
    "2026-02-20T09:00:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "",
    None,
]
BAD_ROW_VALUES: Final = [
    ("completion_ratio", "abc"),
    ("completion_ratio", []),
    ("completion_ratio", 10**400),
    ("num_video_consumed_minutes", "abc"),
    ("num_video_consumed_minutes", {}),
    ("course_enroll_date", "nope"),
    ("course_start_date", "2024-02-30T00:00:00Z"),
    ("course_last_accessed_date", 5),
    ("course_completion_date", []),
    ("user_is_deactivated", "maybe"),
    ("user_name", 5),
    ("course_title", DEEP),
]


def _insert(draw: st.DrawFn, text: str, inserted: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + inserted + text[at:]


def activity_case(draw: st.DrawFn, index: int, course_id: int, learner: int) -> RowCase:
    """Learner ``learner``'s activity row on ``course_id``, mutated (or not)."""
    how = pick(draw, ROW_HOWS)
    if how == "not_object":
        return RowCase(pick(draw, NOT_OBJECTS), "bad", how)
    progress = draw(st.integers(0, 1333))  # tenths of a percent; past 100 %, completed
    done = "2026-02-28T11:00:00.456789Z" if progress > 1000 else None
    row = activity_record(
        learner,
        course_id,
        completion_ratio=100.0 if done else progress / 10,
        course_completion_date=done,
        course_first_completion_date=done,
    )
    mail = learner_email(learner)
    kind: RowKind = "valid"
    if how == "email_case":
        row["user_email"] = f"  {mail.upper()}\t"
    elif how == "email_controls":
        row["user_email"] = _insert(draw, mail, pick(draw, ["\x00", "\x07", "\x7f", "\x1b"]))
    elif how == "email_surrogate":  # a plausible address no 360Learning user has
        row["user_email"] = _insert(draw, mail.split("@")[0], "\ud800") + "@example.com"
    elif how == "stranger":
        row["user_email"] = f"Stranger.{index}@Corp.Example"
    elif how == "text":
        key = pick(draw, ["user_name", "user_surname", "course_title", "course_category"])
        row[key] = huge_text(draw) if draw(st.integers(0, 3)) == 0 else draw(HOSTILE_TEXT)
    elif how == "ratio":
        row["completion_ratio"] = pick(draw, ["50", 2**70, -5, 1e308, math.nan, math.inf, True])
    elif how == "minutes":
        row["num_video_consumed_minutes"] = pick(
            draw, [1e306, 1e308, -1, math.nan, math.inf, "12", 2**70, 0, None]
        )
    elif how == "dates":
        key = pick(draw, ["course_enroll_date", "course_start_date", "course_last_accessed_date"])
        row[key] = pick(draw, ODD_DATES)
        return RowCase(row, kind, how, either=True)
    elif how == "extra":
        row.update({"nested_extra": DEEP, "\ud800": "\x00", "lms_user_id": 2**70})
    elif how == "bad_email":
        kind = "skipped"
        _set_or_drop(draw, row, "user_email", BAD_EMAILS)
    elif how == "no_dates":
        kind = "skipped"
        row["course_enroll_date"] = None
        row.pop("course_start_date")
    elif how == "bad_course":
        kind = "bad"
        _set_or_drop(draw, row, "course_id", [*BAD_IDS, "3000001"])
    elif how == "bad_type":
        kind = "bad"
        key, value = pick(draw, BAD_ROW_VALUES)
        row[key] = value
    return RowCase(row, kind, how)


# -- hostile envelopes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A hostile envelope or page on one listing of the Udemy sandbox."""

    name: str
    value: object = None
    listings: tuple[str, ...] = (COURSES,)

    def on(self, *listings: str) -> Envelope:
        return Envelope(self.name, self.value, listings)

    def apply(self, faults: UdemyFaults) -> None:
        """Put the fault in the sandbox's plan, on each of its listings."""
        for listing in self.listings:
            self._apply(faults, listing)

    def _apply(self, faults: UdemyFaults, p: str) -> None:
        # page numbers are at the server's page size
        value = self.value
        here = f"http://localhost/api-2.0/organizations/123456/{p}"
        if self.name == "count":  # on the first page, which sets the listing's total
            faults.envelope(p, 1, count=value)
        elif self.name == "count_everywhere":  # a consistent lie, with next links beyond it
            for page in range(1, 30):
                faults.envelope(p, page, count=value)
        elif self.name == "count_later":
            faults.envelope(p, 2, count=value)
        elif self.name == "next_repeats":
            faults.envelope(p, 1, next=f"{here}?page=1")
        elif self.name == "next_backward":  # followed one by one: the server's own page size
            faults.ignore_page_size(p, 7).envelope(p, 2, next=f"{here}?page=1")
        elif self.name == "next_value":
            faults.envelope(p, 1, next=value)
        elif self.name == "endless":
            faults.endless_next(p, repeat=bool(value))
        elif self.name == "page_size":
            faults.ignore_page_size(p, 7)
            if value:
                faults.endless_next(p)
        elif self.name == "results":
            faults.envelope(p, 2, results=value)
        elif self.name == "body":
            assert isinstance(value, bytes)
            faults.page_body(p, 2, value)
        elif self.name == "status":
            assert isinstance(value, int)
            faults.page_body(p, 2, b'{"detail": "Invalid page."}', status=value)
        else:
            raise AssertionError(self.name)


def _each(name: str, *values: object) -> list[Envelope]:
    return [Envelope(name, value) for value in values]


ENVELOPES: Final = [
    *_each("count", 10_000, 3, 0, "many", -1, 2**70, None),
    *_each("count_later", 7, None, 10_000),
    *_each("count_everywhere", 1, 50),
    Envelope("next_repeats"),
    Envelope("next_backward"),
    *_each("next_value", 42, "javascript:alert(1)", "?page=x", []),
    Envelope("next_value", "https://evil.example/steal?page=2"),
    Envelope("endless", False),
    Envelope("endless", True),
    Envelope("page_size", False),
    Envelope("page_size", True),
    *_each("results", None, {}, "x", 5, [[[]]]),
    *_each("body", nested_json(100_000), b"\xff\xfe{", b"<html>", b"[]", b"null"),
    *_each("status", 404, 503, 400),
]


# -- the scenario -----------------------------------------------------------------------------


class _Printer(Protocol):
    def text(self, text: str) -> None: ...


@dataclass(frozen=True)
class Scenario:
    """One connection's Udemy data for a ``sync all``, and the envelope of its second day."""

    courses: list[Case]
    paths: list[Case]
    rows: list[RowCase]
    tags: bool = False
    envelope: Envelope | None = None

    @property
    def records(self) -> int:
        return len(self.courses) + len(self.paths) + len(self.rows)

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        # the records hold 100 KB strings: say what was done to them, not what they hold
        def hows(cases: Sequence[Case | RowCase]) -> dict[str, int]:
            return dict(
                Counter(f"{c.how}:{c.verdict if isinstance(c, Case) else c.kind}" for c in cases)
            )

        return (
            f"Scenario(courses={hows(self.courses)}, paths={hows(self.paths)}, "
            f"rows={hows(self.rows)}, tags={self.tags}, envelope={self.envelope!r})"
        )


@st.composite
def scenarios(draw: st.DrawFn, courses: int, paths: int, rows: int) -> Scenario:
    """``courses`` courses, ``paths`` learning paths and ``rows`` activity rows."""
    course_cases = [
        record_case(draw, COURSE_TEMPLATES, COURSE_MUTATORS, COURSE_HOWS, COURSE_BASE + k)
        for k in range(courses)
    ]
    path_cases = [
        record_case(draw, PATH_TEMPLATES, PATH_MUTATORS, PATH_HOWS, PATH_BASE + k)
        for k in range(paths)
    ]
    # one row per (course, learner), as Udemy reports an enrollment once: row j is learner
    # j % LEARNERS's, on a course whose index is j // LEARNERS modulo ``slices``; an index past
    # the listing names a course no listing holds
    slices = -(-rows // LEARNERS)
    spread = (courses + courses // 8) // slices
    row_cases = []
    for j in range(rows):
        c = draw(st.integers(0, spread)) * slices + j // LEARNERS
        course_id = COURSE_BASE + c if c < courses else OUTSIDE + c
        row_cases.append(activity_case(draw, j, course_id, j % LEARNERS))
    # connection-wide choices: hypothesis repeats a few draws from one example to the next, so
    # they are taken from the hundreds of draws above (a checksum of them), evenly spread
    hows = [c.how for c in course_cases + path_cases] + [r.how for r in row_cases]
    spread_by = zlib.crc32(" ".join(hows).encode())
    tags = spread_by % 3 == 0  # tag sync is slow: a call or two per course
    envelope = None
    if (spread_by >> 2) % 3:
        kind = ENVELOPES[(spread_by >> 4) % len(ENVELOPES)]
        envelope = kind.on((COURSES, PATHS, ACTIVITY)[(spread_by >> 12) % 3])
    return Scenario(course_cases, path_cases, row_cases, tags, envelope)


# -- running it -------------------------------------------------------------------------------


def serve(env: HostileEnv, scenario: Scenario) -> None:
    """Serve the scenario's records as the three Udemy listings (the tenant is bypassed)."""
    faults = env.udemy_sb.faults
    faults.listing(COURSES, [c.raw for c in scenario.courses])
    faults.listing(PATHS, [c.raw for c in scenario.paths])
    faults.listing(ACTIVITY, [r.raw for r in scenario.rows])


async def sync_all(env: HostileEnv) -> tuple[RunReport, RunReport]:
    """``sync all``: the catalog job, then the statistics job."""
    return await env.courses(), await env.stats()


def outcomes(env: HostileEnv, report: RunReport, outcome: str) -> list[ItemOutcomeRow]:
    assert report.run_id is not None
    return list(env.store.runs.iter_outcomes(report.run_id, outcome=outcome))


@dataclass
class Day1:
    """What the first day left, which the later days are checked against."""

    active: set[str]
    resendable_stats: int = 0  # rows 360Learning refused: sent again later


def _path_ext(case: Case) -> str | None:
    return None if case.record_id is None else f"lp-{case.record_id}"


def check_catalog(env: HostileEnv, scenario: Scenario, report: RunReport) -> Day1:
    """Every good record synced, every bad one reported with a reason and never synced."""
    assert report.status in ("succeeded", "partial"), report.errors
    errors = outcomes(env, report, "error")
    assert all(o.message for o in errors), "an error outcome without its reason"
    reported = Counter((o.kind, o.external_id) for o in errors)
    synced = env.course_ids()
    active = env.active_external_ids()
    day1 = Day1(active=active)
    for kind, cases, ext_of, prefix in (
        ("course", scenario.courses, lambda c: c.record_id, ""),
        ("learning_path", scenario.paths, _path_ext, "[Learning Path] "),
    ):
        good_ids: set[str] = set()
        bad = 0
        for case in cases:
            ext = ext_of(case)
            # a path that cannot be read is reported under its Udemy id, one that cannot be
            # mapped under its external id: either will do
            ids = {i for i in (ext, case.record_id) if i is not None}
            was_reported = any(reported[(kind, i)] for i in ids)
            if case.verdict == "good":
                why = [o.message for o in errors if o.external_id in ids]
                assert ext in active, f"{case.how}: good {kind} {ext} not synced: {why}"
                assert isinstance(case.raw, dict)
                title = case.raw["title"]
                assert isinstance(title, str)
                assert env.course(ext)["name"] == prefix + cleaned(title).strip()
                assert not was_reported, f"{case.how}: good {kind} {ext} reported: {why}"
                good_ids |= ids
            elif case.verdict == "bad":
                bad += 1
                assert ext not in synced, f"{case.how}: bad {kind} {ext} was synced"
                assert ext is None or was_reported, f"{case.how}: bad {kind} {ext} not reported"
            else:  # absent
                assert ext not in synced, f"{case.how}: {kind} {ext}"
                assert not was_reported, f"{case.how}: {kind} {ext}"
        on_bad = [o for o in errors if o.kind == kind and o.external_id not in good_ids]
        assert len(on_bad) == bad, f"{kind}: {len(on_bad)} reported for {bad} bad records"
    for ext in synced:
        payload = env.course(ext)
        launch = urlsplit(str(payload["launchUrl"]))
        assert (launch.scheme, launch.hostname in LAUNCH_HOSTS) == ("https", True), launch
        image = payload.get("imageUrl")
        assert image is None or str(image).startswith("https://"), image
        for text in (payload["name"], payload.get("description") or ""):
            assert isinstance(text, str)
            assert "\x00" not in text
            text.encode()  # no lone surrogate
    return day1


def check_statistics(env: HostileEnv, scenario: Scenario, report: RunReport, day1: Day1) -> None:
    """Rows are sent, wait for their learner or course, or are reported with a reason."""
    assert report.status in ("succeeded", "partial"), report.errors
    skipped = outcomes(env, report, "skipped")
    assert all(o.message for o in skipped), "a skipped row without its reason"
    refused = {(o.external_id, o.learner_mail) for o in outcomes(env, report, "error")}
    waiting = {(o.external_id, o.learner_mail) for o in outcomes(env, report, "unmatched")}
    expected_skipped = expected_held = 0
    expected_waiting: set[tuple[str, str]] = set()
    for row in scenario.rows:
        if row.kind != "valid":
            expected_skipped += 1
            continue
        if row.course not in day1.active:
            expected_held += 1
            continue
        user = env.lms.world.user_by("mail", row.mail)
        if user is None or user.status == "deleted":
            expected_waiting.add((row.course, row.mail))
            continue
        if (row.course, row.mail) in refused:
            assert row.either, f"{row.how}: {row.mail} at {row.course} refused"
            day1.resendable_stats += 1
            continue
        attempts = env.attempts(row.mail, row.course)
        assert attempts, f"{row.how}: no attempt of {row.mail} at {row.course}"
        expected = row.progress()
        if expected is not None:
            assert attempts[-1]["progress"] == expected, (row.how, attempts)
    assert len(refused) == day1.resendable_stats
    assert (len(skipped), report.counts["skipped"]) == (expected_skipped, expected_skipped)
    assert report.counts["held"] == expected_held
    assert waiting == expected_waiting
    assert report.counts["unmatched"] == len(expected_waiting)


def check_later_day(
    env: HostileEnv, courses: RunReport, stats: RunReport, day1: Day1, *, hostile: bool
) -> None:
    """No crash, nothing archived, nothing that was accepted sent again.

    Under a hostile envelope a run may fail, with a clear error, when a listing is unusable.
    """
    allowed = ("succeeded", "partial", "failed") if hostile else ("succeeded", "partial")
    for report in (courses, stats):
        assert report.status in allowed, (report.job, report.status, report.errors)
        assert report.status != "failed" or report.errors
    assert courses.counts["archived"] == 0
    assert env.active_external_ids() == day1.active
    c = courses.counts
    assert c["created"] + c["updated"] + c["restored"] == 0, c
    assert stats.counts["created"] + stats.counts["updated"] <= day1.resendable_stats


async def drive(scenario: Scenario, *, store_url: str | None = None, page_size: int = 100) -> None:
    """Days of ``sync all``: plain, then with the hostile envelope if any, then plain again."""
    env = await make_hostile_env(
        store_url=store_url,
        page_size=page_size,
        learners=LEARNERS,
        learning_paths_enabled=True,
        tags_enabled=scenario.tags,
    )
    try:
        serve(env, scenario)
        courses, stats = await sync_all(env)
        day1 = check_catalog(env, scenario, courses)
        check_statistics(env, scenario, stats, day1)
        for hostile in (True, False)[: 1 + (scenario.envelope is not None)]:
            env.next_day()
            env.udemy_sb.faults.clear()
            serve(env, scenario)
            if hostile and scenario.envelope is not None:
                scenario.envelope.apply(env.udemy_sb.faults)
            courses, stats = await sync_all(env)
            check_later_day(env, courses, stats, day1, hostile=hostile)
    finally:
        env.close()


FUZZ: Final = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    # an example is a whole connection of a few hundred records: shrinking one takes minutes,
    # while its summary (Scenario's repr) and a derandomized re-run find the record at fault
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
EXAMPLES: Final = 20
COURSES_PER_EXAMPLE: Final = 200
PATHS_PER_EXAMPLE: Final = 30
ROWS_PER_EXAMPLE: Final = 280  # 20 × 510 = 10,200 records


class TestSyncAll:
    @settings(FUZZ, max_examples=EXAMPLES)
    @given(scenarios(COURSES_PER_EXAMPLE, PATHS_PER_EXAMPLE, ROWS_PER_EXAMPLE))
    def test_generated_records_and_envelopes_never_stop_a_sync_all(
        self, scenario: Scenario
    ) -> None:
        """10,200 generated records: every good one synced, every bad one reported, no crash."""
        asyncio.run(drive(scenario, page_size=50))

    @pytest.mark.postgres
    @settings(FUZZ, max_examples=3)
    @given(scenarios(60, 10, 90))
    def test_on_postgresql(self, scenario: Scenario) -> None:
        """The same on the PostgreSQL store, where a NUL byte once crashed every run."""
        with pg_schema() as url:
            asyncio.run(drive(scenario, store_url=url, page_size=50))


def _small() -> Scenario:
    """A few plain records per listing, three pages each at the page size of 10."""
    return Scenario(
        courses=[
            Case(dict(t, id=COURSE_BASE + k), "good", "as_is")
            for k, t in enumerate(COURSE_TEMPLATES[:25])
        ],
        paths=[
            Case({**t, "id": PATH_BASE + k, "is_public": True}, "good", "as_is")
            for k, t in enumerate(PATH_TEMPLATES[:12])
        ],
        rows=[
            RowCase(activity_record(i, COURSE_BASE + i % 25), "valid", "as_is") for i in range(25)
        ],
    )


#: One envelope of each kind; the fuzz draws from all of them, on every listing.
EACH_KIND: Final = list({e.name: e for e in reversed(ENVELOPES)}.values())


class TestHostileEnvelopes:
    @pytest.mark.parametrize("envelope", EACH_KIND, ids=lambda e: f"{e.name}-{e.value!r:.12}")
    async def test_a_hostile_envelope_fails_cleanly_or_is_read(self, envelope: Envelope) -> None:
        """Each kind of hostile envelope, on the course and the activity listings: no crash,
        nothing archived, and the next day converges."""
        scenario = _small()
        hostile = Scenario(
            scenario.courses, scenario.paths, scenario.rows, envelope=envelope.on(COURSES, ACTIVITY)
        )
        await drive(hostile, page_size=10)
