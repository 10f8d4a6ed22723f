"""``Learning360Sandbox``: one object that owns a world, its faults, the app and the request log."""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import FastAPI

from udemy360.sandbox.learning360._contracts import contract_index
from udemy360.sandbox.learning360._faults import Learning360Faults, Sleep, _real_sleep
from udemy360.sandbox.learning360._world import (
    DEFAULT_UNKNOWN_LEARNER,
    ApiError,
    Clock,
    JsonObject,
    Learning360World,
    User,
)
from udemy360.sandbox.learning360.app import RequestLogEntry, create_app

__all__ = ["Learning360Sandbox"]

_NOT_WRITES = ("/api/v2/oauth2/token", "/_sandbox")


class Learning360Sandbox:
    """An emulated 360Learning platform with one company, two groups and a seeded user directory.

    Every company-level scope is granted to the credential by default; ``set_scopes`` narrows it.
    ``clock`` (seconds, defaults to ``time.time``) drives token expiry, rate limits and bulk
    operations, so tests move it forward instead of sleeping.
    """

    def __init__(
        self,
        seed: int = 1,
        learners: int = 300,
        token_ttl: float = 3600.0,
        clock: Clock | None = None,
        *,
        sleep: Sleep = _real_sleep,
        keep_bodies: bool = False,
        validate_responses: bool = False,
    ) -> None:
        self.world = Learning360World(
            seed=seed, learners=learners, token_ttl=token_ttl, clock=clock or time.time
        )
        self.world.credential.scopes = set(contract_index().scopes())
        self.faults = Learning360Faults(self.world.clock, sleep=sleep)
        self.requests: list[RequestLogEntry] = []
        self.app: FastAPI = create_app(
            self.world,
            self.faults,
            log=self.requests,
            keep_bodies=keep_bodies,
            validate_responses=validate_responses,
        )

    def __repr__(self) -> str:
        return f"Learning360Sandbox(group_id={self.group_id!r}, courses={len(self.world.courses)})"

    @property
    def client_id(self) -> str:
        """The valid API v2 client id."""
        return self.world.credential.client_id

    @property
    def client_secret(self) -> str:
        """The valid API v2 client secret."""
        return self.world.credential.client_secret

    @property
    def group_id(self) -> str:
        """The target group of the connector."""
        return self.world.group_id

    @property
    def other_group_id(self) -> str:
        """A second group, for sharing and duplicate-name checks."""
        return self.world.other_group_id

    @property
    def owner_id(self) -> str:
        """A user with editor rights in the group; language ``fr``."""
        return self.world.owner_id

    @property
    def write_count(self) -> int:
        """POST/PUT/PATCH/DELETE requests received, not counting the token endpoint."""
        return sum(
            1
            for entry in self.requests
            if entry.method in {"POST", "PUT", "PATCH", "DELETE"}
            and not entry.path.startswith(_NOT_WRITES)
        )

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """Grant exactly these scopes (a missing one gives 403 ``invalid_scope``)."""
        self.world.credential.scopes = set(scopes)

    def launch(
        self,
        *,
        mail: str,
        course_id: str | None = None,
        external_id: str | None = None,
        integration_id: str | None = None,
    ) -> JsonObject:
        """Simulate a learner pressing START; return the new attempt (``CourseStatDTO``)."""
        if course_id is None:
            if external_id is None or integration_id is None:
                raise ValueError("give course_id, or external_id and integration_id")
            course_id = self.world.external_course(integration_id, external_id).id
        return self.world.launch(course_id, mail).to_json()

    def attempts_for(self, mail: str, course_id: str) -> list[JsonObject]:
        """The attempts of a learner at a course, oldest first (``CourseStatDTO`` views)."""
        self.world.advance()
        user = self.world.user_by("mail", mail)
        if user is None:
            return []
        return [a.to_json() for a in self.world.attempts.get((user.id, course_id), [])]

    # -- the user directory -----------------------------------------------------------------------

    def add_user(
        self,
        mail: str,
        *,
        status: str = "active",
        first_name: str = "New",
        last_name: str = "Learner",
        lang: str = "en",
    ) -> JsonObject:
        """Add a user to the directory (or restore a deleted one); return its ``UserDTO``."""
        return self.world.add_user(
            mail, status=status, first_name=first_name, last_name=last_name, lang=lang
        ).to_json()

    def set_user_status(self, mail: str, status: str) -> JsonObject:
        """Set a user's status (``active``, ``invited`` or ``deleted``); return its ``UserDTO``."""
        return self.world.set_user_status(self._user(mail).id, status).to_json()

    def delete_user(self, mail: str) -> JsonObject:
        """Soft-delete a user, as 360Learning does: still listed, status ``deleted``."""
        return self.world.delete_user(self._user(mail).id).to_json()

    def _user(self, mail: str) -> User:
        user = self.world.user_by("mail", mail)
        if user is None:
            raise ApiError(404, "userNotFound", f"No user has the mail {mail!r}.")
        return user

    def unknown_learner_error(
        self, message: str = DEFAULT_UNKNOWN_LEARNER, *, code: str | None = None
    ) -> None:
        """Set the per-item error of a statistic whose learner is unknown or deleted.

        ``message`` may hold ``{value}`` (the learner's identifier as sent), e.g.
        ``"User '{value}' not found."``; ``code``, when given, is sent as ``errorCode`` with it.
        The defaults restore the sandbox's usual ``userNotFound: …`` wording without a code.
        """
        self.world.unknown_learner_message = message
        self.world.unknown_learner_code = code

    def process_bulk(self) -> None:
        """End every unfinished bulk operation now and apply it."""
        self.world.finish_all()
