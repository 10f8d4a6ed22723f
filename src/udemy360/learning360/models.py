"""Typed bodies of the 360Learning API v2 calls the connector makes.

Outbound models (what we send) forbid unknown fields and serialise with camelCase aliases, so a
typo cannot reach the wire; inbound models (what we read) ignore fields they do not know, because
360Learning adds fields over time. Field constraints repeat the official OpenAPI definitions
(``contracts/360learning/*.openapi.json``) so that an invalid value fails here, before sending.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
)
from pydantic.alias_generators import to_camel

from udemy360._http import require_secure_base_url

# The v2 language enum, 79 distinct values (the definition lists "el" twice) —
# research/360learning-api.md §11.3. A test checks it against the contract.
LangCode = Literal[
    "am_ET", "ar", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "en_CA", "en_GB",
    "es", "es_AR", "es_MX", "et", "fi", "fr", "fr_CA", "gu", "he_IL", "hi", "hr", "ht_HT", "hu",
    "hy", "id", "it", "ja", "kar_MM", "kk", "km", "ko", "lo", "lt", "lv", "mh_MH", "mi", "mn_MN",
    "mr", "ms", "my_MM", "nl", "nl_BE", "nn_NO", "no", "or", "pa", "pl", "pt", "pt_BR", "pt_MZ",
    "rn_BI", "ro", "ru", "rw_RW", "si", "sk", "sl", "so_SO", "sr", "sv", "sw_KE", "ta", "te", "th",
    "ti_ET", "tl_PH", "tr", "uk", "ur", "uz", "vi", "yo_NG", "zh", "zh_HANT", "zh_tw",
]  # fmt: skip
LANGUAGE_CODES: Final[frozenset[str]] = frozenset(get_args(LangCode))

Region = Literal["eu", "us"]
REGION_BASE_URLS: Final[dict[str, str]] = {
    # research/360learning-api.md §2
    "eu": "https://app.360learning.com",
    "us": "https://app.us.360learning.com",
}

ContentType = Literal[
    "article", "assessment", "audiobook", "book", "certificate", "channel", "course",
    "curriculum", "interactive", "journey", "labs", "linkedContent", "mooc", "podcast",
    "program", "roleplay", "specialization", "topvoice", "video",
]  # fmt: skip
DifficultyLevel = Literal["beginner", "intermediate", "advanced"]
BulkStatus = Literal["pending", "queued", "running", "completed", "error"]
# UserDTO.status and the status filter of GET /api/v2/users (core-api.openapi.json).
UserStatus = Literal["active", "invited", "deleted"]

ObjectId = Annotated[str, Field(pattern=r"^[a-fA-F0-9]{24}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


def _check_lang(value: str | None) -> str | None:
    if value is not None and value not in LANGUAGE_CODES:
        raise ValueError(f"{value!r} is not a 360Learning v2 language code")
    return value


# Two- and three-digit fields and the dates already written: the formatting below runs twice for
# every statistic sent (a million a day on a large tenant), and ``isoformat`` alone costs three
# times as much. A run's timestamps fall on a few thousand days; the cache is cleared past that.
_TWO_DIGITS: Final = tuple(f"{n:02d}" for n in range(100))
_THREE_DIGITS: Final = tuple(f"{n:03d}" for n in range(1000))
_DAYS: dict[int, str] = {}
_MAX_DAYS: Final = 20_000


def format_timestamp(value: datetime) -> str:
    """Return ``value`` as ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (the format the API documents).

    Milliseconds are truncated, as ``isoformat(timespec="milliseconds")`` does.
    """
    if value.tzinfo is None:
        raise ValueError("timestamps sent to 360Learning must be timezone-aware")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    ordinal = value.toordinal()
    day = _DAYS.get(ordinal)
    if day is None:
        if len(_DAYS) >= _MAX_DAYS:
            _DAYS.clear()
        day = _DAYS[ordinal] = value.date().isoformat()
    two = _TWO_DIGITS
    return (
        f"{day}T{two[value.hour]}:{two[value.minute]}:{two[value.second]}"
        f".{_THREE_DIGITS[value.microsecond // 1000]}Z"
    )


# A timestamp we send: the serialiser is called straight from pydantic-core, no method in between.
Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class _Outbound(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=to_camel
    )

    def to_json(self) -> dict[str, object]:
        """Return the wire form: camelCase keys, ``None`` fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json_bytes(self) -> bytes:
        """Return the wire form as JSON text (UTF-8), written in one pass by pydantic-core.

        The same document as ``to_json``; a 10,000-statistic body costs a quarter of what
        ``json.dumps(to_json())`` does.
        """
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


