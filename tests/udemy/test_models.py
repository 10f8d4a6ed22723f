"""Parsing of Udemy payloads, credential validation and the package's public surface."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest
from pydantic import BaseModel, SecretStr, ValidationError

import udemy360.udemy as udemy
from udemy360.mapping import MappedCourse, MappingContext, map_activity, map_course
from udemy360.udemy import (
    UdemyClient,
    UdemyConfigError,
    UdemyCourse,
    UdemyCourseActivity,
    UdemyCredentials,
    UdemyLearningPath,
    safe_text,
)

# research/udemy-api.md §4.1 (one result)
COURSE_41 = json.loads("""
{
  "_class": "course", "id": 900920, "title": "Planning on one sheet of paper",
  "headline": "Short subtitle of the course",
  "description": "<p><strong>HTML</strong> description…</p>",
  "url": "https://acme.udemy.com/course/triplet_design/",
  "estimated_content_length": 178, "estimated_content_length_video": 178,
  "categories": ["Marketing Strategy"],
  "primary_category":    {"_class": "course_category",    "id": 316, "title": "Marketing",
                          "url": "/courses/ufb-marketing/"},
  "primary_subcategory": {"_class": "course_subcategory", "id": 458, "title": "Marketing Strategy",
                          "url": "/courses/ufb-marketing/ufb-marketing-strategy/"},
  "topics": [{"id": 1234, "title": "Design Thinking", "url": "/topic/design-thinking/"}],
  "num_lectures": 26, "num_videos": 26, "num_quizzes": 0, "num_practice_tests": 0,
  "instructors": ["Jane Doe"],
  "promo_video_url": [
    {"type": "video/mp4", "label": "720", "file": "https://mp4-c.udemycdn.com/…/WebHD_720p.mp4?Expires=…&Signature=…&Key-Pair-Id=…"},
    {"type": "video/mp4", "label": "480", "file": "https://mp4-c.udemycdn.com/…/WebHD_480.mp4?Expires=…"},
    {"type": "video/mp4", "label": "360", "file": "https://mp4-c.udemycdn.com/…/WebHD.mp4?Expires=…"}
  ],
  "requirements": {"list": ["Bring paper and a pen"]},
  "what_you_will_learn": {"list": ["Summarise a plan on one sheet"]},
  "images": {
    "size_48x27": "https://img-c.udemycdn.com/course/48x27/900920_cd28.jpg",
    "size_50x50": "…", "size_75x75": "…", "size_96x54": "…", "size_100x100": "…",
    "size_125_H": "…", "size_200_H": "…", "size_240x135": "…", "size_304x171": "…",
    "size_480x270": "https://img-c.udemycdn.com/course/480x270/900920_cd28.jpg",
    "size_750x422": "https://img-c.udemycdn.com/course/750x422/900920_cd28.jpg"
  },
  "mobile_native_deeplink": "udemyufb://discover?coursePublishedTitle=triplet_design",
  "locale": {"_class": "locale", "locale": "ja_JP"},
  "is_practice_test_course": false, "has_closed_caption": false,
  "caption_languages": [], "caption_locales": [],
  "last_update_date": "2016-12-28",
  "xapi_activity_id": "https://www.udemy.com/course/900920",
  "level": "All Levels", "is_custom": false, "is_imported": false
}
""")

# research/udemy-api.md §4.2 (one result)
PATH_42 = json.loads("""
{
  "_class": "learning_path", "id": 4567, "title": "Cloud Engineer Onboarding",
  "description": "<p>Path description</p>",
  "url": "https://acme.udemy.com/learning-paths/4567/",
  "editors": [{"_class": "user", "display_name": "Ann Admin", "email": "ann@acme.com"}],
  "created": "2023-02-01T09:15:00Z", "last_modified": "2023-06-12T16:40:03Z",
  "estimated_content_length": 1260, "number_of_content_items": 7,
  "sections": [
    {
      "_class": "learning_path_section", "id": 9911, "title": "Basics", "description": "",
      "order": 1,
      "items": [
        {"id": 555, "title": "AWS Fundamentals", "url": "https://acme.udemy.com/course/aws-fundamentals/",
         "type": "course", "duration": 620.0, "number_of_items": 1, "order": 1,
         "thumbnail": {"size_96x54": "https://img-c.udemycdn.com/course/96x54/555_ab12.jpg",
                       "…": "…"},
         "resource_url": "/course/aws-fundamentals/"}
      ]
    }
  ]
}
""")

# research/udemy-api.md §4.3 (one result)
ACTIVITY_43 = json.loads("""
{
  "user_name": "Ada", "user_surname": "Lovelace", "user_email": "ada@acme.com",
  "user_role": "student", "user_external_id": "E-1001", "lms_user_id": "ada.lovelace",
  "user_is_deactivated": false, "course_id": 900920,
  "course_title": "Planning on one sheet of paper", "course_category": "Marketing",
  "course_duration": 178.0, "completion_ratio": 42.0, "num_video_consumed_minutes": 61.5,
  "course_enroll_date": "2024-03-01T10:02:11Z", "course_start_date": "2024-03-01T10:05:40Z",
  "course_completion_date": null, "course_first_completion_date": null,
  "course_last_accessed_date": "2024-03-18T19:44:02Z", "last_activity_date": "2024-03-18",
  "is_assigned": true, "assigned_by": "ann@acme.com"
}
""")


def creds(**overrides: object) -> UdemyCredentials:
    data: dict[str, object] = {
        "account_name": "acme",
        "account_id": "123456",
        "client_id": "cid",
        "client_secret": "very-secret-value",
    }
    data.update(overrides)
    return UdemyCredentials(**data)


class TestCourse:
    def test_fractional_duration_is_kept(self) -> None:
        """A duration in fractional minutes does not make the course unreadable."""
        course = UdemyCourse.model_validate({**COURSE_41, "estimated_content_length": 178.5})
        assert course.estimated_content_length == 178.5

    def test_research_example_parses(self) -> None:
        """The §4.1 course parses with its taxonomy, locale, images and best video."""
        course = UdemyCourse.model_validate(COURSE_41)
        assert course.id == 900920
        assert course.locale == "ja_JP"
        assert course.primary_category is not None
        assert course.primary_category.title == "Marketing"
        assert course.primary_subcategory is not None
        assert course.primary_subcategory.id == 458
        assert [t.title for t in course.topics] == ["Design Thinking"]
        assert course.instructors == ("Jane Doe",)
        assert len(course.images) == 11
        assert course.last_update_date == date(2016, 12, 28)
        assert course.best_promo_video is not None
        assert "720p" in course.best_promo_video

    def test_missing_and_null_fields_default(self) -> None:
        """Only id and title are required; nulls become empty values."""
        course = UdemyCourse.model_validate(
            {
                "id": 1,
                "title": "T",
                "categories": None,
                "images": None,
                "topics": None,
                "locale": None,
                "promo_video_url": None,
                "instructors": [None, "A"],
                "url": "",
            }
        )
        assert course.categories == ()
        assert course.images == {}
        assert course.instructors == ("A",)
        assert course.url is None
        assert course.best_promo_video is None

    def test_plain_string_locale_is_accepted(self) -> None:
        """A locale sent as a bare string is kept as the code."""
        assert (
            UdemyCourse.model_validate({"id": 1, "title": "T", "locale": "pt_BR"}).locale == "pt_BR"
        )

    def test_best_promo_video_picks_highest_label(self) -> None:
        """The highest numeric label wins whatever the list order."""
        videos = [
            {"label": "360", "file": "a"},
            {"label": "1080", "file": "b"},
            {"label": "720", "file": "c"},
        ]
        course = UdemyCourse.model_validate({"id": 1, "title": "T", "promo_video_url": videos})
        assert course.best_promo_video == "b"

    def test_signed_video_url_not_in_repr(self) -> None:
        """The signed promo URL stays out of the course repr."""
        course = UdemyCourse.model_validate(COURSE_41)
        assert "Signature" not in repr(course)


class TestLearningPath:
    def test_research_example_parses(self) -> None:
        """The §4.2 path parses with editors, sections and a UTC last_modified."""
        path = UdemyLearningPath.model_validate(PATH_42)
        assert path.last_modified == datetime(2023, 6, 12, 16, 40, 3, tzinfo=UTC)
        assert path.editors[0].display_name == "Ann Admin"
        assert path.is_public is None
        item = path.sections[0].items[0]
        assert item.type == "course"
        assert item.thumbnail["size_96x54"].endswith("555_ab12.jpg")
        assert path.images == {}

    def test_sections_and_items_are_sorted(self) -> None:
        """Sections and items come back in their order, whatever the payload order."""
        raw = {
            "id": 1,
            "title": "P",
            "sections": [
                {"order": 2, "items": [{"order": 2, "title": "b"}, {"order": 1, "title": "a"}]},
                {"order": 1, "items": []},
            ],
        }
        path = UdemyLearningPath.model_validate(raw)
        assert [s.order for s in path.sections] == [1, 2]
        assert [i.title for i in path.sections[1].items] == ["a", "b"]

    def test_path_level_thumbnail_becomes_images(self) -> None:
        """A path-level thumbnail dict is exposed as images."""
        path = UdemyLearningPath.model_validate(
            {"id": 1, "title": "P", "thumbnail": {"size_480x270": "u"}}
        )
        assert path.images == {"size_480x270": "u"}


class TestActivity:
    def test_research_example_parses(self) -> None:
        """The §4.3 row parses with UTC timestamps and the raw email."""
        row = UdemyCourseActivity.model_validate(ACTIVITY_43)
        assert row.course_enroll_date == datetime(2024, 3, 1, 10, 2, 11, tzinfo=UTC)
        assert row.course_completion_date is None
        assert row.completion_ratio == 42.0
        assert row.user_email == "ada@acme.com"

    @pytest.mark.parametrize(
        "text",
        [
            "2024-03-18T19:44:02Z",
            "2024-03-18T19:44:02.123456Z",
            "2024-03-18T19:44:02.1Z",
            "2024-03-18T21:44:02+02:00",
            "2024-03-18T19:44:02",
        ],
    )
    def test_timestamp_spellings_normalise_to_utc(self, text: str) -> None:
        """Every timestamp spelling becomes the same aware UTC moment (to the second)."""
        row = UdemyCourseActivity.model_validate(
            {"course_id": 1, "course_last_accessed_date": text}
        )
        value = row.course_last_accessed_date
        assert value is not None
        assert value.tzinfo == UTC
        assert value.replace(microsecond=0) == datetime(2024, 3, 18, 19, 44, 2, tzinfo=UTC)

    def test_bare_date_is_utc_midnight(self) -> None:
        """A bare YYYY-MM-DD timestamp is read as midnight UTC."""
        row = UdemyCourseActivity.model_validate(
            {"course_id": 1, "course_enroll_date": "2024-03-18"}
        )
        assert row.course_enroll_date == datetime(2024, 3, 18, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("raw", "expected"), [(-3, 0.0), (42.5, 42.5), (140, 100.0), (None, None), (0.5, 0.5)]
    )
    def test_completion_ratio_is_clamped(self, raw: float | None, expected: float | None) -> None:
        """completion_ratio is clamped to 0..100 and never rescaled."""
        row = UdemyCourseActivity.model_validate({"course_id": 1, "completion_ratio": raw})
        assert row.completion_ratio == expected

    def test_padded_email_is_kept_raw(self) -> None:
        """The email is kept exactly as sent; normalising is the mapping's job."""
        raw = "  Learner000012@Example.com "
        assert (
            UdemyCourseActivity.model_validate({"course_id": 1, "user_email": raw}).user_email
            == raw
        )


