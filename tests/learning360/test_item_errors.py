"""Per-item errors are classified by code, then by whole documented message forms, else other."""

from __future__ import annotations

import pytest

from udemy360.learning360 import (
    CODE_KINDS,
    MESSAGE_FORMS,
    ItemErrorKind,
    StatisticKey,
    classify_item_error,
)

KEY = StatisticKey("1565838", "mail", "jane.doe@acme.com")
BY_ID = StatisticKey("1565838", "internalId", "64b7f0c2a1b2c3d4e5f60719")

UNKNOWN = ItemErrorKind.UNKNOWN_LEARNER
DELETED = ItemErrorKind.DELETED_LEARNER
NO_COURSE = ItemErrorKind.UNKNOWN_COURSE
OTHER = ItemErrorKind.OTHER

# One row per form of MESSAGE_FORMS: a message in that form about KEY (or BY_ID), its meaning.
FORM_CASES = [
    ("User '<learner>' not found.", "User 'jane.doe@acme.com' not found.", KEY, UNKNOWN),
    (
        "The given user does not correspond to any existing and non-deleted user.",
        "The given user does not correspond to any existing and non-deleted user.",
        KEY,
        UNKNOWN,
    ),
    (
        "The given `userId` corresponds to a deleted user.",
        "The given `userId` corresponds to a deleted user.",
        KEY,
        DELETED,
    ),
    (
        "No user has the mail '<learner>'.",
        "No user has the mail 'jane.doe@acme.com'.",
        KEY,
        UNKNOWN,
    ),
    (
        "No user has the ID <learner>.",
        "No user has the ID 64b7f0c2a1b2c3d4e5f60719.",
        BY_ID,
        UNKNOWN,
    ),
    (
        "The given `externalId` does not belong to the given integration.",
        "The given `externalId` does not belong to the given integration.",
        KEY,
        NO_COURSE,
    ),
    (
        "The given `courseId` does not correspond to any existing course.",
        "The given `courseId` does not correspond to any existing course.",
        KEY,
        NO_COURSE,
    ),
    (
        "<code>: <text>",
        "userNotFound: no 360Learning user matches 'jane.doe@acme.com'.",
        KEY,
        UNKNOWN,
    ),
]


class TestMessageForms:
    def test_every_form_has_a_case_and_a_source(self):
        """The table test below covers each form of the table, and each form cites its source."""
        assert [form.template for form in MESSAGE_FORMS] == [case[0] for case in FORM_CASES]
        assert all(form.source for form in MESSAGE_FORMS)

    @pytest.mark.parametrize(("template", "message", "key", "kind"), FORM_CASES)
    def test_form_is_recognised(self, template, message, key, kind):
        """A message in a documented form gets that form's meaning."""
        assert classify_item_error(key, message) is kind

    def test_case_and_surrounding_space_do_not_matter(self):
        """Literal text matches case-insensitively, and the mail's case is the key's."""
        assert classify_item_error(KEY, "  user 'Jane.Doe@ACME.com' NOT FOUND.\n") is UNKNOWN

    @pytest.mark.parametrize(
        "message",
        [
            "User 'someone.else@acme.com' not found.",  # names another learner
            "User 'jane.doe@acme.com' not found. Course 12 is archived.",  # more than the form
            "Error: User 'jane.doe@acme.com' not found.",  # less anchored than the form
            "No user has the mail 'jane.doe@acme.com.evil'.",
        ],
    )
    def test_near_misses_are_other(self, message):
        """Only a whole message naming the very learner sent matches a form."""
        assert classify_item_error(KEY, message) is OTHER

    @pytest.mark.parametrize(
        "message",
        [
            "",
            None,
            "Something went wrong.",
            "user not found",  # a snippet is not a form
            "The learner has no account on this platform",
            "UserNotFound: wrong case of a code",
        ],
    )
    def test_unknown_text_is_other(self, message):
        """An unclassifiable error is other: a failure, never an unknown learner."""
        assert classify_item_error(KEY, message) is OTHER


class TestCodes:
    @pytest.mark.parametrize(("code", "kind"), sorted(CODE_KINDS.items()))
    def test_code_decides(self, code, kind):
        """A code sent with the item decides, whatever the wording."""
        assert classify_item_error(KEY, "Whatever the platform says.", code) is kind

    def test_code_wins_over_a_matching_wording(self):
        """With a code, the message is not read: an unknown code is other."""
        assert classify_item_error(KEY, "User 'jane.doe@acme.com' not found.", "quotaExceeded") is (
            OTHER
        )

    def test_code_prefixed_message_with_unknown_code_is_other(self):
        """A message carrying a code 360Learning never used for a learner is other."""
        assert classify_item_error(KEY, "invalidInput: $.progress must be ≤ 100") is OTHER


class TestCourseItems:
    @pytest.mark.parametrize(
        ("message", "code"),
        [
            ("userNotFound: no user has the ID 64b7f0c2a1b2c3d4e5f60719 (authorId).", None),
            ("Whatever", "userNotFound"),
            ("The given user does not correspond to any existing and non-deleted user.", None),
        ],
    )
    def test_learner_kinds_do_not_apply_to_courses(self, message, code):
        """On a course upsert, userNotFound is about its author: other, not an unknown learner."""
        assert classify_item_error("1565838", message, code) is OTHER

    def test_unknown_course_applies_to_courses(self):
        """Archiving a course 360Learning does not know is an unknown course."""
        message = "courseNotBelongToIntegration: the externalId '1565838' is unknown."
        assert classify_item_error("1565838", message) is NO_COURSE
