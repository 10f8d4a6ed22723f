"""Typed, tolerant models of what the Udemy Business API returns.

Inbound models ignore unknown fields and accept missing or null ones (Udemy adds fields and the
org endpoint's defaults are undocumented — research/udemy-api.md §8). Formats are normalised here
so that the mapping never sees two spellings of the same value.

Text is made safe here, once: before a course, learning path or activity row is validated, every
string in it goes through ``safe_text``, so nothing downstream (mapping, hashing, JSON encoding,
the PostgreSQL store) meets a lone surrogate or a NUL. The client checks each response body for
what could decode to such a character (a memchr-fast scan) and, when there is none, validates
with ``KNOWN_SAFE`` as context to skip the walk: the hot path pays one check per body, not one
per string. Ids must fit the store's signed 64-bit columns; a record that breaks a rule of type
or range fails validation, which the page reports as a problem of that record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from udemy360._http import safe_url
from udemy360.udemy.errors import UdemyConfigError

_DNS_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_DIGITS: Final = re.compile(r"^[0-9]{1,20}$")

# The store keeps Udemy ids in signed 64-bit columns (BIGINT on SQLite and PostgreSQL).
MAX_ID: Final = 2**63 - 1
MIN_INT: Final = -(2**63)

# What must not leave this module: C0 controls but tab, newline and carriage return; DEL; and
# surrogate halves (a JSON "\ud800" escape decodes to one; UTF-8 cannot encode it, PostgreSQL
# text cannot hold NUL). Searching is the fast path: most strings hold none of these.
_UNSAFE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """Return ``text`` with lone surrogates replaced by U+FFFD and control characters removed.

    Tab, newline and carriage return are kept. A well-formed surrogate pair (as decoded from
    CESU-8 bytes) is joined into its character rather than replaced. ``text`` itself is
    returned, without copying, when there is nothing to change.
    """
    if _UNSAFE.search(text) is None:
        return text
    if _SURROGATE.search(text) is not None:
        # UTF-16 round trip: pairs become one code point, each lone half becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROLS.sub("", text)


# Deeper than any model reads (path → sections → items → thumbnail → URL is five levels): what
# lies below is never kept, so the walk stops there and cannot meet Python's recursion limit.
_MAX_DEPTH: Final = 16
_KNOWN_SAFE_KEY: Final = "udemy360.udemy.known_safe_text"
# Validation context telling the models their input's text is already safe (the client checked
# the body it came from with ``_http.may_hold_unsafe_text``).
KNOWN_SAFE: Final[Mapping[str, bool]] = MappingProxyType({_KNOWN_SAFE_KEY: True})


def safe_json(value: object, *, _depth: int = 0) -> object:
    """Return a parsed JSON value with every string in it, keys included, made safe."""
    if isinstance(value, str):
        return safe_text(value)
    if _depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            safe_text(k) if isinstance(k, str) else k: safe_json(v, _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [safe_json(v, _depth=_depth + 1) for v in value]
    return value


def _check_account_name(value: object) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise UdemyConfigError(
            "account_name must be the sub-domain of your Udemy Business URL, a single DNS label "
            "such as 'acme' for https://acme.udemy.com (letters, digits and '-', no dots or "
            f"slashes); got {value!r}"
        )
    return value.lower()


def _check_account_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.match(value.strip()):
        raise UdemyConfigError(
            "account_id must be the numeric organization id shown on your Udemy Business "
            f"API documentation page (e.g. 100028); got {value!r}"
        )
    return value.strip()


class UdemyCredentials(BaseModel):
    """Where and as whom to call the Udemy Business API.

    A bad ``account_name``/``account_id`` raises ``UdemyConfigError`` on construction.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_name: str
    account_id: str
    client_id: str
    client_secret: SecretStr
    base_url: str | None = None

    def __init__(self, **data: object) -> None:
        # Checked before pydantic runs so that the caller gets our error type, not a wrapper.
        if "account_name" in data:
            data["account_name"] = _check_account_name(data["account_name"])
        if "account_id" in data:
            data["account_id"] = _check_account_id(data["account_id"])
        if data.get("base_url") is not None:
            data["base_url"] = _check_base_url(data["base_url"])
        super().__init__(**data)

    @field_validator("account_name", mode="before")
    @classmethod
    def _valid_name(cls, value: object) -> str:
        return _check_account_name(value)

    @field_validator("account_id", mode="before")
    @classmethod
    def _valid_id(cls, value: object) -> str:
        return _check_account_id(value)

    @field_validator("base_url", mode="before")
    @classmethod
    def _valid_base_url(cls, value: object) -> str | None:
        return None if value is None else _check_base_url(value)

    @property
    def api_base_url(self) -> str:
        """The organization's API root, always ending in ``/``."""
        if self.base_url:
            return self.base_url
        return f"https://{self.account_name}.udemy.com/api-2.0/organizations/{self.account_id}/"


