"""SETUP INTEGRATION: create or adopt the 360Learning integration of one connection.

The spec's set-up button, made idempotent: an integration with the same platform name in the
target group (or the one whose id we already recorded) is adopted and its settings reconciled
with ``PATCH``; otherwise one is created. The launch behaviour follows the spec: a course started
from 360Learning is completed at 0% at once (``defaultCompletion: true``, ``defaultProgress: 0``)
so the next step of a path opens, and learners of public subgroups see the content
(``noGroupPropagation: false``) — DESIGN.md "Integration (set-up)".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from udemy360.learning360 import (
    Integration,
    IntegrationPatch,
    IntegrationSettings,
    Learning360Error,
    Learning360NotFound,
    Learning360RequestError,
    Learning360ScopeError,
)

if TYPE_CHECKING:
    from udemy360.learning360 import Learning360Client
    from udemy360.store import Store

DEFAULT_COMPLETION: Final = True
DEFAULT_PROGRESS: Final = 0
NO_GROUP_PROPAGATION: Final = False


class SetupError(Exception):
    """Set-up could not complete; ``setting`` names what to change, ``message`` how."""

    def __init__(self, message: str, *, code: str | None = None, setting: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.setting = setting


@dataclass(frozen=True, slots=True)
class SetupRequest:
    """What set-up needs to know about the connection."""

    connection_id: str
    udemy_account: str
    platform_name: str
    group_id: str
    owner_id: str
    integration_id: str | None = None  # from the config or the store, when known


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What set-up did."""

    integration_id: str
    action: Literal["created", "adopted", "unchanged"]
    changes: tuple[str, ...]  # the fields reconciled with PATCH, e.g. ("defaultCompletion",)
    reactivated: bool  # the connection had been deactivated


def _wanted(request: SetupRequest) -> dict[str, object]:
    return {
        "external_platform": request.platform_name,
        "group_id": request.group_id,
        "author_id": request.owner_id,
        "default_completion": DEFAULT_COMPLETION,
        "default_progress": DEFAULT_PROGRESS,
        "no_group_propagation": NO_GROUP_PROPAGATION,
    }


_WIRE_NAMES: Final = {
    "external_platform": "externalPlatform",
    "group_id": "groupId",
    "author_id": "authorId",
    "default_completion": "defaultCompletion",
    "default_progress": "defaultProgress",
    "no_group_propagation": "noGroupPropagation",
}


def differences(integration: Integration, request: SetupRequest) -> dict[str, object]:
    """Return the settings of ``integration`` that differ from what set-up wants."""
    return {
        name: value
        for name, value in _wanted(request).items()
        if getattr(integration, name) != value
    }


def _translate(exc: Learning360Error, request: SetupRequest) -> SetupError:
    code = exc.code
    if code == "reservedPlatformName":
        return SetupError(
            f"360Learning reserves the platform name {request.platform_name!r} (probably for its "
            "own connector). Pick another name, e.g. 'Udemy Business' or 'Udemy (Acme)', with the "
            "learning360.platform_name setting (or UDEMY360_LEARNING360__PLATFORM_NAME) and run "
            "'udemy360 setup' again.",
            code=code,
            setting="learning360.platform_name",
        )
    if code == "duplicateExternalPlatform":
        return SetupError(
            f"another integration in group {request.group_id} already uses the platform name "
            f"{request.platform_name!r}. Set learning360.integration_id to its id to adopt it, "
            "or choose another learning360.platform_name.",
            code=code,
            setting="learning360.platform_name",
        )
    if code == "groupNotFound":
        return SetupError(
            f"360Learning has no group {request.group_id}: check learning360.group_id "
            "(the id in the group's page URL).",
            code=code,
            setting="learning360.group_id",
        )
    if code == "userNotFound":
        return SetupError(
            f"360Learning has no user {request.owner_id}: check learning360.owner_id "
            "(a user with editor rights in the target group).",
            code=code,
            setting="learning360.owner_id",
        )
    if code == "integrationsLimitReached":
        return SetupError(
            "the platform has reached its maximum number of integrations: delete an unused one "
            "in 360Learning or ask your Customer Success Partner.",
            code=code,
        )
    if isinstance(exc, Learning360ScopeError):
        scope = exc.scope or "integrations:read/integrations:write"
        return SetupError(
            f"the 360Learning API credentials lack the scope {scope}: add it to the credentials "
            "(Settings → API v2) and run 'udemy360 check'.",
            code=code,
        )
    return SetupError(f"360Learning refused the set-up: {exc}", code=code)


async def _locate(l360: Learning360Client, request: SetupRequest) -> Integration | None:
    if request.integration_id:
        # The recorded id wins, so renaming platform_name renames the integration.
        for integration in await l360.list_integrations():
            if integration.id == request.integration_id:
                return integration
    return await l360.find_integration(request.platform_name, request.group_id)


async def ensure_integration(
    l360: Learning360Client, request: SetupRequest, *, dry_run: bool = False
) -> SetupResult:
    """Create or adopt-and-reconcile the integration on 360Learning (no store access).

    With ``dry_run`` nothing is written: the result says what set-up would do (an integration
    that would be created has an empty id).

    Raises:
        SetupError: 360Learning refused (reserved name, unknown group or owner, missing scope).
    """
    try:
        found = await _locate(l360, request)
        if found is None:
            if dry_run:
                return SetupResult("", "created", (), reactivated=False)
            created = await l360.create_integration(
                IntegrationSettings.model_validate(_wanted(request))
            )
            return SetupResult(created.id, "created", (), reactivated=False)
        changes = differences(found, request)
        if not changes:
            return SetupResult(found.id, "unchanged", (), reactivated=False)
        if not dry_run:
            await l360.patch_integration(found.id, IntegrationPatch.model_validate(changes))
        wire = tuple(_WIRE_NAMES[name] for name in changes)
        return SetupResult(found.id, "adopted", wire, reactivated=False)
    except (Learning360RequestError, Learning360NotFound, Learning360ScopeError) as exc:
        raise _translate(exc, request) from exc


async def setup_integration(
    l360: Learning360Client, store: Store, request: SetupRequest
) -> SetupResult:
    """Run set-up and record the integration id on the connection, re-activating it.

    The caller also writes the id back to the configuration file.

    Raises:
        SetupError: 360Learning refused the set-up; nothing was recorded.
    """
    result = await ensure_integration(l360, request)
    connection = store.connections.ensure(
        request.connection_id, udemy_account=request.udemy_account, group_id=request.group_id
    )
    store.connections.set_integration(request.connection_id, result.integration_id)
    reactivated = not connection.active
    if reactivated:
        store.connections.set_active(request.connection_id, True)
    return SetupResult(result.integration_id, result.action, result.changes, reactivated)


async def delete_integration(
    l360: Learning360Client, store: Store, connection_id: str
) -> str | None:
    """Delete the connection's integration on 360Learning (which archives its content).

    Returns the deleted id, or None when no integration was recorded. A 404 counts as deleted.
    """
    connection = store.connections.get(connection_id)
    integration_id = connection.integration_id if connection is not None else None
    if not integration_id:
        return None
    with contextlib.suppress(Learning360NotFound):
        await l360.delete_integration(integration_id)
    store.connections.set_integration(connection_id, None)
    return integration_id
