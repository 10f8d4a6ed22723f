"""``udemy360 check``: test both sides and return one verdict per item, with the fix.

Each 360Learning scope is probed with a harmless call (a read, or a write aimed at an id that
cannot exist, or a tag name that is already taken) and a 403 ``invalid_scope`` marks it missing.
``bulkOperations:read`` is checked although 360Learning's own checklist forgets it: without it the
connector cannot poll its bulk operations (research/360learning-api.md §5). A missing
``users:read`` is a warning, not a failure: the connector still runs, and the verdict says what
it costs (no learner directory, no owner language).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from udemy360.learning360 import (
    Integration,
    Learning360AuthError,
    Learning360Error,
    Learning360NotFound,
    Learning360RequestError,
    Learning360ScopeError,
    Learning360TransportError,
)
from udemy360.udemy import (
    UdemyAuthError,
    UdemyConfigError,
    UdemyError,
    UdemyResponseError,
    UdemyTransportError,
)

if TYPE_CHECKING:
    from udemy360.learning360 import Learning360Client
    from udemy360.udemy import UdemyClient

Status = Literal["pass", "fail", "warn", "skip"]

# An id no real object has: writes aimed at it are refused with a 404 when the scope is granted.
PROBE_ID: Final = "000000000000000000000000"
# A mail no user has (the .invalid TLD is reserved, RFC 2606): the users listing filtered by it
# reads nothing, but is refused with 403 invalid_scope without users:read.
PROBE_MAIL: Final = "scope-probe@udemy360.invalid"

USERS_READ_MISSING: Final = (
    "missing: statistics runs cannot read the learner directory, so a learner 360Learning does "
    "not know is recognised only from 360Learning's per-item errors, after their statistics "
    "were sent — every day, and as a failure when the error is in a form udemy360 does not "
    "know; alias rules ('udemy360 learners alias') match nobody, since they apply through the "
    "directory; and the owner's language cannot be read, so courses without a language of "
    "their own are sent in English"
)
"""What running without ``users:read`` costs (sync/statistics.py, sync/catalog.py)."""

CORE_SCOPES: Final = (
    "integrations:read",
    "integrations:write",
    "integrations:bulk",
    "bulkOperations:read",
)
TAG_SCOPES: Final = ("tags:read", "tags:write", "courses:write")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One verdict: what was checked, how it went, and what to do when it failed."""

    key: str  # stable id, e.g. "udemy.credentials", "360.scope.integrations:bulk"
    label: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every verdict of one check, in display order."""

    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings and skips do not fail a check)."""
        return all(result.status != "fail" for result in self.results)

    def get(self, key: str) -> CheckResult:
        """Return the verdict with ``key``.

        Raises:
            KeyError: no such verdict.
        """
        for result in self.results:
            if result.key == key:
                return result
        raise KeyError(key)

    def failed(self) -> tuple[CheckResult, ...]:
        """Return the failed verdicts."""
        return tuple(result for result in self.results if result.status == "fail")


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What the connection is configured to use."""

    platform_name: str
    group_id: str | None
    owner_id: str | None
    integration_id: str | None
    tags_enabled: bool = False
    missing_udemy: tuple[str, ...] = field(default=())  # settings absent, so no client was built
    missing_l360: tuple[str, ...] = field(default=())


async def check_udemy(udemy: UdemyClient) -> CheckResult:
    """Read one page of courses to prove the credentials and the account id."""
    label = "Udemy credentials and account"
    try:
        pages = udemy.iter_course_pages()
        try:
            page = await anext(pages, None)
        finally:
            await _close(pages)
        if page is None:
            return CheckResult("udemy.credentials", label, "pass", "the catalog is empty")
        return CheckResult(
            "udemy.credentials", label, "pass", f"{page.count} courses in the catalog"
        )
    except UdemyAuthError as exc:
        return CheckResult(
            "udemy.credentials",
            label,
            "fail",
            f"Udemy refused the credentials (HTTP {exc.status})",
            "check udemy.client_id and udemy.client_secret (Manage → Settings → API in Udemy "
            "Business); the REST API needs the Enterprise plan",
        )
    except UdemyConfigError as exc:
        return CheckResult("udemy.credentials", label, "fail", str(exc), "fix the setting named")
    except UdemyResponseError as exc:
        fix = "check udemy.account_name and udemy.account_id (numeric organization id)"
        return CheckResult(
            "udemy.credentials", label, "fail", f"unexpected answer (HTTP {exc.status})", fix
        )
    except UdemyTransportError as exc:
        return CheckResult(
            "udemy.credentials",
            label,
            "fail",
            f"cannot reach Udemy: {exc}",
            "check udemy.account_name, udemy.base_url and the network/proxy",
        )
    except UdemyError as exc:
        return CheckResult("udemy.credentials", label, "fail", str(exc), "retry later")


def _scope_probes(
    l360: Learning360Client, request: CheckRequest, first_tag: list[str]
) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    async def integrations_write() -> object:
        return await l360.patch_integration(PROBE_ID)

    async def integrations_bulk() -> object:
        return await l360.submit_archive(PROBE_ID, ["udemy360-scope-probe"])

    async def tags_read() -> object:
        tags = l360.iter_tags()
        try:
            tag = await anext(tags, None)
        finally:
            await _close(tags)
        if tag is not None:
            first_tag.append(tag.name)
        return None

    async def tags_write() -> object:
        if not first_tag:
            raise _NotProbed("no tag exists yet to probe with harmlessly")
        # Creating a tag whose name is taken is refused with 400 tagNameNotAvailable.
        return await l360.create_tag(first_tag[0])

    async def courses_write() -> object:
        return await l360.replace_course_tags(PROBE_ID, [])

    probes: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("integrations:read", l360.list_integrations),
        ("integrations:write", integrations_write),
        ("integrations:bulk", integrations_bulk),
        ("bulkOperations:read", lambda: l360.get_operation(PROBE_ID)),
    ]
    if request.tags_enabled:
        probes += [
            ("tags:read", tags_read),
            ("tags:write", tags_write),
            ("courses:write", courses_write),
        ]
    return probes


class _NotProbed(Exception):
    pass


async def _close(iterator: AsyncIterator[object]) -> None:
    """Close an async generator we stopped reading early (frees its HTTP response)."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