def _check_base_url(value: object) -> str:
    """Shape only; whether plain http:// is allowed depends on the transport (see the client)."""
    if not isinstance(value, str):
        raise UdemyConfigError(f"base_url must be a URL string; got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UdemyConfigError(f"base_url must be an absolute http(s) URL, got {safe_url(value)!r}")
    if parts.username or parts.password:
        raise UdemyConfigError("base_url must not embed credentials; set client_id/client_secret")
    return value if value.endswith("/") else value + "/"


# --- normalisers -----------------------------------------------------------------------------


def _none_if_blank(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _parse_datetime(value: object) -> datetime | None:
    """Accept ``…Z``, fractional seconds or not, offsets, and a bare ``YYYY-MM-DD`` (UTC midnight).

    research/udemy-api.md §3.4: timestamps are UTC with ``Z``; fractional seconds vary.
    """
    value = _none_if_blank(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 date-time, got {type(value).__name__}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before datetime.min in UTC
        raise ValueError("date-time out of range once converted to UTC") from None


def _parse_date(value: object) -> date | None:
    """``last_update_date`` is a bare date (research §3.1); a timestamp is cut to its UTC date."""
    value = _none_if_blank(value)
    if value is None:
        return None
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    parsed = _parse_datetime(value)
    return parsed.date() if parsed else None


def _as_tuple(value: object) -> object:
    if value is None:
        return ()
    return value


def _str_items(value: object) -> object:
    """Keep the strings of a list (instructors, categories); drop nulls and non-strings."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return value


def _str_dict(value: object) -> object:
    """An image dict keeps only string URLs; null or a non-dict becomes empty."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str) and v}


def _locale_code(value: object) -> object:
    """``{"_class": "locale", "locale": "en_US"}`` or a plain ``"en_US"`` → ``"en_US"``."""
    if isinstance(value, dict):
        value = value.get("locale")
    return _none_if_blank(value)


def _ratio(value: object) -> object:
    """Clamp to 0..100: the API documents a percentage (research §3.4, Javadoc).

    We do not rescale values ≤ 1: on a 0–100 scale 0.5 is a real (small) progress, and completion
    is read from ``course_completion_date`` anyway (DESIGN.md, Activity table).
    """
    value = _none_if_blank(value)
    if value is None:
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else value
    except OverflowError:  # an integer beyond float's range
        raise ValueError("completion_ratio is out of range") from None
    if isinstance(number, float):
        if number != number:  # NaN
            return None
        return min(100.0, max(0.0, number))
    return number


def _raw_str(value: object) -> object:
    return value if isinstance(value, str) else None


def _minutes(value: object) -> object:
    value = _none_if_blank(value)
    if isinstance(value, int | float) and value < 0:
        return 0.0
    return value


OptStr = Annotated[str | None, BeforeValidator(_none_if_blank)]
# A JSON integer that fits the store: no bool, float or numeric string (a wrong type is a
# problem of the record, not a guess), and neither negative nor beyond signed 64-bit.
UdemyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Int64 = Annotated[int, Field(ge=MIN_INT, le=MAX_ID)]
UtcDateTime = Annotated[datetime | None, BeforeValidator(_parse_datetime)]
Day = Annotated[date | None, BeforeValidator(_parse_date)]
StrTuple = Annotated[tuple[str, ...], BeforeValidator(_str_items)]
ImageDict = Annotated[dict[str, str], BeforeValidator(_str_dict)]

_INBOUND = ConfigDict(extra="ignore", frozen=True)


class _UdemyRecord(BaseModel):
    """A record as a Udemy listing returns it: its text is made safe before anything else."""

    model_config = _INBOUND

    @model_validator(mode="before")
    @classmethod
    def _safe_text(cls, data: object, info: ValidationInfo) -> object:
        context = info.context
        if isinstance(context, Mapping) and context.get(_KNOWN_SAFE_KEY):
            return data
        return safe_json(data)


class UdemyCategory(BaseModel):
    """A category, subcategory or topic (``{id, title, url}``)."""

    model_config = _INBOUND

    id: Int64 | None = None
    title: str
    url: OptStr = None


class UdemyPromoVideo(BaseModel):
    """One quality of a course's promo video; ``file`` is a signed, expiring URL (research §3.1)."""

    model_config = _INBOUND

    type: OptStr = None
    label: OptStr = None
    file: str

    def __repr__(self) -> str:
        # The signed query string is a credential for the CDN; keep it out of reprs.
        return f"UdemyPromoVideo(label={self.label!r}, file=<signed url>)"


class UdemyCourse(_UdemyRecord):
    """A course of the organization's collection (``courses/list/``)."""

    id: UdemyId
    title: str
    headline: OptStr = None
    description: OptStr = None
    url: OptStr = None
    # Minutes; a fractional value is kept (the unit and format are unverified, research §8 Q8).
    estimated_content_length: float | None = None
    categories: StrTuple = ()
    primary_category: UdemyCategory | None = None
    primary_subcategory: UdemyCategory | None = None
    topics: Annotated[tuple[UdemyCategory, ...], BeforeValidator(_as_tuple)] = ()
    instructors: StrTuple = ()
    locale: Annotated[str | None, BeforeValidator(_locale_code)] = None
    images: ImageDict = Field(default_factory=dict)
    promo_video_url: Annotated[tuple[UdemyPromoVideo, ...], BeforeValidator(_as_tuple)] = ()
    level: OptStr = None
    mobile_native_deeplink: OptStr = None
    last_update_date: Day = None

    @property
    def best_promo_video(self) -> str | None:
        """The file of the highest-quality promo video (largest numeric label), if any."""

        def quality(video: UdemyPromoVideo) -> int:
            # isdecimal, not isdigit: int() reads every decimal digit and only those; nine
            # digits are plenty for "1080" and keep int() far from its digit limit
            digits = "".join(ch for ch in video.label or "" if ch.isdecimal())[:9]
            return int(digits) if digits else -1

        videos = [v for v in self.promo_video_url if v.file]
        if not videos:
            return None
        return max(videos, key=quality).file


class UdemyEditor(BaseModel):
    """An editor of a learning path (``fields[user]``)."""

    model_config = _INBOUND

    display_name: OptStr = None
    email: OptStr = None


def _order_key(order: int | None) -> tuple[int, int]:
    return (0, order) if order is not None else (1, 0)


class UdemyLearningPathItem(BaseModel):
    """One step of a path section: a course, a lecture, a link… (``type`` is undocumented)."""

    model_config = _INBOUND

    id: Int64 | None = None
    title: OptStr = None
    url: OptStr = None
    type: OptStr = None
    duration: float | None = None
    order: Int64 | None = None
    thumbnail: ImageDict = Field(default_factory=dict)
    resource_url: OptStr = None


class UdemyLearningPathSection(BaseModel):
    """A section of a learning path; its items are sorted by ``order``."""

    model_config = _INBOUND

    id: Int64 | None = None
    title: OptStr = None
    order: Int64 | None = None
    items: Annotated[tuple[UdemyLearningPathItem, ...], BeforeValidator(_as_tuple)] = ()

    @field_validator("items", mode="after")
    @classmethod
    def _sorted(cls, items: tuple[UdemyLearningPathItem, ...]) -> tuple[UdemyLearningPathItem, ...]:
        return tuple(sorted(items, key=lambda item: _order_key(item.order)))


def _path_images(data: object) -> object:
    """Lift a path-level image dict from ``images``/``image``/``thumbnail`` if the API sends one."""
    if isinstance(data, dict) and "images" not in data:
        for key in ("image", "thumbnail"):
            if isinstance(data.get(key), dict):
                return {**data, "images": data[key]}
    return data


class UdemyLearningPath(_UdemyRecord):
    """A learning path (``learning-paths/list/``); sections sorted by ``order``."""

    id: UdemyId
    title: str
    description: OptStr = None
    url: OptStr = None
    editors: Annotated[tuple[UdemyEditor, ...], BeforeValidator(_as_tuple)] = ()
    # Minutes; a fractional value is kept (the unit and format are unverified, research §8 Q8).
    estimated_content_length: float | None = None
    last_modified: UtcDateTime = None
    is_public: bool | None = None
    is_pro_path: bool | None = None
    images: ImageDict = Field(default_factory=dict)
    sections: Annotated[tuple[UdemyLearningPathSection, ...], BeforeValidator(_as_tuple)] = ()

    @model_validator(mode="before")
    @classmethod
    def _lift_images(cls, data: object) -> object:
        return _path_images(data)

    @field_validator("sections", mode="after")
    @classmethod
    def _sorted(
        cls, sections: tuple[UdemyLearningPathSection, ...]
    ) -> tuple[UdemyLearningPathSection, ...]:
        return tuple(sorted(sections, key=lambda section: _order_key(section.order)))


class UdemyCourseActivity(_UdemyRecord):
    """One learner's activity on one course (``analytics/user-course-activity/``).

    ``user_email`` is kept as Udemy sent it (made safe); trimming and validation belong to the
    mapping.
    """

    user_email: Annotated[str | None, BeforeValidator(_raw_str)] = None
    user_name: OptStr = None
    user_surname: OptStr = None
    user_is_deactivated: bool | None = None
    course_id: UdemyId
    course_title: OptStr = None
    completion_ratio: Annotated[float | None, BeforeValidator(_ratio)] = None
    num_video_consumed_minutes: Annotated[float | None, BeforeValidator(_minutes)] = None
    course_enroll_date: UtcDateTime = None
    course_start_date: UtcDateTime = None
    course_completion_date: UtcDateTime = None
    course_first_completion_date: UtcDateTime = None
    course_last_accessed_date: UtcDateTime = None
