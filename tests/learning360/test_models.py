"""Outbound models refuse what the definitions refuse; inbound models and credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import udemy360.learning360 as learning360
from tests.contract.openapi import shared_contract
from tests.learning360.factories import course, statistic
from udemy360.learning360 import (
    LANGUAGE_CODES,
    ExternalStatistic,
    Learning360Credentials,
    format_timestamp,
)
from udemy360.learning360.models import ImportExternalStatisticsBody


class TestLanguageCodes:
    def test_equals_contract_enum(self):
        """LANGUAGE_CODES is exactly the v2 defaultLang enum of the official definitions."""
        contract = shared_contract()
        if contract is None:
            pytest.skip("../shared/contracts/360learning is absent")
        assert set(contract.enum_of("ExternalCourseDTO", "defaultLang")) == LANGUAGE_CODES
        assert len(LANGUAGE_CODES) == 79


class TestExternalCourse:
    def test_wire_form_is_camel_case_without_nones(self):
        """A course serialises with camelCase keys and leaves unset fields out."""
        wire = course(1).to_json()
        assert wire["externalId"] == "1"
        assert str(wire["launchUrl"]).startswith("https://")
        assert "description" not in wire
        assert "imageUrl" not in wire

    @pytest.mark.parametrize(
        "change",
        [
            {"default_lang": "en_US"},
            {"duration": 0},
            {"duration": 100_001},
            {"name": ""},
            {"description": ""},
            {"subjects": [""]},
            {"unknown_field": 1},
        ],
    )
    def test_invalid_values_refused(self, change):
        """Values the definitions reject fail at construction, before any request."""
        with pytest.raises(ValidationError):
            course(1, **change)


class TestExternalStatistic:
    def test_timestamps_are_utc_with_milliseconds(self):
        """Timestamps are sent as YYYY-MM-DDTHH:MM:SS.sssZ in UTC, whatever the input zone."""
        paris = timezone(timedelta(hours=2))
        stat = statistic("1", "a@example.com").model_copy(
            update={"last_activity_at": datetime(2025, 7, 2, 11, 30, 0, 987654, tzinfo=paris)}
        )
        wire = stat.to_json()
        assert wire["firstActivityAt"] == "2025-07-01T08:00:00.000Z"
        assert wire["lastActivityAt"] == "2025-07-02T09:30:00.987Z"

    def test_naive_timestamp_refused(self):
        """A naive datetime is refused rather than guessed."""
        with pytest.raises(ValidationError):
            ExternalStatistic.model_validate(
                {
                    **statistic("1", "a@example.com").model_dump(),
                    "first_activity_at": datetime(2025, 1, 1),
                }
            )

    @pytest.mark.parametrize(("field", "value"), [("time_spent", 0), ("progress", 101)])
    def test_out_of_range_refused(self, field, value):
        """timeSpent must be ≥ 1 ms and progress 0..100."""
        data = {**statistic("1", "a@example.com").model_dump(), field: value}
        with pytest.raises(ValidationError):
            ExternalStatistic.model_validate(data)

    @settings(max_examples=500, deadline=None)
    @given(
        moment=st.datetimes(
            min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
        ),
        offset=st.integers(min_value=-86_399, max_value=86_399),
    )
    def test_format_timestamp_is_isoformat_in_milliseconds(self, moment, offset):
        """The fast formatting writes what isoformat writes in UTC, milliseconds truncated."""
        local = moment.astimezone(timezone(timedelta(seconds=offset)))
        reference = moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
        assert format_timestamp(local) == reference
        assert format_timestamp(moment) == reference

    def test_wire_bytes_are_the_wire_form(self):
        """A body written in one pass is the document to_json gives, timestamps included."""
        paris = timezone(timedelta(hours=2))
        stat = statistic("1", "Zoë@example.com").model_copy(
            update={"last_activity_at": datetime(2025, 7, 2, 11, 30, 0, 987654, tzinfo=paris)}
        )
        body = ImportExternalStatisticsBody(input=[stat, statistic("2", "b@example.com")])
        raw = body.to_json_bytes()
        assert json.loads(raw) == body.to_json()
        assert b'"lastActivityAt":"2025-07-02T09:30:00.987Z"' in raw
        assert json.loads(course(1).to_json_bytes()) == course(1).to_json()

    def test_format_timestamp_needs_timezone(self):
        """format_timestamp refuses naive datetimes."""
        assert format_timestamp(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00.000Z"
        with pytest.raises(ValueError, match="timezone"):
            format_timestamp(datetime(2025, 1, 1))


class TestCredentials:
    @pytest.mark.parametrize(
        ("region", "url"),
        [("eu", "https://app.360learning.com"), ("us", "https://app.us.360learning.com")],
    )
    def test_region_base_urls(self, region, url):
        """Each region maps to its production host."""
        creds = Learning360Credentials(client_id="id", client_secret="s", region=region)
        assert creds.api_base_url == url

    def test_plain_http_only_for_loopback(self):
        """An http:// override is refused unless it is loopback."""
        ok = Learning360Credentials(
            client_id="i", client_secret="s", base_url="http://127.0.0.1:8360/"
        )
        assert ok.api_base_url == "http://127.0.0.1:8360"
        with pytest.raises(ValidationError, match="unencrypted"):
            Learning360Credentials(
                client_id="i", client_secret="s", base_url="http://lms.example.com"
            )

    def test_secret_not_in_repr(self):
        """The client secret never shows in repr or str."""
        creds = Learning360Credentials(client_id="i", client_secret="hunter2-secret")
        assert "hunter2-secret" not in repr(creds) + str(creds)


def test_exported_members():
    """The package's public surface is pinned."""
    assert set(learning360.__all__) == {
        "LANGUAGE_CODES", "REQUIRED_SCOPES", "BulkConcurrencyLimitReached", "BulkItemResult",
        "BulkMismatch", "BulkOperation", "BulkOperationFailed", "BulkOperationTimeout",
        "BulkResults", "BulkStatus", "ContentType", "CourseIdentifier", "CourseTag",
        "DifficultyLevel", "ExternalCourse", "ExternalCourseInfo", "ExternalStatistic",
        "Integration", "IntegrationPatch", "IntegrationSettings", "LangCode",
        "Learning360AuthError", "Learning360Client", "Learning360Credentials", "Learning360Error",
        "Learning360NotFound", "Learning360RateLimited", "Learning360RequestError",
        "Learning360ResponseError", "Learning360ScopeError", "Learning360ServerError",
        "Learning360TransportError", "Region", "Source", "Tag", "User", "UserIdentifier",
        "format_timestamp", "item_key", "pair_results",
        # typed bulk results, the learner directory, per-item error classification
        "CODE_KINDS", "MESSAGE_FORMS", "BulkOutcome", "ItemError", "ItemErrorKind", "ItemResult",
        "LearnerIdType", "MessageForm", "StatisticKey", "UnpairedResult", "UserStatus",
        "classify_item_error", "statistic_key",
    }  # fmt: skip
    for name in learning360.__all__:
        assert hasattr(learning360, name)