class _Inbound(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, alias_generator=to_camel
    )


# --- credentials -----------------------------------------------------------------------------


class Learning360Credentials(BaseModel):
    """API v2 client credentials of one company, and where its platform lives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: NonEmpty
    client_secret: SecretStr
    region: Region = "eu"
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _secure(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return require_secure_base_url(value, setting="base_url").rstrip("/")

    @property
    def api_base_url(self) -> str:
        """The override when given, else the region's production host."""
        return self.base_url or REGION_BASE_URLS[self.region]


# --- external courses ------------------------------------------------------------------------


class Source(_Outbound):
    """One entry of an external course's ``sources`` (shown to learners as the provider)."""

    name: NonEmpty
    logo_url: NonEmpty | None = None


class ExternalCourse(_Outbound):
    """One item of ``PUT /api/v2/bulk/integrations/{integrationId}/courses`` (full replacement)."""

    external_id: NonEmpty
    name: NonEmpty
    default_lang: str
    launch_url: NonEmpty
    sources: list[Source]
    subjects: list[NonEmpty]
    description: NonEmpty | None = None
    image_url: NonEmpty | None = None
    duration: Annotated[int, Field(ge=1, le=100000)] | None = None  # minutes
    difficulty_level: DifficultyLevel | None = None
    content_type: ContentType | None = None
    mobile_launch_url: NonEmpty | None = None
    author_id: ObjectId | None = None

    @field_validator("default_lang")
    @classmethod
    def _lang(cls, value: str) -> str:
        _check_lang(value)
        return value


class ArchiveExternalCourse(_Outbound):
    """One item of ``DELETE /api/v2/bulk/integrations/{integrationId}/courses``."""

    external_id: NonEmpty


# --- statistics ------------------------------------------------------------------------------


class CourseIdentifier(_Outbound):
    """Which course a statistic belongs to: our ``externalId`` or 360Learning's course id."""

    type: Literal["externalId", "internalId"]
    value: NonEmpty


class UserIdentifier(_Outbound):
    """Which learner a statistic belongs to: their 360Learning email or user id."""

    type: Literal["mail", "internalId"]
    value: NonEmpty


class ExternalStatistic(_Outbound):
    """One item of ``POST /api/v2/bulk/integrations/{integrationId}/stats``.

    Re-sending a row is idempotent only while ``first_activity_at`` stays the same: a later
    value makes 360Learning open a new attempt (research/360learning-api.md §15.2).
    """

    course_identifier: CourseIdentifier
    user_identifier: UserIdentifier
    progress: Annotated[int, Field(ge=0, le=100)]
    time_spent: Annotated[int, Field(ge=1)]  # milliseconds; 0 is invalid
    first_activity_at: Timestamp
    last_activity_at: Timestamp
    lang: str | None = None
    score: Annotated[int, Field(ge=0, le=100)] | None = None
    result: Literal["success", "failed"] | None = None

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        return _check_lang(value)

    @field_validator("first_activity_at", "last_activity_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must be timezone-aware (send UTC)")
        return value


# --- integrations ----------------------------------------------------------------------------


class IntegrationSettings(_Outbound):
    """Body of ``POST /api/v2/integrations`` (research/360learning-api.md §9.1)."""

    external_platform: NonEmpty
    group_id: ObjectId
    author_id: ObjectId
    default_completion: bool | None = None
    default_progress: Annotated[int, Field(ge=0, le=100)] | None = None
    no_group_propagation: bool | None = None
    external_platform_logo_url: NonEmpty | None = None
    external_platform_unicolor_logo_url: NonEmpty | None = None


class IntegrationPatch(_Outbound):
    """Body of ``PATCH /api/v2/integrations/{integrationId}``: only the fields to change."""

    external_platform: NonEmpty | None = None
    group_id: ObjectId | None = None
    author_id: ObjectId | None = None
    default_completion: bool | None = None
    default_progress: Annotated[int, Field(ge=0, le=100)] | None = None
    no_group_propagation: bool | None = None
    external_platform_logo_url: NonEmpty | None = None
    external_platform_unicolor_logo_url: NonEmpty | None = None


