"""The 360Learning sandbox's state as plain Python objects, and the documented rules that change it.

Nothing here knows HTTP: handlers in ``app.py`` translate requests into calls on
:class:`Learning360World` and :class:`ApiError` into documented error bodies. Time comes from the
injected clock only, so tests move it forward to expire tokens and finish bulk operations.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal, TypeAlias

from udemy360.sandbox.learning360._faults import ResultsFault
from udemy360.sandbox.seed import is_known_to_360learning, learner_email, learner_name

__all__ = [
    "ApiError",
    "Attempt",
    "BulkOperation",
    "Course",
    "Credential",
    "Integration",
    "Learning360World",
    "Tag",
    "User",
    "format_time",
    "parse_time",
]

Clock: TypeAlias = Callable[[], float]
JsonObject: TypeAlias = dict[str, object]
# (success, resourceId or errorMessage, error code sent with the item or None)
Outcome: TypeAlias = tuple[bool, str, str | None]
UserStatus: TypeAlias = Literal["active", "invited", "deleted"]
USER_STATUSES: Final = ("active", "invited", "deleted")  # UserDTO.status, core-api.openapi.json
# The sandbox's per-item error for a statistic whose learner it does not know (or who is deleted:
# core-api's userNotFound means "no existing and non-deleted user"); ``{value}`` is the learner's
# identifier as sent. 360Learning documents no wording (research/360learning-api.md §15.4).
DEFAULT_UNKNOWN_LEARNER: Final = "userNotFound: no 360Learning user matches '{value}'."

# A few names 360Learning keeps for its native connectors; the real list is not published
# (research/360learning-api.md §20 question 1), so the sandbox picks plausible ones.
RESERVED_PLATFORMS: Final = (
    "Udemy Business (native)",
    "LinkedIn Learning",
    "Coursera",
    "Go1",
    "OpenSesame",
)
# UserDTO.lang is a shorter enum than the course languages (core-api.openapi.json, UserDTO).
_USER_LANGS: Final = ("en", "fr", "de", "es", "it", "nl", "pt", "pl", "ja", "zh")
MAX_CONCURRENT_BULK: Final = 3


class ApiError(Exception):
    """A documented error answer; ``flat`` selects the ``{"error": code}`` body shape."""

    def __init__(self, status: int, code: str, message: str = "", *, flat: bool = False) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message or code
        self.flat = flat

    def body(self) -> JsonObject:
        """The JSON body 360Learning sends for this error."""
        if self.flat:
            return {"error": self.code}
        return {"error": {"code": self.code, "message": self.message}}


def format_time(ts: float) -> str:
    """Render epoch seconds as ``YYYY-MM-DDThh:mm:ss.sssZ`` (ISO 8601 UTC with milliseconds)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> float:
    """Parse an ISO 8601 date-time (already schema-checked) into epoch seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(slots=True)
class Credential:
    """One API v2 credential and the scopes granted to it."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: set[str]


@dataclass(slots=True)
class User:
    """A 360Learning user of the seeded directory."""

    id: str
    mail: str
    first_name: str
    last_name: str
    lang: str
    status: UserStatus = "active"
    deleted_at: list[float] = field(default_factory=list)
    reactivated_at: list[float] = field(default_factory=list)

    def to_json(self) -> JsonObject:
        """The ``UserDTO`` view."""
        out: JsonObject = {
            "_id": self.id,
            "mail": self.mail,
            "username": self.mail,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "status": self.status,
            "lang": self.lang,
        }
        if self.deleted_at:
            out["deletedAt"] = [format_time(t) for t in self.deleted_at]
        if self.reactivated_at:
            out["reactivatedAt"] = [format_time(t) for t in self.reactivated_at]
        return out


@dataclass(slots=True)
class Integration:
    """An integration configuration (``IntegrationDTO``); ``active`` turns false when deleted."""

    id: str
    external_platform: str
    group_id: str
    author_id: str
    settings: JsonObject
    active: bool = True

    def to_json(self) -> JsonObject:
        """The ``IntegrationDTO`` view."""
        return {
            **self.settings,
            "externalPlatform": self.external_platform,
            "groupId": self.group_id,
            "authorId": self.author_id,
            "_id": self.id,
        }


