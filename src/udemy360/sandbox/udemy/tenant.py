"""A deterministic, lazily generated Udemy Business tenant, plus a small dict of admin changes.

Record ``i`` of every listing is a pure function of ``(seed, i, version)``: nothing is built up
front, and a page costs O(page size) whatever the tenant's size (30,000 courses or 1,000,000
activity rows). Admin changes (added, changed, retired records; advanced learners) are kept as
deltas on top of the generator, so a multi-day scenario stays cheap.

Course ids are ``1_000_000 + i``; learning-path ids are ``1_000_000 + j`` too, on purpose: Udemy
course and path ids share one number space (DESIGN.md, learning-path table).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Final

from udemy360.sandbox.seed import learner_email, learner_name

Record = dict[str, object]

ID_BASE: Final = 1_000_000
RETIRED_ID_BASE: Final = 900_000  # ids of courses that left the collection before the run
_EPOCH: Final = datetime(2024, 1, 1, tzinfo=UTC)
_MASK: Final = (1 << 64) - 1

_TAXONOMY: Final = (
    (288, "Development", "development", ((8, "Web Development"), (558, "Data Science"))),
    (268, "Business", "business", ((28, "Management"), (48, "Project Management"))),
    (294, "IT & Software", "it-and-software", ((132, "IT Certifications"), (134, "Network"))),
    (316, "Marketing", "marketing", ((458, "Marketing Strategy"), (322, "Digital Marketing"))),
    (296, "Design", "design", ((6, "Graphic Design"), (40, "User Experience Design"))),
    (292, "Office Productivity", "office-productivity", ((94, "Microsoft"), (96, "Google"))),
)
_TOPICS: Final = (
    (1234, "Design Thinking"),
    (7380, "Python"),
    (8322, "Excel"),
    (5336, "Leadership"),
    (4452, "AWS Certified Solutions Architect"),
    (6122, "Agile"),
    (2740, "SQL"),
    (9000, "Public Speaking"),
)
_LOCALES: Final = (None, "en_US", "en_US", "en_GB", "pt_BR", "zh_TW", "ja_JP", "fr_FR", "es_ES")
_LEVELS: Final = ("All Levels", "Beginner", "Intermediate", "Expert")
_INSTRUCTORS: Final = ("Jane Doe", "大森 剛", "José Álvarez", "Priya Natarajan", "Tom O'Brien")
_WORDS: Final = ("Planning", "Python", "Cloud", "Negotiation", "Excel", "Security", "Design")
_IMAGE_SIZES: Final = (
    "48x27",
    "50x50",
    "75x75",
    "96x54",
    "100x100",
    "125_H",
    "200_H",
    "240x135",
    "304x171",
    "480x270",
    "750x422",
)
# Keys only sent with fields[course]=@all or when asked for by name.
COURSE_EXTRA_FIELDS: Final = frozenset({"requirements", "what_you_will_learn", "caption_locales"})
_LEARNER_EMAIL: Final = re.compile(r"^learner(\d{6})@example\.com$")


def _mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, stable across processes."""
    x = 0x9E3779B97F4A7C15
    for value in values:
        x = (x ^ (value & _MASK)) & _MASK
        x = (x + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
    return x


def _iso(moment: datetime, style: int) -> str:
    """Timestamps in the spellings seen in the wild: with and without fractional seconds."""
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style == 0:
        return base + "Z"
    if style == 1:
        return f"{base}.{moment.microsecond:06d}Z"
    return f"{base}.{moment.microsecond // 1000:03d}Z"


class _Listing:
    """Positions of a listing: generated records minus retired ones, then added ones."""

    def __init__(self, generated: int) -> None:
        self.generated = generated
        self.retired: list[int] = []  # sorted generated indices
        self.added: dict[int, Record] = {}  # id -> full record, insertion ordered
        self.changes: dict[int, Record] = {}  # id -> changed fields

    def count(self) -> int:
        return self.generated - len(self.retired) + len(self.added)

    def index_at(self, position: int) -> int:
        """The generated index at a listing position (skipping retired ones)."""
        index = position
        while True:
            candidate = position + bisect.bisect_right(self.retired, index)
            if candidate == index:
                return index
            index = candidate

    def positions(self, start: int, stop: int) -> Iterator[tuple[int | None, int | None]]:
        """Yield ``(generated_index, None)`` or ``(None, added_id)`` for positions start..stop."""
        live = self.generated - len(self.retired)
        added_ids = list(self.added) if stop > live else []
        for position in range(start, min(stop, self.count())):
            if position < live:
                yield self.index_at(position), None
            else:
                yield None, added_ids[position - live]


class UdemyTenant:
    """One organization's data: courses, learning paths and learner activity, generated lazily."""

    def __init__(
        self,
        *,
        seed: int = 7,
        courses: int = 200,
        learning_paths: int = 12,
        learners: int = 300,
        activity_rows: int = 1_500,
        version: int = 0,
    ) -> None:
        if min(courses, learning_paths, learners, activity_rows) < 0:
            raise ValueError("tenant sizes must not be negative")
        self.seed = seed
        self.version = version
        self.learners = learners
        self.generated_courses = courses
        self._courses = _Listing(courses)
        self._paths = _Listing(learning_paths)
        # every learner has at most one row per course
        self._rows = min(activity_rows, learners * courses)
        self._row_changes: dict[int, Record] = {}
        self._rows_added: dict[tuple[str, int], Record] = {}
        self._filter_cache: dict[tuple[date | None, date | None, int], list[int]] = {}
        self._generation = 0  # bumped by every activity change; keys the filter cache
        self._next_id = ID_BASE + max(courses, learning_paths)

    def __repr__(self) -> str:
        return (
            f"UdemyTenant(seed={self.seed}, courses={self.course_count}, "
            f"learning_paths={self.learning_path_count}, activity_rows={self._rows})"
        )

    # --- courses -----------------------------------------------------------------------------

    @property
    def course_count(self) -> int:
        """How many courses ``courses/list/`` reports."""
        return self._courses.count()

    def course_ids(self) -> Iterator[int]:
        """The ids of the listing, in listing order (lazily)."""
        for index, added_id in self._courses.positions(0, self._courses.count()):
            yield ID_BASE + index if index is not None else int(added_id or 0)

    def course_page(
        self, start: int, stop: int, *, origin: str = "https://acme.udemy.com", nonce: int = 0
    ) -> list[Record]:
        """Courses at listing positions ``start..stop`` (``nonce`` re-signs the video URLs)."""
        return [
            self._course_at(index, added_id, origin, nonce)
            for index, added_id in self._courses.positions(start, stop)
        ]

    def get_course(
        self, course_id: int, *, origin: str = "https://acme.udemy.com", nonce: int = 0
    ) -> Record | None:
        """One course of the collection, or ``None`` if unknown or retired."""
        if course_id in self._courses.added:
            return self._course_at(None, course_id, origin, nonce)
        index = course_id - ID_BASE
        if not 0 <= index < self._courses.generated:
            return None
        position = bisect.bisect_left(self._courses.retired, index)
        if position < len(self._courses.retired) and self._courses.retired[position] == index:
            return None
        return self._course_at(index, None, origin, nonce)

    def add_course(self, **fields: object) -> int:
        """Add a course to the collection (generated defaults, overridden by ``fields``)."""
        course_id = self._new_id()
        record = self._course(course_id - ID_BASE, "https://acme.udemy.com", 0)
        record.update(fields, id=course_id)
        self._courses.added[course_id] = record
        return course_id

    def change_course(self, course_id: int, **fields: object) -> None:
        """Change fields of a course still in the collection."""
        if self.get_course(course_id) is None:
            raise KeyError(f"no course {course_id} in the collection")
        self._courses.changes.setdefault(course_id, {}).update(fields)

    def retire_course(self, course_id: int) -> None:
        """Take a course out of the collection (its activity rows stay)."""
        self._retire(self._courses, course_id, "course")

    # --- learning paths ----------------------------------------------------------------------

    @property
    def learning_path_count(self) -> int:
        """How many paths ``learning-paths/list/`` reports (non-public ones included)."""
        return self._paths.count()

    def learning_path_page(
        self, start: int, stop: int, *, origin: str = "https://acme.udemy.com"
    ) -> list[Record]:
        """Learning paths at listing positions ``start..stop``."""
        out = []
        for index, added_id in self._paths.positions(start, stop):
            path_id = ID_BASE + index if index is not None else int(added_id or 0)
            record = (
                self._path(index, origin) if index is not None else dict(self._paths.added[path_id])
            )
            record.update(self._paths.changes.get(path_id, {}))
            out.append(record)
        return out

    def get_learning_path(
        self, path_id: int, *, origin: str = "https://acme.udemy.com"
    ) -> Record | None:
        """One learning path, or ``None`` if unknown or retired."""
        if path_id in self._paths.added:
            return {**self._paths.added[path_id], **self._paths.changes.get(path_id, {})}
        index = path_id - ID_BASE
        if not 0 <= index < self._paths.generated or index in self._paths.retired:
            return None
        return {**self._path(index, origin), **self._paths.changes.get(path_id, {})}

    def add_learning_path(self, **fields: object) -> int:
        """Add a learning path (generated defaults, overridden by ``fields``)."""
        path_id = self._new_id()
        record = self._path(path_id - ID_BASE, "https://acme.udemy.com")
        record.update(fields, id=path_id)
        self._paths.added[path_id] = record
        return path_id

    def change_learning_path(self, path_id: int, **fields: object) -> None:
        """Change fields of a listed learning path."""
        if self.get_learning_path(path_id) is None:
            raise KeyError(f"no learning path {path_id}")
        self._paths.changes.setdefault(path_id, {}).update(fields)

    def retire_learning_path(self, path_id: int) -> None:
        """Remove a learning path from the listing."""
        self._retire(self._paths, path_id, "learning path")

    # --- activity ----------------------------------------------------------------------------

    def activity_count(self, from_date: date | None = None, to_date: date | None = None) -> int:
        """How many rows the activity report has (within the window, if one is given)."""
        if from_date is None and to_date is None:
            return self._rows + len(self._rows_added)
        return len(self._filtered(from_date, to_date))

    def activity_page(
        self,
        start: int,
        stop: int,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[Record]:
        """Activity rows at report positions ``start..stop``.

        The window applies to ``course_last_accessed_date``, falling back to the enroll date
        (our assumption: the real API does not say which column it filters on).
        """
        if from_date is None and to_date is None:
            added = list(self._rows_added.values()) if stop > self._rows else []
            total = self._rows + len(added)
            return [
                self.activity_row(p) if p < self._rows else dict(added[p - self._rows])
                for p in range(start, min(stop, total))
            ]
        return [self._row_by_key(key) for key in self._filtered(from_date, to_date)[start:stop]]

    def activity_row(self, row: int) -> Record:
        """Generated row ``row`` with any admin change applied."""
        changed = self._row_changes.get(row)
        return dict(changed) if changed is not None else self._row(row)

    def advance_learner(
        self,
        learner: int | str,
        course_id: int,
        *,
        progress: float | None = None,
        complete: bool = False,
        retake: bool = False,
        minutes: float | None = None,
        at: datetime | None = None,
    ) -> Record:
        """Move a learner forward on a course, creating the enrollment if needed; return the row.

        ``progress`` sets the ratio (0–100); ``complete`` sets 100% and the completion dates;
        ``retake`` starts a completed course again (ratio back to ``progress`` or 0, completion
        dates kept, as Udemy reports after lectures are re-done); ``minutes`` adds watched minutes.
        """
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        stamp = _iso(moment, 0)
        email, index = self._learner(learner)
        row_number = self._row_number(index, course_id) if index is not None else None
        if row_number is not None:
            row = self.activity_row(row_number)
        else:
            row = dict(
                self._rows_added.get((email, course_id))
                or self._new_row(email, index, course_id, stamp)
            )
        if row.get("course_start_date") is None:
            row["course_start_date"] = stamp
        if progress is not None:
            row["completion_ratio"] = float(progress)
        if retake:
            row["completion_ratio"] = float(progress or 0.0)
        if complete:
            row["completion_ratio"] = 100.0
            row["course_completion_date"] = stamp
            if row.get("course_first_completion_date") is None:
                row["course_first_completion_date"] = stamp
        if minutes is not None:
            consumed = row.get("num_video_consumed_minutes")
            base = float(consumed) if isinstance(consumed, int | float) else 0.0
            row["num_video_consumed_minutes"] = base + minutes
        row["course_last_accessed_date"] = stamp
        row["last_activity_date"] = moment.date().isoformat()
        if row_number is not None:
            self._row_changes[row_number] = row
        else:
            self._rows_added[(email, course_id)] = row
        self._generation += 1
        self._filter_cache.clear()
        return dict(row)

    # --- internals: courses ------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _retire(self, listing: _Listing, record_id: int, what: str) -> None:
        if listing.added.pop(record_id, None) is not None:
            listing.changes.pop(record_id, None)
            return
        index = record_id - ID_BASE
        position = bisect.bisect_left(listing.retired, index)
        already = position < len(listing.retired) and listing.retired[position] == index
        if not 0 <= index < listing.generated or already:
            raise KeyError(f"no {what} {record_id} to retire")
        listing.retired.insert(position, index)
        listing.changes.pop(record_id, None)

    def _course_at(
        self, index: int | None, added_id: int | None, origin: str, nonce: int
    ) -> Record:
        if index is not None:
            course_id = ID_BASE + index
            record = self._course(index, origin, nonce)
        else:
            course_id = int(added_id or 0)
            record = dict(self._courses.added[course_id])
            record["promo_video_url"] = self._promo(course_id, nonce)
        record.update(self._courses.changes.get(course_id, {}))
        return record

    def _h(self, kind: int, index: int, salt: int = 0) -> int:
        return _mix(self.seed, kind, index, self.version, salt)

    def _slug(self, index: int) -> str:
        word = _WORDS[self._h(1, index, 1) % len(_WORDS)].lower()
        return f"{word}-course-{index}"

    def _course(self, index: int, origin: str, nonce: int = 0) -> Record:
        h = self._h(1, index)
        course_id = ID_BASE + index
        slug = self._slug(index)
        word = _WORDS[self._h(1, index, 1) % len(_WORDS)]
        category_id, category, category_slug, subs = _TAXONOMY[h % len(_TAXONOMY)]
        sub_id, sub_title = subs[(h >> 4) % len(subs)]
        categories: list[str] = [sub_title]
        if h % 11 == 0:
            categories.append(sub_title.upper())  # a case-insensitive duplicate
        topics = [
            {"_class": "course_label", "id": tid, "title": title, "url": f"/topic/{tid}/"}
            for tid, title in (
                _TOPICS[(h >> (8 + 3 * k)) % len(_TOPICS)] for k in range((h >> 20) % 4)
            )
        ]
        n_instructors = (h >> 24) % 4
        instructors = [
            _INSTRUCTORS[(h >> (26 + 2 * k)) % len(_INSTRUCTORS)] for k in range(n_instructors)
        ]
        if n_instructors and h % 7 == 0:
            instructors.append("  ")  # blanks occur
        if n_instructors and h % 9 == 0:
            instructors.append(instructors[0])  # and duplicates
        if index % 23 == 5:
            url = f"/course/{slug}/"  # relative URLs occur (research §3.1)
        elif index % 17 == 3:
            url = f"{origin.replace('https://', 'http://')}/course/{slug}/"
        else:
            url = f"{origin}/course/{slug}/"
        locale = _LOCALES[(h >> 34) % len(_LOCALES)]
        length = (h >> 38) % 3000
        description: str | None = (
            f"<p>Learn <strong>{word}</strong> in practice.</p><ul><li>Step one</li></ul>"
            f"<script>alert({index})</script>"
            if index % 29 == 7
            else f"<p><strong>{word}</strong> for teams: course {index}.</p>"
        )
        if index % 31 == 4:
            description = ""
        updated = date(2015, 1, 1) + timedelta(days=(h >> 44) % 3800)
        image_hash = f"{(h >> 12) & 0xFFFF:04x}"
        return {
            "_class": "course",
            "id": course_id,
            "title": f"{word} essentials {index}",
            "headline": f"Everything about {word.lower()} in {length // 60 + 1} hours",
            "description": description,
            "url": url,
            "estimated_content_length": 0 if index % 37 == 2 else int(length),
            "estimated_content_length_video": int(length),
            "categories": categories,
            "primary_category": {
                "_class": "course_category",
                "id": category_id,
                "title": category,
                "url": f"/courses/ufb-{category_slug}/",
            },
            "primary_subcategory": {
                "_class": "course_subcategory",
                "id": sub_id,
                "title": sub_title,
                "url": f"/courses/ufb-{category_slug}/ufb-{sub_title.lower().replace(' ', '-')}/",
            },
            "topics": topics,
            "num_lectures": 5 + h % 90,
            "instructors": instructors,
            "promo_video_url": self._promo(course_id, nonce) if h % 13 else [],
            "requirements": {"list": ["A computer"]},
            "what_you_will_learn": {"list": [f"Use {word.lower()}"]},
            "images": {
                f"size_{size}": f"https://img-c.udemycdn.com/course/{size}/{course_id}_{image_hash}.jpg"
                for size in _IMAGE_SIZES
            },
            "mobile_native_deeplink": f"udemyufb://discover?coursePublishedTitle={slug}",
            "locale": None if locale is None else {"_class": "locale", "locale": locale},
            "is_practice_test_course": False,
            "caption_languages": ["English [Auto]"],
            "caption_locales": [],
            "last_update_date": updated.isoformat(),
            "xapi_activity_id": f"https://www.udemy.com/course/{course_id}",
            "level": _LEVELS[(h >> 50) % len(_LEVELS)],
            "is_custom": index % 41 == 0,
            "is_imported": False,
        }

    def _promo(self, course_id: int, nonce: int) -> list[Record]:
        """Three qualities of signed CDN URLs; the signature changes on every request."""
        out: list[Record] = []
        for label, name in (("720", "WebHD_720p"), ("480", "WebHD_480"), ("360", "WebHD")):
            digest = hashlib.sha256(f"{self.seed}:{course_id}:{label}:{nonce}".encode()).hexdigest()
            query = (
                f"Expires={1_700_000_000 + nonce}&Signature={digest[:40]}&Key-Pair-Id=K2S3EXAMPLE"
            )
            out.append(
                {
                    "type": "video/mp4",
                    "label": label,
                    "file": f"https://mp4-c.udemycdn.com/{course_id}/{name}.mp4?{query}",
                }
            )
        return out

    # --- internals: learning paths -----------------------------------------------------------

    def _path(self, index: int, origin: str) -> Record:
        h = self._h(2, index)
        path_id = ID_BASE + index
        sections = []
        item_count = 0
        for s in range(1 + h % 3):
            items = []
            for t in range(1 + (h >> (4 + 2 * s)) % 4):
                kind = (h >> (10 + s + t)) % 5
                course_index = (index * 7 + s * 3 + t) % max(1, self.generated_courses)
                slug = self._slug(course_index)
                if kind == 3:
                    items.append(
                        {
                            "id": 70_000 + index * 100 + s * 10 + t,
                            "title": f"Article {s}.{t}",
                            "url": f"https://example.org/articles/{index}-{s}-{t}",
                            "type": "link",
                            "duration": None,
                            "number_of_items": 1,
                            "order": t + 1,
                            "thumbnail": {},
                            "resource_url": None,
                        }
                    )
                elif kind == 4:
                    items.append(
                        {
                            "id": 80_000 + index * 100 + s * 10 + t,
                            "title": f"Lecture {s}.{t}",
                            "url": f"{origin}/course/{slug}/learn/lecture/{5000 + t}",
                            "type": "lecture",
                            "duration": 7.5,
                            "number_of_items": 1,
                            "order": t + 1,
                            "thumbnail": {},
                            "resource_url": f"/course/{slug}/learn/lecture/{5000 + t}",
                        }
                    )
                else:
                    course_id = ID_BASE + course_index
                    items.append(
                        {
                            "id": course_id,
                            "title": f"Course {course_index}",
                            "url": f"{origin}/course/{slug}/",
                            "type": "course",
                            "duration": float(60 + (h >> t) % 600),
                            "number_of_items": 1,
                            "order": t + 1,
                            "thumbnail": {
                                f"size_{size}": f"https://img-c.udemycdn.com/course/{size}/{course_id}.jpg"
                                for size in ("96x54", "240x135", "480x270")
                            },
                            "resource_url": f"/course/{slug}/",
                        }
                    )
            if index % 3 == 1:
                items.reverse()  # the payload's order is not the path's order
            item_count += len(items)
            sections.append(
                {
                    "_class": "learning_path_section",
                    "id": 9_000 + index * 10 + s,
                    "title": f"Part {s + 1}",
                    "description": "",
                    "order": s + 1,
                    "items": items,
                }
            )
        if index % 3 == 2:
            sections.reverse()
        editors = [
            {
                "_class": "user",
                "display_name": " ".join(learner_name(index + e)),
                "email": f"editor{index + e}@example.com",
                "lms_user_id": None,
            }
            for e in range((h >> 30) % 3)
        ]
        modified = _EPOCH + timedelta(
            seconds=(h >> 32) % 40_000_000, microseconds=(h >> 8) % 1_000_000
        )
        record: Record = {
            "_class": "learning_path",
            "id": path_id,
            "title": f"Learning path {index}",
            "description": f"<p>Path {index} for <em>new joiners</em>.</p>",
            "url": f"{origin}/learning-paths/{path_id}/",
            "editors": editors,
            "created": _iso(_EPOCH, 0),
            "last_modified": _iso(modified, index % 3),
            "estimated_content_length": int((h >> 40) % 2000),
            "number_of_content_items": item_count,
            "is_pro_path": index % 5 == 2,
            "is_public": index % 4 != 3,
            "sections": sections,
        }
        if index % 4 == 1:
            del record["is_public"]  # older payloads lack the flag
        return record

    # --- internals: activity -----------------------------------------------------------------

    def _course_index_of_row(self, row: int) -> tuple[int, int]:
        learner = row % self.learners
        k = row // self.learners
        return learner, (learner * 31 + k) % self.generated_courses

    def _row_number(self, learner: int, course_id: int) -> int | None:
        course_index = course_id - ID_BASE
        if not 0 <= course_index < self.generated_courses or not 0 <= learner < self.learners:
            return None
        k = (course_index - learner * 31) % self.generated_courses
        row = k * self.learners + learner
        return row if row < self._rows else None

    def _learner(self, learner: int | str) -> tuple[str, int | None]:
        if isinstance(learner, int):
            return learner_email(learner), learner
        match = _LEARNER_EMAIL.match(learner.strip().lower())
        if match and int(match.group(1)) < self.learners:
            return learner_email(int(match.group(1))), int(match.group(1))
        return learner.strip(), None

    def _new_row(self, email: str, index: int | None, course_id: int, stamp: str) -> Record:
        first, last = learner_name(index) if index is not None else ("New", "Learner")
        course = self.get_course(course_id)
        return {
            "user_name": first,
            "user_surname": last,
            "user_email": email,
            "user_role": "student",
            "user_external_id": None,
            "lms_user_id": None,
            "user_is_deactivated": False,
            "course_id": course_id,
            "course_title": course["title"] if course else None,
            "course_category": None,
            "course_duration": None,
            "completion_ratio": 0.0,
            "num_video_consumed_minutes": 0.0,
            "course_enroll_date": stamp,
            "course_start_date": None,
            "course_completion_date": None,
            "course_first_completion_date": None,
            "course_last_accessed_date": None,
            "last_activity_date": None,
            "is_assigned": False,
            "assigned_by": None,
        }

    def _row_day(self, row: int) -> date:
        """The date the activity window filters on; cheap, so a filter can scan a big tenant."""
        changed = self._row_changes.get(row)
        if changed is not None:
            return _record_day(changed)
        h = self._h(3, row)
        enroll, _, last = _row_times(h)
        return (enroll if h % 10 < 3 else last).date()

    def _row(self, row: int) -> Record:
        h = self._h(3, row)
        learner, course_index = self._course_index_of_row(row)
        course_id = ID_BASE + course_index
        if row % 211 == 17:
            course_id = RETIRED_ID_BASE + row // self.learners  # a course retired long ago
        state = h % 10  # 0-2 not started, 3-5 in progress, 6-8 completed, 9 completed then grew
        style = (h >> 50) % 3
        enroll, start, last = _row_times(h)
        email = learner_email(learner)
        first, surname = learner_name(learner)
        if row % 13 == 5:
            local, domain = email.split("@")
            email = f"  {local.capitalize()}@{domain.capitalize()} "  # mixed case, padded
        if row % 53 == 7:
            email, first, surname = "Anonymized User", "Anonymized", "User"
        ratio: float
        if state < 3:
            ratio, minutes = 0.0, 0.0
        elif state < 6:
            ratio = float(1 + (h >> 12) % 98) + (0.5 if h % 4 == 0 else 0.0)
            minutes = round(((h >> 16) % 3000) / 10, 1)
        elif state < 9:
            ratio, minutes = 100.0, round(((h >> 16) % 9000) / 10, 1)
        else:
            ratio, minutes = float(80 + (h >> 12) % 19), round(((h >> 16) % 9000) / 10, 1)
        started = state >= 3
        completed = state >= 6
        return {
            "user_name": first,
            "user_surname": surname,
            "user_email": email,
            "user_role": "student",
            "user_external_id": f"E-{learner}",
            "lms_user_id": None,
            "user_is_deactivated": row % 97 == 11,
            "course_id": course_id,
            "course_title": f"Course {course_index}",
            "course_category": _TAXONOMY[course_index % len(_TAXONOMY)][1],
            "course_duration": float(60 + course_index % 600),
            "completion_ratio": ratio,
            "num_video_consumed_minutes": minutes,
            "course_enroll_date": _iso(enroll, style),
            "course_start_date": _iso(start, style) if started else None,
            "course_completion_date": _iso(last, style) if completed else None,
            "course_first_completion_date": _iso(last - timedelta(days=(h >> 6) % 3), style)
            if completed
            else None,
            "course_last_accessed_date": _iso(last, style) if started else None,
            "last_activity_date": (last if started else enroll).date().isoformat(),
            "is_assigned": h % 5 == 0,
            "assigned_by": "ann@example.com" if h % 5 == 0 else None,
        }

    def _row_by_key(self, key: int) -> Record:
        if key < self._rows:
            return self.activity_row(key)
        return dict(list(self._rows_added.values())[key - self._rows])

    def _filtered(self, from_date: date | None, to_date: date | None) -> list[int]:
        """Row keys inside the window, computed once per window and tenant generation."""
        cache_key = (from_date, to_date, self._generation)
        cached = self._filter_cache.get(cache_key)
        if cached is not None:
            return cached
        low = from_date or date.min
        high = to_date or date.max
        keys = [r for r in range(self._rows) if low <= self._row_day(r) <= high]
        for offset, row in enumerate(self._rows_added.values()):
            if low <= _record_day(row) <= high:
                keys.append(self._rows + offset)
        if len(self._filter_cache) >= 4:
            self._filter_cache.clear()
        self._filter_cache[cache_key] = keys
        return keys


def _row_times(h: int) -> tuple[datetime, datetime, datetime]:
    """Enroll, start and last-access moments of a generated row (one source for row and filter)."""
    enroll = _EPOCH + timedelta(
        days=(h >> 8) % 600, seconds=(h >> 20) % 86_400, microseconds=(h >> 5) % 999_999
    )
    start = enroll + timedelta(days=(h >> 40) % 3, minutes=(h >> 44) % 600)
    last = enroll + timedelta(days=(h >> 40) % 3 + (h >> 30) % 60, seconds=(h >> 14) % 86_400)
    return enroll, start, max(start, last)


def _record_day(row: Mapping[str, object]) -> date:
    value = row.get("course_last_accessed_date") or row.get("course_enroll_date")
    if not isinstance(value, str):
        return date.min
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