# Every kind of character that must not get past the models, in one string.
HOSTILE = "A\ud800B\x00C\x07D\x7fE\udc00"
CLEAN = "A\ufffdBCDE\ufffd"


def strings(value: object) -> Iterator[str]:
    """Every string inside a model dump: values and keys, at any depth."""
    if isinstance(value, BaseModel):
        yield from strings(value.model_dump())
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def hostile_course() -> dict[str, object]:
    return {
        **COURSE_41,
        "title": HOSTILE,
        "headline": HOSTILE,
        "description": f"<p>{HOSTILE}</p>",
        "url": "https://acme.udemy.com/course/x\x00/",
        "categories": [HOSTILE],
        "primary_category": {"id": 1, "title": HOSTILE, "url": HOSTILE},
        "primary_subcategory": {"id": 2, "title": HOSTILE},
        "topics": [{"id": 3, "title": HOSTILE}],
        "instructors": [HOSTILE, "Jane\x00 Doe"],
        "images": {"size_750x422\x00": f"https://img-c.udemycdn.com/{HOSTILE}.jpg"},
        "promo_video_url": [{"label": HOSTILE, "file": f"https://cdn/{HOSTILE}.mp4"}],
        "locale": {"locale": "en_US\x00"},
        "level": HOSTILE,
        "mobile_native_deeplink": HOSTILE,
    }