@dataclass(slots=True)
class Course:
    """An external course; ``data`` is the last upserted ``ExternalCourse``, replaced whole."""

    id: str
    integration_id: str
    external_id: str
    data: JsonObject
    author_id: str
    group_id: str
    created_at: float
    modified_at: float
    status: Literal["published", "archived"] = "published"


@dataclass(slots=True)
class Tag:
    """A tag (``TagDTOWithSource``)."""

    id: str
    name: str
    is_main: bool
    external_id: str | None = None
    source: Literal["native", "integration"] = "native"

    def to_json(self, *, with_source: bool = True) -> JsonObject:
        """The ``TagDTO`` (or ``TagDTOWithSource``) view."""
        out: JsonObject = {"_id": self.id, "name": self.name, "isMain": self.is_main}
        if self.external_id is not None:
            out["externalId"] = self.external_id
        if with_source:
            out["source"] = self.source
        return out


@dataclass(slots=True)
class Attempt:
    """One attempt of a learner at a course; times are epoch seconds (kept small: 1M rows fit)."""

    id: str
    user_id: str
    course_id: str
    progress: int
    time_spent: float
    first_activity_at: float
    last_activity_at: float
    completed_at: float | None
    lang: str
    score: float | None = None

    @property
    def ends_at(self) -> float:
        """The later of last activity and completion, what the attempt rules compare against."""
        return (
            self.last_activity_at
            if self.completed_at is None
            else max(self.completed_at, self.last_activity_at)
        )

    def to_json(self) -> JsonObject:
        """The ``CourseStatDTO`` view."""
        out: JsonObject = {
            "_id": self.id,
            "courseId": self.course_id,
            "userId": self.user_id,
            "lang": self.lang,
            "progress": self.progress,
            "timeSpent": self.time_spent,
            "firstActivityAt": format_time(self.first_activity_at),
            "lastActivityAt": format_time(self.last_activity_at),
        }
        if self.completed_at is not None:
            out["completedAt"] = format_time(self.completed_at)
        if self.score is not None:
            out["score"] = round(self.score)
        return out


OperationType: TypeAlias = Literal[
    "importExternalCourses", "archiveExternalCourses", "importExternalStatistics"
]


@dataclass(slots=True)
class BulkOperation:
    """A bulk operation whose stage is a function of the sandbox clock (nothing runs in background).

    ``items`` is held until the operation is applied; afterwards only the raw request body and one
    outcome per item remain, and both are dropped for old operations (``results_retention``).
    """

    id: str
    type: OperationType
    integration_id: str
    created_at: float
    queued_at: float
    started_at: float
    ended_at: float
    item_count: int
    fails: bool
    items: list[JsonObject] | None
    raw: bytes | None
    outcomes: list[Outcome] | None = None
    applied: bool = False
    results_fault: ResultsFault | None = None

    def status(self, now: float) -> str:
        """``pending``, ``queued``, ``running``, then ``completed`` or ``error``."""
        if now < self.queued_at:
            return "pending"
        if now < self.started_at:
            return "queued"
        if now < self.ended_at or not self.applied:
            return "running"
        return "error" if self.fails else "completed"

    def finished(self, now: float) -> bool:
        """Whether the operation ended (it no longer takes one of the 3 concurrency slots)."""
        return self.status(now) in {"completed", "error"}

    def to_json(self, now: float) -> JsonObject:
        """The ``*OperationDTO`` view matching the current stage."""
        status = self.status(now)
        out: JsonObject = {
            "_id": self.id,
            "type": self.type,
            "createdAt": format_time(self.created_at),
            "status": status,
        }
        if status == "pending":
            return out
        out["queuedAt"] = format_time(self.queued_at)
        if status == "queued":
            return out
        out["startedAt"] = format_time(self.started_at)
        span = self.ended_at - self.started_at
        done = (
            self.item_count
            if span <= 0
            else int(self.item_count * min(1.0, (now - self.started_at) / span))
        )
        if status != "running":
            done = self.item_count
            out["endedAt"] = format_time(self.ended_at)
        out["progress"] = {
            "index": max(done - 1, 0),
            "updatedAt": format_time(min(now, self.ended_at)),
        }
        if status == "error":
            out["errorMessage"] = "The bulk operation failed unexpectedly (sandbox fault)."
        return out

    def results(self) -> list[JsonObject]:
        """One ``SuccessResult``/``ErrorResult`` per input item, in input order (unless a
        results fault spoils them); an error carries ``errorCode`` when the sandbox is set to
        send one (the contract documents none; ``ErrorResultDTO`` allows extra fields)."""
        if self.raw is None or self.outcomes is None:
            raise ApiError(
                404,
                "bulkOperationNotFound",
                "The results of this bulk operation are no longer kept.",
            )
        body = json.loads(self.raw)
        out: list[JsonObject] = []
        for item, (ok, text, code) in zip(body["input"], self.outcomes, strict=True):
            if ok:
                out.append({"input": item, "status": "success", "resourceId": text})
            elif code is None:
                out.append({"input": item, "status": "error", "errorMessage": text})
            else:
                out.append(
                    {"input": item, "status": "error", "errorMessage": text, "errorCode": code}
                )
        return out if self.results_fault is None else self.results_fault.apply(out)