_SCOPE_USE: Final = {
    "integrations:read": "find the integration and read external courses",
    "integrations:write": "create and update the integration",
    "integrations:bulk": "upsert and archive courses and import statistics",
    "bulkOperations:read": "follow bulk operations (missing from 360Learning's checklist)",
    "tags:read": "read tags (tag sync)",
    "tags:write": "create tags (tag sync)",
    "courses:write": "attach tags to courses and restore archived courses",
    "users:read": "read the learner directory and the owner's language",
}


async def _probe_scope(scope: str, call: Callable[[], Awaitable[object]]) -> CheckResult:
    key = f"360.scope.{scope}"
    label = f"Scope {scope}"
    fix = (
        f"add {scope} to the API v2 credentials in 360Learning (Settings → API v2); it is needed "
        f"to {_SCOPE_USE[scope]}"
    )
    if scope == "integrations:bulk":
        fix += ". It is a restricted scope: ask your Customer Success Partner to enable it"
    try:
        await call()
    except Learning360ScopeError:
        return CheckResult(key, label, "fail", "missing (403 invalid_scope)", fix)
    except (Learning360NotFound, Learning360RequestError):
        pass  # the call got past the scope check: refused on its (harmless) merits
    except _NotProbed as exc:
        return CheckResult(key, label, "warn", f"not verified: {exc}")
    except Learning360Error as exc:
        return CheckResult(key, label, "warn", f"could not verify: {exc}")
    return CheckResult(key, label, "pass", "granted")


async def _users_read_verdict(l360: Learning360Client) -> CheckResult:
    """Probe ``users:read`` with the listing statistics runs read the learner directory from.

    Its absence is a warning, not a failure: the connector still works, at the cost said in
    ``USERS_READ_MISSING``.
    """
    key, label = "360.scope.users:read", "Scope users:read"
    try:
        users = l360.iter_users(mail=PROBE_MAIL)
        try:
            await anext(users, None)
        finally:
            await _close(users)
    except Learning360ScopeError:
        fix = (
            "add users:read to the API v2 credentials in 360Learning (Settings → API v2); it is "
            f"needed to {_SCOPE_USE['users:read']}"
        )
        return CheckResult(key, label, "warn", USERS_READ_MISSING, fix)
    except Learning360Error as exc:
        return CheckResult(key, label, "warn", f"could not verify: {exc}")
    return CheckResult(key, label, "pass", "granted: statistics runs read the learner directory")


async def check_learning360(l360: Learning360Client, request: CheckRequest) -> list[CheckResult]:
    """Check the 360Learning token, every needed scope, the group, the owner and the integration."""
    results: list[CheckResult] = []
    try:
        await l360.check_token()
    except Learning360AuthError as exc:
        results.append(
            CheckResult(
                "360.credentials",
                "360Learning credentials",
                "fail",
                f"token refused ({exc.code or exc.status})",
                "check learning360.client_id, learning360.client_secret and learning360.region "
                "(API v1 keys do not work with v2)",
            )
        )
        return results
    except (Learning360TransportError, Learning360Error) as exc:
        results.append(
            CheckResult(
                "360.credentials",
                "360Learning credentials",
                "fail",
                f"cannot get a token: {exc}",
                "check learning360.region / learning360.base_url and the network",
            )
        )
        return results
    results.append(CheckResult("360.credentials", "360Learning credentials", "pass", "token ok"))

    first_tag: list[str] = []
    for scope, call in _scope_probes(l360, request, first_tag):
        results.append(await _probe_scope(scope, call))

    results.append(await _users_read_verdict(l360))

    # Owner: GET /users/{id} (needs users:read, which also gives the owner's language).
    owner_key, owner_label = "360.owner", "Owner (author)"
    if not request.owner_id:
        results.append(_missing(owner_key, owner_label, "learning360.owner_id"))
    else:
        try:
            user = await l360.get_user(request.owner_id)
        except Learning360ScopeError:
            results.append(
                CheckResult(owner_key, owner_label, "warn", "not verified (needs users:read)")
            )
        except Learning360NotFound:
            results.append(
                CheckResult(
                    owner_key,
                    owner_label,
                    "fail",
                    f"no user {request.owner_id}",
                    "set learning360.owner_id to a user with editor rights in the target group",
                )
            )
        except Learning360Error as exc:
            results.append(CheckResult(owner_key, owner_label, "warn", f"could not verify: {exc}"))
        else:
            lang = f", language {user.lang}" if user.lang else ""
            results.append(
                CheckResult(owner_key, owner_label, "pass", f"{user.mail or user.id}{lang}")
            )

    integration, listing_error = await _find_integration(l360, request)
    results.append(_group_verdict(request, integration, listing_error))
    results.append(_integration_verdict(request, integration, listing_error))
    return results