class TestSafeText:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("\ud800", "\ufffd"),
            ("a\udfffb", "a\ufffdb"),
            ("\ud83d\ude00", "\U0001f600"),  # a pair decoded from CESU-8 bytes is one character
            ("nul\x00here", "nulhere"),
            ("bell\x07 esc\x1b del\x7f", "bell esc del"),
            ("tab\tnew\nline\r\n", "tab\tnew\nline\r\n"),
            ("Café 大森 😀 \u200b", "Café 大森 😀 \u200b"),
            ("\x00\x01\x02", ""),
            (HOSTILE, CLEAN),
        ],
    )
    def test_unsafe_characters_are_replaced_or_removed(self, raw: str, expected: str) -> None:
        """Lone surrogates become U+FFFD, controls but tab/newline/CR go, the rest stays."""
        assert safe_text(raw) == expected
        safe_text(raw).encode("utf-8")

    def test_clean_text_is_returned_as_is(self) -> None:
        """The fast path hands back the very same string, no copy."""
        text = "Planning on one sheet of paper " * 20
        assert safe_text(text) is text


class TestHostileText:
    def test_every_course_string_is_made_safe(self) -> None:
        """No string of a parsed course holds a surrogate or a control character."""
        course = UdemyCourse.model_validate(hostile_course())
        for text in strings(course):
            assert text == safe_text(text)
            text.encode("utf-8")
        assert course.title == CLEAN
        assert course.url == "https://acme.udemy.com/course/x/"
        assert course.instructors == (CLEAN, "Jane Doe")
        assert course.locale == "en_US"

    def test_every_path_string_is_made_safe(self) -> None:
        """Learning path titles, editors, sections and items are made safe too."""
        path = UdemyLearningPath.model_validate(
            {
                "id": 7,
                "title": HOSTILE,
                "description": HOSTILE,
                "url": HOSTILE,
                "editors": [{"display_name": HOSTILE, "email": f"ed{HOSTILE}@x.com"}],
                "thumbnail": {"size_480x270": HOSTILE},
                "sections": [
                    {"title": HOSTILE, "items": [{"title": HOSTILE, "url": HOSTILE, "type": "x"}]}
                ],
            }
        )
        assert path.title == CLEAN
        for text in strings(path):
            assert text == safe_text(text)

    def test_every_activity_string_is_made_safe(self) -> None:
        """Learner email, names and course title are made safe."""
        row = UdemyCourseActivity.model_validate(
            {
                "user_email": "ann\ud800@example.com\x00",
                "user_name": HOSTILE,
                "user_surname": "\x00",
                "course_id": 1,
                "course_title": HOSTILE,
            }
        )
        assert row.user_email == "ann\ufffd@example.com"
        assert row.user_name == CLEAN
        assert row.user_surname is None  # nothing left once the NUL is gone
        for text in strings(row):
            assert text == safe_text(text)

    def test_hostile_course_maps_and_encodes(self) -> None:
        """A course full of surrogates and NULs maps to a payload that encodes as UTF-8 JSON."""
        course = UdemyCourse.model_validate(hostile_course())
        mapped = map_course(course, MappingContext(account_name="acme", owner_lang="en"))
        assert isinstance(mapped, MappedCourse)
        encoded = json.dumps(mapped.payload.to_json(), ensure_ascii=False).encode("utf-8")
        assert b"\x00" not in encoded

    def test_hostile_activity_row_maps(self) -> None:
        """A learner email with a lone surrogate no longer breaks the statistic's mapping."""
        row = UdemyCourseActivity.model_validate(
            {
                "user_email": "ann\ud800@example.com",
                "course_id": 1,
                "course_enroll_date": "2024-01-01T00:00:00Z",
            }
        )
        map_activity(row, course_lang="en")