class Learning360World:
    """Everything the sandbox holds: users, integrations, courses, tags, attempts, operations."""

    def __init__(
        self, *, seed: int = 1, learners: int = 300, token_ttl: float = 3600.0, clock: Clock
    ) -> None:
        self.clock = clock
        self._rng = random.Random(seed)
        self.token_ttl = token_ttl
        self.company_id = self.new_id()
        self.group_id = self.new_id()
        self.other_group_id = self.new_id()
        self.groups: set[str] = {self.group_id, self.other_group_id}
        self.reserved_platforms: tuple[str, ...] = RESERVED_PLATFORMS
        self.integrations_limit = 50
        self.unknown_learner_message = DEFAULT_UNKNOWN_LEARNER
        self.unknown_learner_code: str | None = None
        self.results_retention = 20
        self.max_concurrent_bulk = MAX_CONCURRENT_BULK
        self.credential = Credential(
            client_id=f"{self._rng.getrandbits(128):032x}",
            client_secret=f"{self._rng.getrandbits(128):032x}",
            scopes=set(),
        )
        self.tokens: dict[str, tuple[float, int]] = {}  # token -> (expires_at, fault generation)
        self.users: dict[str, User] = {}
        self.users_by_mail: dict[str, User] = {}
        owner = User(self.new_id(), "owner@example.com", "Camille", "Martin", "fr")
        self.owner_id = owner.id
        self._add_user(owner)
        for index in range(learners):
            if is_known_to_360learning(index):
                first, last = learner_name(index)
                lang = _USER_LANGS[index % len(_USER_LANGS)]
                self._add_user(User(self.new_id(), learner_email(index), first, last, lang))
        self.integrations: dict[str, Integration] = {}
        self.courses: dict[str, Course] = {}
        self.external_index: dict[tuple[str, str], str] = {}
        self.catalogs: dict[str, set[str]] = {group: set() for group in self.groups}
        self.libraries: dict[str, set[str]] = {group: set() for group in self.groups}
        self.tags: dict[str, Tag] = {}
        for name in ("Onboarding", "Compliance"):
            tag = Tag(self.new_id(), name, is_main=False)
            self.tags[tag.id] = tag
        self.course_tags: dict[str, list[str]] = {}
        self.attempts: dict[tuple[str, str], list[Attempt]] = {}
        self.attempt_log: list[Attempt] = []
        self.operations: dict[str, BulkOperation] = {}

    # -- basics ---------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh ObjectId-like 24-hex id, deterministic for a given seed."""
        return f"{self._rng.getrandbits(96):024x}"

    def now(self) -> float:
        """The sandbox clock."""
        return self.clock()

    def _add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.users_by_mail[user.mail.lower()] = user

    # -- user directory (sandbox administration) ------------------------------------------------

    def add_user(
        self,
        mail: str,
        *,
        status: str = "active",
        first_name: str = "New",
        last_name: str = "Learner",
        lang: str = "en",
    ) -> User:
        """Add a user; a deleted user with that mail is restored instead (as ``POST /users`` does).

        Raises:
            ApiError: 400 ``mailAlreadyUsed`` for a mail of a user who is not deleted;
                400 ``invalidInput`` for a status outside the enum.
        """
        known = self.users_by_mail.get(mail.lower())
        if known is not None:
            if known.status != "deleted":
                raise ApiError(400, "mailAlreadyUsed", f"The mail {mail!r} is already used.")
            return self.set_user_status(known.id, status)
        user = User(self.new_id(), mail, first_name, last_name, lang, _status(status))
        self._add_user(user)
        return user

    def set_user_status(self, user_id: str, status: str) -> User:
        """Change a user's status, dating deletions and reactivations as ``UserDTO`` does.

        Raises:
            ApiError: 404 ``userNotFound``; 400 ``invalidInput`` for a status outside the enum.
        """
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(404, "userNotFound", f"No user has the ID {user_id}.")
        new = _status(status)
        if new == "deleted" and user.status != "deleted":
            user.deleted_at.append(self.now())
        elif new != "deleted" and user.status == "deleted":
            user.reactivated_at.append(self.now())
        user.status = new
        return user

    def delete_user(self, user_id: str) -> User:
        """Soft-delete a user (``DELETE /api/v2/users/{userId}``): listed, with ``deletedAt``."""
        return self.set_user_status(user_id, "deleted")

    # -- tokens ---------------------------------------------------------------------------------

    def issue_token(self, generation: int) -> str:
        """Issue a bearer token valid for ``token_ttl`` seconds of sandbox clock."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = (self.now() + self.token_ttl, generation)
        return token

    def token_valid(self, token: str, generation: int) -> bool:
        """Whether ``token`` was issued, has not expired, and survived ``expire_tokens()``."""
        entry = self.tokens.get(token)
        return entry is not None and entry[1] == generation and self.now() < entry[0]

    # -- integrations ---------------------------------------------------------------------------

    def active_integrations(self) -> list[Integration]:
        """Integrations that were not deleted, in creation order."""
        return [i for i in self.integrations.values() if i.active]

    def integration(self, integration_id: str) -> Integration:
        """Return an active integration or raise 404 ``integrationNotFound``."""
        found = self.integrations.get(integration_id)
        if found is None or not found.active:
            raise ApiError(
                404, "integrationNotFound", f"No integration has the ID {integration_id}."
            )
        return found

    def _check_platform(self, name: str, group_id: str, *, ignore: str | None = None) -> None:
        if name.strip().casefold() in {r.casefold() for r in self.reserved_platforms}:
            raise ApiError(
                400,
                "reservedPlatformName",
                f"The platform name {name!r} is reserved; choose another externalPlatform.",
            )
        for other in self.active_integrations():
            same = other.external_platform.strip().casefold() == name.strip().casefold()
            if other.id != ignore and other.group_id == group_id and same:
                raise ApiError(
                    400,
                    "duplicateExternalPlatform",
                    f"The externalPlatform {name!r} already has an integration in this group.",
                )

    def _check_refs(self, group_id: str, author_id: str) -> None:
        if group_id not in self.groups:
            raise ApiError(404, "groupNotFound", f"No group has the ID {group_id}.")
        if author_id not in self.users:
            raise ApiError(404, "userNotFound", f"No user has the ID {author_id}.")

    def create_integration(self, body: JsonObject) -> Integration:
        """Create an integration (``POST /api/v2/integrations``), enforcing the documented rules."""
        name, group_id, author_id = (
            str(body["externalPlatform"]),
            str(body["groupId"]),
            str(body["authorId"]),
        )
        self._check_platform(name, group_id)
        if len(self.active_integrations()) >= self.integrations_limit:
            raise ApiError(
                400,
                "integrationsLimitReached",
                "The maximum number of integrations has been reached.",
            )
        self._check_refs(group_id, author_id)
        settings = {
            k: v for k, v in body.items() if k not in {"externalPlatform", "groupId", "authorId"}
        }
        integration = Integration(self.new_id(), name, group_id, author_id, settings)
        self.integrations[integration.id] = integration
        return integration

    def edit_integration(self, integration_id: str, body: JsonObject) -> Integration:
        """Apply a partial update (``PATCH``): fields left out stay unchanged."""
        integration = self.integration(integration_id)
        name = str(body.get("externalPlatform", integration.external_platform))
        group_id = str(body.get("groupId", integration.group_id))
        author_id = str(body.get("authorId", integration.author_id))
        self._check_platform(name, group_id, ignore=integration.id)
        self._check_refs(group_id, author_id)
        integration.external_platform, integration.group_id, integration.author_id = (
            name,
            group_id,
            author_id,
        )
        for key, value in body.items():
            if key not in {"externalPlatform", "groupId", "authorId"}:
                integration.settings[key] = value
        return integration

    def delete_integration(self, integration_id: str) -> None:
        """Delete an integration and archive all its courses (research/360learning-api.md §9.4)."""
        integration = self.integration(integration_id)
        integration.active = False
        for course in self.courses.values():
            if course.integration_id == integration.id:
                course.status = "archived"

    # -- courses --------------------------------------------------------------------------------

    def course(self, course_id: str) -> Course:
        """Return a course or raise 404 ``courseNotFound``."""
        found = self.courses.get(course_id)
        if found is None:
            raise ApiError(404, "courseNotFound", f"No course has the ID {course_id}.")
        return found

    def external_course(self, integration_id: str, external_id: str) -> Course:
        """Return a course by ``externalId``, else 400 ``courseNotBelongToIntegration``."""
        self.integration(integration_id)
        course_id = self.external_index.get((integration_id, external_id))
        if course_id is None:
            raise ApiError(
                400,
                "courseNotBelongToIntegration",
                f"The externalId {external_id!r} does not belong to integration {integration_id}.",
            )
        return self.courses[course_id]

    def set_archived(self, course_id: str, archived: bool) -> Course:
        """Archive or restore a course; refuses when its integration was deleted."""
        course = self.course(course_id)
        owner = self.integrations.get(course.integration_id)
        if owner is not None and not owner.active:
            raise ApiError(
                400,
                "integrationInactive",
                "The external course is linked to an inactive integration.",
            )
        course.status = "archived" if archived else "published"
        return course

    def _upsert_course(self, integration: Integration, item: JsonObject) -> Outcome:
        author_id = str(item.get("authorId", integration.author_id))
        if author_id not in self.users:
            return False, f"userNotFound: no user has the ID {author_id} (authorId).", None
        external_id = str(item["externalId"])
        now = self.now()
        course_id = self.external_index.get((integration.id, external_id))
        if course_id is not None:
            # Replaced whole; an archived course stays archived (no doc says upsert restores).
            course = self.courses[course_id]
            course.data, course.author_id, course.modified_at = item, author_id, now
            return True, course.id, None
        course = Course(
            self.new_id(),
            integration.id,
            external_id,
            item,
            author_id,
            integration.group_id,
            now,
            now,
        )
        self.courses[course.id] = course
        self.external_index[(integration.id, external_id)] = course.id
        self.catalogs[integration.group_id].add(course.id)
        self.libraries[integration.group_id].add(course.id)
        return True, course.id, None

    def _archive_course(self, integration: Integration, item: JsonObject) -> Outcome:
        course_id = self.external_index.get((integration.id, str(item["externalId"])))
        if course_id is None:
            return (
                False,
                f"courseNotBelongToIntegration: the externalId {item['externalId']!r} is unknown.",
                None,
            )
        self.courses[course_id].status = "archived"
        return True, course_id, None

    # -- tags -----------------------------------------------------------------------------------

    def create_tag(self, body: JsonObject) -> Tag:
        """Create a tag; a name already used by another tag (case-insensitively) is refused."""
        name = str(body["name"])
        if any(t.name.casefold() == name.casefold() for t in self.tags.values()):
            raise ApiError(400, "tagNameNotAvailable", f"The name {name!r} belongs to another tag.")
        external_id = body.get("externalId")
        tag = Tag(
            self.new_id(),
            name,
            bool(body["isMain"]),
            None if external_id is None else str(external_id),
        )
        self.tags[tag.id] = tag
        return tag

    def replace_course_tags(self, course_id: str, tag_ids: Iterable[str]) -> list[str]:
        """Replace every tag of a course (``PUT /courses/{id}/tags``); unknown tags give 404."""
        self.course(course_id)
        wanted = list(dict.fromkeys(tag_ids))
        for tag_id in wanted:
            if tag_id not in self.tags:
                raise ApiError(404, "tagNotFound", f"No tag has the ID {tag_id}.")
        self.course_tags[course_id] = wanted
        return wanted

    # -- statistics -----------------------------------------------------------------------------

    def user_by(self, kind: str, value: str) -> User | None:
        """Find a user by ``mail`` (case-insensitive) or ``internalId``."""
        return self.users_by_mail.get(value.lower()) if kind == "mail" else self.users.get(value)

    def _new_attempt(
        self, user: User, course: Course, rows: list[Attempt], *, lang: str
    ) -> Attempt:
        attempt = Attempt(self.new_id(), user.id, course.id, 0, 0, 0.0, 0.0, None, lang)
        rows.append(attempt)
        self.attempt_log.append(attempt)
        return attempt

    def _import_statistic(self, integration: Integration, item: JsonObject) -> Outcome:
        course_ref = item["courseIdentifier"]
        user_ref = item["userIdentifier"]
        assert isinstance(course_ref, dict)
        assert isinstance(user_ref, dict)
        if course_ref["type"] == "externalId":
            course_id = self.external_index.get((integration.id, str(course_ref["value"])))
        else:
            course_id = str(course_ref["value"])
        course = self.courses.get(course_id or "")
        if course is None or course.integration_id != integration.id:
            return (
                False,
                f"courseNotFound: no course of this integration matches {course_ref['value']!r}.",
                None,
            )
        user = self.user_by(str(user_ref["type"]), str(user_ref["value"]))
        if user is None or user.status == "deleted":
            message = self.unknown_learner_message.replace("{value}", str(user_ref["value"]))
            return False, message, self.unknown_learner_code
        first, last = (
            parse_time(str(item["firstActivityAt"])),
            parse_time(str(item["lastActivityAt"])),
        )
        progress = int(float(str(item["progress"])))
        key = (user.id, course.id)
        rows = self.attempts.setdefault(key, [])
        lang = str(item.get("lang") or course.data.get("defaultLang") or "en")
        # bulk-api importExternalStatistics description; research/360learning-api.md §15.2.
        create = bool(item.get("forceNew")) or not rows or all(first > a.ends_at for a in rows)
        if create:
            targets = [self._new_attempt(user, course, rows, lang=lang)]
            targets[0].first_activity_at = first
        else:
            # Not later than some attempt: update the overlapping attempts that are not completed.
            # Completed attempts are never modified (they are not among the "non-completed" ones).
            targets = [a for a in rows if a.completed_at is None and first <= a.ends_at]
            if not targets:
                overlapping = [a for a in rows if first <= a.ends_at]
                return True, overlapping[-1].id, None
        for attempt in targets:
            attempt.progress = progress
            attempt.last_activity_at = last
            attempt.lang = lang
            if "score" in item:
                attempt.score = float(str(item["score"]))
            if attempt is rows[0]:
                # Spec: time spent is "applied only to the first recorded attempt".
                attempt.time_spent = float(str(item["timeSpent"]))
            if progress >= 100:
                attempt.completed_at = last
        return True, targets[-1].id, None

    def launch(self, course_id: str, mail: str) -> Attempt:
        """A learner presses START: a new attempt with the integration's launch defaults."""
        course = self.course(course_id)
        user = self.user_by("mail", mail)
        if user is None:
            raise ApiError(404, "userNotFound", f"No user has the mail {mail!r}.")
        integration = self.integrations[course.integration_id]
        rows = self.attempts.setdefault((user.id, course.id), [])
        attempt = self._new_attempt(
            user, course, rows, lang=str(course.data.get("defaultLang", "en"))
        )
        now = self.now()
        attempt.first_activity_at = attempt.last_activity_at = now
        attempt.progress = int(str(integration.settings.get("defaultProgress", 0)))
        if integration.settings.get("defaultCompletion") is True:
            attempt.completed_at = now
        return attempt

    # -- bulk operations ------------------------------------------------------------------------

    def running_operations(self) -> int:
        """How many bulk operations have not ended yet."""
        now = self.now()
        return sum(1 for op in self.operations.values() if not op.finished(now))

    def submit(
        self,
        kind: OperationType,
        integration: Integration,
        items: list[JsonObject],
        raw: bytes,
        *,
        fails: bool,
        pending: float,
        queued: float,
        per_item: float,
        results_fault: ResultsFault | None = None,
    ) -> BulkOperation:
        """Queue a bulk operation, or raise 429 ``bulkOperationsConcurrencyLimitReached``."""
        self.advance()
        if self.running_operations() >= self.max_concurrent_bulk:
            raise ApiError(
                429,
                "bulkOperationsConcurrencyLimitReached",
                f"At most {self.max_concurrent_bulk} bulk operations may run at once.",
            )
        now = self.now()
        queued_at = now + pending
        started_at = queued_at + queued
        op = BulkOperation(
            id=self.new_id(),
            type=kind,
            integration_id=integration.id,
            created_at=now,
            queued_at=queued_at,
            started_at=started_at,
            ended_at=started_at + per_item * len(items),
            item_count=len(items),
            fails=fails,
            items=items,
            raw=raw,
            results_fault=results_fault,
        )
        self.operations[op.id] = op
        return op

    def advance(self) -> None:
        """Apply every operation whose end time has passed, in end-time order."""
        now = self.now()
        due = [op for op in self.operations.values() if not op.applied and op.ended_at <= now]
        for op in sorted(due, key=lambda o: o.ended_at):
            self._apply(op)
        if due:
            self._forget_old_results()

    def finish_all(self) -> None:
        """End every unfinished operation now (``process_bulk``)."""
        now = self.now()
        for op in self.operations.values():
            if not op.applied:
                op.queued_at = min(op.queued_at, now)
                op.started_at = min(op.started_at, now)
                op.ended_at = min(op.ended_at, now)
        self.advance()

    def _apply(self, op: BulkOperation) -> None:
        items = op.items or []
        integration = self.integrations.get(op.integration_id)
        outcomes: list[Outcome] = []
        if op.fails:
            outcomes = [
                (False, "The bulk operation failed before processing this item.", None)
            ] * len(items)
        elif integration is None or not integration.active:
            outcomes = [(False, "integrationNotFound: the integration was deleted.", None)] * len(
                items
            )
        else:
            step = {
                "importExternalCourses": self._upsert_course,
                "archiveExternalCourses": self._archive_course,
                "importExternalStatistics": self._import_statistic,
            }[op.type]
            outcomes = [step(integration, item) for item in items]
        op.outcomes, op.items, op.applied = outcomes, None, True

    def _forget_old_results(self) -> None:
        ended = [op for op in self.operations.values() if op.applied and op.raw is not None]
        for op in ended[: max(0, len(ended) - self.results_retention)]:
            op.raw, op.outcomes = None, None


def _status(value: str) -> UserStatus:
    if value == "active":
        return "active"
    if value == "invited":
        return "invited"
    if value == "deleted":
        return "deleted"
    raise ApiError(400, "invalidInput", f"status: {value!r} is not one of {USER_STATUSES}.")