async def _find_integration(
    l360: Learning360Client, request: CheckRequest
) -> tuple[Integration | None, str | None]:
    try:
        integrations = await l360.list_integrations()
    except Learning360Error as exc:
        return None, str(exc)
    if request.integration_id:
        for integration in integrations:
            if integration.id == request.integration_id:
                return integration, None
        return None, None
    for integration in integrations:
        if (
            integration.external_platform == request.platform_name
            and integration.group_id == request.group_id
        ):
            return integration, None
    return None, None


def _missing(key: str, label: str, setting: str) -> CheckResult:
    return CheckResult(key, label, "fail", f"{setting} is not set", f"set {setting}")


def _group_verdict(
    request: CheckRequest, integration: Integration | None, listing_error: str | None
) -> CheckResult:
    key, label = "360.group", "Target group"
    if not request.group_id:
        return _missing(key, label, "learning360.group_id")
    if integration is None:
        detail = "not verified: no integration yet" if listing_error is None else listing_error
        return CheckResult(
            key,
            label,
            "warn",
            detail,
            "'udemy360 setup' verifies it (an unknown group fails with groupNotFound)",
        )
    if integration.group_id != request.group_id:
        return CheckResult(
            key,
            label,
            "fail",
            f"the integration {integration.id} belongs to group {integration.group_id}, "
            f"not {request.group_id}",
            "fix learning360.group_id, or run 'udemy360 setup' to move the integration",
        )
    return CheckResult(key, label, "pass", request.group_id)


def _integration_verdict(
    request: CheckRequest, integration: Integration | None, listing_error: str | None
) -> CheckResult:
    key, label = "360.integration", "Integration"
    if listing_error is not None:
        return CheckResult(key, label, "fail", f"cannot list integrations: {listing_error}")
    if integration is None:
        if request.integration_id:
            detail = f"integration {request.integration_id} does not exist on 360Learning"
        else:
            detail = f"no integration {request.platform_name!r} in the target group"
        return CheckResult(key, label, "fail", detail, "run 'udemy360 setup' to create or adopt it")
    if not request.integration_id:
        return CheckResult(
            key,
            label,
            "fail",
            f"integration {integration.id} exists but its id is not recorded",
            "run 'udemy360 setup' to adopt it",
        )
    drift = []
    if integration.default_completion is not True:
        drift.append("defaultCompletion")
    if (integration.default_progress or 0) != 0:
        drift.append("defaultProgress")
    if integration.no_group_propagation is not False:
        drift.append("noGroupPropagation")
    if integration.author_id != request.owner_id:
        drift.append("authorId")
    if integration.external_platform != request.platform_name:
        drift.append("externalPlatform")
    if drift:
        return CheckResult(
            key,
            label,
            "warn",
            f"{integration.id}: settings differ ({', '.join(drift)})",
            "run 'udemy360 setup' to reconcile them",
        )
    return CheckResult(key, label, "pass", f"{integration.id} ({integration.external_platform})")


async def run_checks(
    udemy: UdemyClient | None, l360: Learning360Client | None, request: CheckRequest
) -> CheckReport:
    """Check both sides; a side whose settings are missing gets one failed verdict naming them."""
    results: list[CheckResult] = []
    if udemy is None:
        results.append(
            CheckResult(
                "udemy.credentials",
                "Udemy credentials and account",
                "fail",
                "not configured: " + ", ".join(request.missing_udemy),
                "set them in the config file or the environment (see 'udemy360 init')",
            )
        )
    else:
        results.append(await check_udemy(udemy))
    if l360 is None:
        results.append(
            CheckResult(
                "360.credentials",
                "360Learning credentials",
                "fail",
                "not configured: " + ", ".join(request.missing_l360),
                "set them in the config file or the environment (see 'udemy360 init')",
            )
        )
    else:
        results.extend(await check_learning360(l360, request))
    return CheckReport(tuple(results))