class TestHostileValues:
    @pytest.mark.parametrize(
        "record_id", [2**63, 2**70, -1, 0, True, 1.5, "12", None, [1], {"id": 1}]
    )
    def test_course_id_must_be_a_storable_integer(self, record_id: object) -> None:
        """An id beyond signed 64-bit, not positive, or not a JSON integer fails validation."""
        with pytest.raises(ValidationError) as info:
            UdemyCourse.model_validate({"id": record_id, "title": "t"})
        assert info.value.errors()[0]["loc"] == ("id",)

    def test_largest_storable_id_is_accepted(self) -> None:
        """2**63 - 1 fits a BIGINT column and is kept."""
        assert UdemyCourse.model_validate({"id": 2**63 - 1, "title": "t"}).id == 2**63 - 1

    @pytest.mark.parametrize("course_id", [2**64, -5, "1000001"])
    def test_activity_course_id_must_be_storable(self, course_id: object) -> None:
        """An activity row's course id obeys the same rule."""
        with pytest.raises(ValidationError):
            UdemyCourseActivity.model_validate({"course_id": course_id})

    def test_path_id_must_be_storable(self) -> None:
        """A learning path id obeys the same rule; nested ids and orders stay within 64 bits."""
        with pytest.raises(ValidationError):
            UdemyLearningPath.model_validate({"id": 2**70, "title": "t"})
        with pytest.raises(ValidationError):
            UdemyLearningPath.model_validate(
                {"id": 1, "title": "t", "sections": [{"order": 2**64, "items": []}]}
            )

    def test_date_before_utc_minimum_is_a_validation_error(self) -> None:
        """A date-time that overflows once converted to UTC is a validation error, not a crash."""
        with pytest.raises(ValidationError, match="out of range"):
            UdemyCourseActivity.model_validate(
                {"course_id": 1, "course_enroll_date": "0001-01-01T00:00:00+01:00"}
            )

    def test_huge_completion_ratio_is_a_validation_error(self) -> None:
        """An integer ratio beyond float's range is a validation error, not an OverflowError."""
        with pytest.raises(ValidationError, match="out of range"):
            UdemyCourseActivity.model_validate({"course_id": 1, "completion_ratio": 10**400})

    @pytest.mark.parametrize("label", ["²", "9" * 5000, "720p\x00", ""])
    def test_odd_promo_labels_do_not_break_the_pick(self, label: str) -> None:
        """Superscript digits or a 5,000-digit label leave best_promo_video working."""
        course = UdemyCourse.model_validate(
            {"id": 1, "title": "t", "promo_video_url": [{"label": label, "file": "https://v"}]}
        )
        assert course.best_promo_video == "https://v"


