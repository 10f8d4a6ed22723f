"""Activity mapping: one test (or table) per row of DESIGN.md's activity table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.mapping.builders import activity, at
from udemy360.mapping import MappedStatistic, SkippedRow, map_activity, normalize_email


def mapped(
    *, course_lang: str | None = "en", first_activity_at: datetime | None = None, **row: object
) -> MappedStatistic:
    """Map an activity row built with ``row`` and insist it maps."""
    result = map_activity(
        activity(**row), course_lang=course_lang, first_activity_at=first_activity_at
    )
    assert isinstance(result, MappedStatistic), result
    return result


def sent(
    *, course_lang: str | None = "en", first_activity_at: datetime | None = None, **row: object
) -> dict[str, object]:
    """Return the JSON body item 360Learning would receive for the row."""
    result = mapped(course_lang=course_lang, first_activity_at=first_activity_at, **row)
    return result.statistic.model_dump(mode="json", by_alias=True, exclude_none=True)


class TestWholePayload:
    def test_in_progress_row_maps_to_expected_json(self) -> None:
        """A typical row produces exactly the v2 statistic, dates with milliseconds and Z."""
        assert sent() == {
            "courseIdentifier": {"type": "externalId", "value": "900920"},
            "userIdentifier": {"type": "mail", "value": "ada@acme.com"},
            "progress": 42,
            "timeSpent": 3_690_000,
            "firstActivityAt": "2025-07-02T10:00:00.000Z",
            "lastActivityAt": "2025-07-08T22:00:00.000Z",
            "lang": "en",
        }

    def test_result_keys(self) -> None:
        """The result carries the course id, the normalised mail and a hash."""
        result = mapped()
        assert (result.external_course_id, result.learner_mail) == ("900920", "ada@acme.com")
        assert not result.completed
        assert len(result.hash) == 64

    def test_force_new_is_never_sent(self) -> None:
        """forceNew is absent even from the full dump: completed attempts are never reopened."""
        body = mapped().statistic.model_dump(mode="json", by_alias=True)
        assert body.get("forceNew") in (None, False)
        assert "forceNew" not in sent()


class TestCourseIdentifier:
    def test_course_identifier_is_external_id(self) -> None:
        """courseIdentifier is {type: externalId, value: str(course_id)}."""
        assert sent(course_id=7)["courseIdentifier"] == {"type": "externalId", "value": "7"}


class TestUserIdentifier:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("ada@acme.com", "ada@acme.com"),
            ("  Ada.Lovelace@ACME.co.uk ", "ada.lovelace@acme.co.uk"),
            ("a+tag@sub.acme.io", "a+tag@sub.acme.io"),
        ],
    )
    def test_email_is_trimmed_and_lower_cased(self, raw: str, expected: str) -> None:
        """userIdentifier is {type: mail} with the trimmed, lower-cased address."""
        assert sent(user_email=raw)["userIdentifier"] == {"type": "mail", "value": expected}

    @pytest.mark.parametrize(
        "raw",
        [
            "Anonymized User",
            "ada",
            "ada@@acme.com",
            "a@b@acme.com",
            "@acme.com",
            "ada@localhost",
            "ada@acme.",
            "ada@.com",
            "ada@acme..com",
            "ada lovelace@acme.com",
            "ada@ac me.com",
        ],
    )
    def test_invalid_emails_are_skipped(self, raw: str) -> None:
        """Rows whose email is not one @, local part, dotted domain, no blanks are skipped."""
        result = map_activity(activity(user_email=raw, course_id=5), course_lang="en")
        assert isinstance(result, SkippedRow)
        assert (result.reason, result.course_id) == ("invalid_email", 5)
        assert raw not in result.detail

    @pytest.mark.parametrize("raw", [None, "", "   "])
    def test_missing_email_is_skipped(self, raw: str | None) -> None:
        """Rows with no email are skipped as no_email."""
        result = map_activity(activity(user_email=raw), course_lang="en")
        assert isinstance(result, SkippedRow)
        assert result.reason == "no_email"

    def test_normalize_email(self) -> None:
        """normalize_email returns the canonical form or None."""
        assert normalize_email(" X@Y.Z ") == "x@y.z"
        assert normalize_email("Anonymized User") is None


class TestFirstActivityAt:
    @pytest.mark.parametrize(
        ("start", "enroll", "expected"),
        [
            ("2025-07-02T10:00:00Z", "2025-07-01T10:00:00Z", "2025-07-02T10:00:00.000Z"),
            (None, "2025-07-01T10:00:00Z", "2025-07-01T10:00:00.000Z"),
            ("2025-07-02T10:00:00.123456Z", None, "2025-07-02T10:00:00.123Z"),
        ],
    )
    def test_start_date_else_enroll_date(
        self, start: str | None, enroll: str | None, expected: str
    ) -> None:
        """firstActivityAt is the start date, else the enroll date, in ms precision with Z."""
        body = sent(
            course_start_date=start, course_enroll_date=enroll, course_last_accessed_date=None
        )
        assert body["firstActivityAt"] == expected

    def test_no_dates_is_skipped(self) -> None:
        """A row with neither start nor enroll date is skipped as no_dates."""
        result = map_activity(
            activity(course_start_date=None, course_enroll_date=None, course_id=9),
            course_lang="en",
        )
        assert isinstance(result, SkippedRow)
        assert (result.reason, result.course_id) == ("no_dates", 9)

    def test_stored_first_activity_wins(self) -> None:
        """Once sent, firstActivityAt never changes: the stored value replaces the row's."""
        body = sent(first_activity_at=at(1, 8), course_start_date="2025-07-05T00:00:00Z")
        assert body["firstActivityAt"] == "2025-07-01T08:00:00.000Z"

    def test_stored_first_activity_allows_rows_without_dates(self) -> None:
        """With a stored firstActivityAt, a row without dates still maps."""
        body = sent(
            first_activity_at=at(1),
            course_start_date=None,
            course_enroll_date=None,
            course_last_accessed_date=None,
        )
        assert body["firstActivityAt"] == body["lastActivityAt"] == "2025-07-01T12:00:00.000Z"

    def test_naive_stored_value_is_taken_as_utc(self) -> None:
        """A stored firstActivityAt that lost its zone (SQLite) is read as UTC."""
        body = sent(first_activity_at=datetime(2025, 7, 1, 8, 0))
        assert body["firstActivityAt"] == "2025-07-01T08:00:00.000Z"

    def test_other_time_zones_are_converted_to_utc(self) -> None:
        """An offset datetime is sent as the same instant in UTC."""
        paris = timezone(timedelta(hours=2))
        body = sent(first_activity_at=datetime(2025, 7, 9, 0, 0, tzinfo=paris))
        assert body["firstActivityAt"] == "2025-07-08T22:00:00.000Z"