class Integration(_Inbound):
    """An integration configuration as 360Learning returns it."""

    id: str = Field(alias="_id")
    external_platform: str
    group_id: str
    author_id: str
    default_completion: bool | None = None
    default_progress: int | None = None
    no_group_propagation: bool | None = None
    external_platform_logo_url: str | None = None
    external_platform_unicolor_logo_url: str | None = None


class ExternalCourseInfo(_Inbound):
    """``GET /api/v2/integrations/{integrationId}/courses/{externalId}``: the course and its id."""

    course_id: str
    external_id: str
    name: str
    default_lang: str
    launch_url: str
    author_id: str | None = None
    description: str | None = None
    image_url: str | None = None
    duration: int | None = None
    difficulty_level: str | None = None
    content_type: str | None = None
    sources: list[dict[str, str]] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)


# --- tags, users -----------------------------------------------------------------------------


class Tag(_Inbound):
    """A tag of the platform (``GET /api/v2/tags``; ``source`` is absent on create)."""

    id: str = Field(alias="_id")
    name: str
    is_main: bool = False
    external_id: str | None = None
    source: Literal["native", "integration"] | None = None


class CourseTag(_Inbound):
    """A tag attached to a course (``GET /api/v2/courses/{courseId}/tags``)."""

    tag_id: str
    source: Literal["native", "integration"] | None = None


class User(_Inbound):
    """A 360Learning user (``UserDTO``); ``lang`` is the profile language (a v2 language code).

    ``mail`` is absent for users who log in with a username only. ``status`` is ``active``,
    ``invited`` or ``deleted`` today (``UserStatus``); it stays a plain string so that a status
    360Learning adds later does not make a whole page of users unreadable.
    """

    id: str = Field(alias="_id")
    mail: str | None = None
    username: str | None = None
    lang: str | None = None
    status: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def deleted(self) -> bool:
        """Whether the account is deleted (core-api's ``userNotFound`` covers deleted users)."""
        return self.status == "deleted"


# --- request and response envelopes (private to the client) ----------------------------------


class TokenRequest(_Outbound):
    """``POST /api/v2/oauth2/token`` body; snake_case on the wire, as OAuth2 has it."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=None)

    grant_type: Literal["client_credentials"] = "client_credentials"
    client_id: NonEmpty
    client_secret: NonEmpty

    def __repr__(self) -> str:
        return f"TokenRequest(client_id={self.client_id!r}, client_secret='**********')"


class TokenResponse(_Inbound):
    """The token endpoint's answer; ``expires_in`` may arrive as the string ``"3600"``."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=None)

    access_token: SecretStr
    token_type: str = "Bearer"
    # the guide's example sends expires_in as a string — research/360learning-api.md §3
    expires_in: float


class ImportExternalCoursesBody(_Outbound):
    """Envelope of the upsert bulk call."""

    input: Annotated[list[ExternalCourse], Field(max_length=10000)]


class ArchiveExternalCoursesBody(_Outbound):
    """Envelope of the archive bulk call."""

    input: Annotated[list[ArchiveExternalCourse], Field(max_length=1000)]


class ImportExternalStatisticsBody(_Outbound):
    """Envelope of the statistics bulk call."""

    input: Annotated[list[ExternalStatistic], Field(max_length=10000)]


class CreateTagBody(_Outbound):
    """Body of ``POST /api/v2/tags``."""

    name: NonEmpty
    is_main: bool = False
    external_id: NonEmpty | None = None


class UpdateCourseTagsBody(_Outbound):
    """Body of ``PUT /api/v2/courses/{courseId}/tags`` (replaces all tags of the course)."""

    tag_ids: Annotated[list[ObjectId], Field(max_length=100)]


class ArchiveCourseBody(_Outbound):
    """Body of ``PUT /api/v2/courses/{courseId}/archive``."""

    archived: bool


class BulkOperationBody(_Inbound):
    """``GET /api/v2/bulk/operations/{id}`` (all five status shapes in one tolerant model)."""

    id: str = Field(alias="_id")
    type: str | None = None
    status: BulkStatus
    error_message: str | None = None
    created_at: str | None = None
    ended_at: str | None = None


class BulkResultBody(_Inbound):
    """One element of ``GET /api/v2/bulk/operations/{id}/results``."""

    input: dict[str, object] = Field(default_factory=dict)
    status: Literal["success", "error"]
    resource_id: str | None = None
    error_message: str | None = None