class TestCredentials:
    def test_default_base_url(self) -> None:
        """Without an override the org URL is built from account name and id."""
        assert creds().api_base_url == "https://acme.udemy.com/api-2.0/organizations/123456/"

    @pytest.mark.parametrize(
        "name", ["acme.evil.com", "a b", "", "-acme", "acme/", "x" * 64, "acme.udemy.com"]
    )
    def test_account_name_must_be_one_dns_label(self, name: str) -> None:
        """An account name that is not a single DNS label is refused and named."""
        with pytest.raises(UdemyConfigError, match="account_name"):
            creds(account_name=name)

    @pytest.mark.parametrize("account_id", ["12a", "", "-1", "1 2"])
    def test_account_id_must_be_numeric(self, account_id: str) -> None:
        """A non-numeric account id is refused and named."""
        with pytest.raises(UdemyConfigError, match="account_id"):
            creds(account_id=account_id)

    def test_model_validate_also_checks(self) -> None:
        """Validating from a dict refuses a bad account name as a ValueError."""
        with pytest.raises(ValueError, match="account_name"):
            UdemyCredentials.model_validate(
                {"account_name": "a.b", "account_id": "1", "client_id": "c", "client_secret": "s"}
            )

    def test_plain_http_to_remote_host_is_refused(self) -> None:
        """A client refuses to send credentials over plain http:// to a non-loopback host."""
        with pytest.raises(UdemyConfigError, match="http://"):
            UdemyClient(creds(base_url="http://udemy.example.com/api-2.0/organizations/1/"))

    async def test_plain_http_to_loopback_is_accepted(self) -> None:
        """http:// to 127.0.0.1 is fine (the sandbox), and a trailing slash is added."""
        c = creds(base_url="http://127.0.0.1:8000/api-2.0/organizations/1")
        assert c.api_base_url.endswith("/organizations/1/")
        await UdemyClient(c).aclose()

    def test_base_url_with_userinfo_is_refused(self) -> None:
        """Credentials embedded in the base URL are refused."""
        with pytest.raises(UdemyConfigError, match="credentials"):
            creds(base_url="https://u:p@acme.udemy.com/")

    async def test_secrets_stay_out_of_reprs(self) -> None:
        """Neither the credentials nor the client show the secret or its Basic encoding."""
        c = creds()
        client = UdemyClient(c, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
        try:
            for text in (repr(c), str(c), repr(client), c.model_dump_json()):
                assert "very-secret-value" not in text
        finally:
            await client.aclose()
        assert isinstance(c.client_secret, SecretStr)


class TestPublicSurface:
    def test_exported_members(self) -> None:
        """The package exports exactly its documented public surface."""
        assert set(udemy.__all__) == {
            "ListingStop",
            "RecordProblem",
            "UdemyAuthError",
            "UdemyCategory",
            "UdemyClient",
            "UdemyConfigError",
            "UdemyCourse",
            "UdemyCourseActivity",
            "UdemyCredentials",
            "UdemyEditor",
            "UdemyError",
            "UdemyLearningPath",
            "UdemyLearningPathItem",
            "UdemyLearningPathSection",
            "UdemyPage",
            "UdemyPromoVideo",
            "UdemyRateLimited",
            "UdemyResponseError",
            "UdemyTransportError",
            "safe_text",
        }
        for name in udemy.__all__:
            assert getattr(udemy, name).__module__.startswith("udemy360.udemy")