class TestLastActivityAt:
    def test_last_accessed_date(self) -> None:
        """lastActivityAt is the last accessed date."""
        assert sent(course_last_accessed_date="2025-07-09T09:30:00Z")["lastActivityAt"] == (
            "2025-07-09T09:30:00.000Z"
        )

    def test_falls_back_to_first_activity(self) -> None:
        """Without a last accessed date, lastActivityAt is firstActivityAt."""
        body = sent(course_last_accessed_date=None)
        assert body["lastActivityAt"] == body["firstActivityAt"] == "2025-07-02T10:00:00.000Z"

    def test_never_before_first_activity(self) -> None:
        """A last access earlier than the first activity is clamped up to it."""
        body = sent(course_last_accessed_date="2025-06-01T00:00:00Z")
        assert body["lastActivityAt"] == body["firstActivityAt"]


class TestCompletion:
    def test_completion_sets_progress_and_last_activity(self) -> None:
        """A completion date gives progress 100 and lastActivityAt = completion date."""
        result = mapped(
            completion_ratio=80.0,
            course_completion_date="2025-07-07T18:00:00Z",
            course_last_accessed_date="2025-07-08T22:00:00Z",
        )
        body = result.statistic.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert (body["progress"], body["lastActivityAt"]) == (100, "2025-07-07T18:00:00.000Z")
        assert result.completed

    def test_first_completion_date_also_completes(self) -> None:
        """A row with only a first completion date (ratio since dropped) is still completed."""
        result = mapped(
            completion_ratio=90.0,
            course_completion_date=None,
            course_first_completion_date="2025-07-05T18:00:00Z",
        )
        assert result.completed
        assert result.statistic.progress == 100

    def test_completion_before_stored_start_is_clamped(self) -> None:
        """A completion earlier than the stored firstActivityAt does not invert the attempt."""
        body = sent(first_activity_at=at(6), course_completion_date="2025-07-05T18:00:00Z")
        assert body["lastActivityAt"] == body["firstActivityAt"] == "2025-07-06T12:00:00.000Z"


class TestProgress:
    @pytest.mark.parametrize(
        ("ratio", "expected"),
        [
            (42.0, 42),
            (99.6, 99),
            (0.4, 0),
            (0.0, 0),
            (None, 0),
            (-3.0, 0),
            (150.0, 100),
            (float("nan"), 0),
        ],
    )
    def test_ratio_rounded_down_and_clamped(self, ratio: float | None, expected: int) -> None:
        """progress is completion_ratio rounded down, clamped to 0..100; 99.6 does not complete."""
        result = mapped(completion_ratio=ratio)
        assert result.statistic.progress == expected
        assert result.completed == (expected == 100)

    def test_ratio_100_without_date_completes(self) -> None:
        """A ratio of 100 with no completion date is sent as 100 and reported completed."""
        result = mapped(completion_ratio=100.0)
        assert (result.statistic.progress, result.completed) == (100, True)


class TestTimeSpent:
    @pytest.mark.parametrize(
        ("minutes", "expected"),
        [
            (61.5, 3_690_000),
            (1.0, 60_000),
            (0.00001, 1),
            (0.0, 1),
            (None, 1),
            (-2.0, 1),
            (1 / 3, 20_000),
            (1e306, 1),  # milliseconds beyond a float: unknown, as once crashed the run
        ],
    )
    def test_minutes_to_milliseconds_at_least_one(
        self, minutes: float | None, expected: int
    ) -> None:
        """timeSpent is round(minutes × 60000) ms, at least 1 (the API rejects 0)."""
        assert sent(num_video_consumed_minutes=minutes)["timeSpent"] == expected


class TestLang:
    @pytest.mark.parametrize(
        ("course_lang", "expected"), [("en", "en"), ("zh_tw", "zh_tw"), ("pt_BR", "pt_BR")]
    )
    def test_lang_is_course_default_lang(self, course_lang: str, expected: str) -> None:
        """lang is the course's defaultLang."""
        assert sent(course_lang=course_lang)["lang"] == expected

    def test_no_course_lang_omits_lang(self) -> None:
        """Without a known course language, lang is omitted."""
        assert "lang" not in sent(course_lang=None)


class TestHash:
    def test_hash_changes_with_progress(self) -> None:
        """A progress change re-hashes; the same row hashes the same."""
        assert mapped().hash == mapped().hash
        assert mapped(completion_ratio=43.0).hash != mapped().hash
