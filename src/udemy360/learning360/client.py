"""Async client for the 360Learning API v2 calls the connector makes.

It knows HTTP, OAuth2, headers, Link pagination, the company-wide throttles and bulk operations —
nothing about syncing. Every HTTP attempt goes through one path (``_send``): rate limiter, retry
policy, error translation, call counting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Hashable, Mapping, Sequence
from typing import Final, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from udemy360 import __version__
from udemy360._http import (
    DEFAULT_DEADLINE,
    ApiClient,
    Clock,
    RateLimiter,
    Redactor,
    RetryableError,
    RetryPolicy,
    Sleep,
    call_with_retries,
    parse_retry_after,
    safe_url,
)
from udemy360.learning360.auth import (
    API_VERSION,
    TOKEN_ENDPOINT,
    ClientCredentialsAuth,
    error_code,
)
from udemy360.learning360.bulk import (
    MAX_BULK_SLOTS,
    BulkItemResult,
    BulkOperation,
    BulkResults,
    BulkSlots,
    item_key,
    operation_id_from_location,
    pair_results,
)
from udemy360.learning360.errors import (
    BulkConcurrencyLimitReached,
    BulkOperationFailed,
    BulkOperationTimeout,
    Learning360AuthError,
    Learning360NotFound,
    Learning360RateLimited,
    Learning360RequestError,
    Learning360ResponseError,
    Learning360ScopeError,
    Learning360ServerError,
    Learning360TransportError,
)
from udemy360.learning360.keys import StatisticKey
from udemy360.learning360.models import (
    ArchiveCourseBody,
    ArchiveExternalCourse,
    ArchiveExternalCoursesBody,
    BulkOperationBody,
    BulkResultBody,
    CourseTag,
    CreateTagBody,
    ExternalCourse,
    ExternalCourseInfo,
    ExternalStatistic,
    ImportExternalCoursesBody,
    ImportExternalStatisticsBody,
    Integration,
    IntegrationPatch,
    IntegrationSettings,
    Learning360Credentials,
    Tag,
    UpdateCourseTagsBody,
    User,
    UserStatus,
    _Outbound,
)
from udemy360.learning360.results import (
    BulkOutcome,
    pair_course_results,
    pair_statistic_results,
)

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)
_K = TypeVar("_K", bound=Hashable)

# Company-wide limits — research/360learning-api.md §6, §10.5.
MAX_WRITES_PER_SECOND: Final = 10.0
MAX_READS_PER_SECOND: Final = 50.0
MAX_UPSERT_ITEMS: Final = 10_000
MAX_STATISTICS_ITEMS: Final = 10_000
MAX_ARCHIVE_ITEMS: Final = 1_000
MAX_COURSE_TAGS: Final = 100
# Our spacing runs 2% under the nominal rate: 360Learning's one-second windows are measured on
# its clock, not ours, and float steps of exactly 1/rate can land 11 calls in one window.
_RATE_MARGIN: Final = 0.98
# Other tools of the same company may hold every bulk slot: back off long and at random.
_FOREIGN_SLOT_BACKOFF: Final = (15.0, 60.0)
# Polling a bulk operation costs one GET; at most 3 of ours run at once, so even a 1 s cap uses
# a few percent of the 50 GET/s budget, and a finished operation is noticed within a second
# instead of up to 10 (measured in bench/: slow polling dominated small catalog runs).
_POLL_GROWTH: Final = 1.5

_INTEGRATIONS: Final = "/api/v2/integrations"
_INTEGRATION: Final = "/api/v2/integrations/{integrationId}"
_EXTERNAL_COURSE: Final = "/api/v2/integrations/{integrationId}/courses/{externalId}"
_BULK_COURSES: Final = "/api/v2/bulk/integrations/{integrationId}/courses"
_BULK_STATS: Final = "/api/v2/bulk/integrations/{integrationId}/stats"
_OPERATIONS: Final = "/api/v2/bulk/operations"
_OPERATION: Final = "/api/v2/bulk/operations/{bulkOperationId}"
_OPERATION_RESULTS: Final = "/api/v2/bulk/operations/{bulkOperationId}/results"
_TAGS: Final = "/api/v2/tags"
_COURSE_TAGS: Final = "/api/v2/courses/{courseId}/tags"
_COURSE_ARCHIVE: Final = "/api/v2/courses/{courseId}/archive"
_USERS: Final = "/api/v2/users"
_USER: Final = "/api/v2/users/{userId}"

# The OAuth scope each call needs, for a 403 message a human can act on —
# research/360learning-api.md §5 (users:read is inferred there).
REQUIRED_SCOPES: Final[Mapping[str, str]] = {
    f"GET {_INTEGRATIONS}": "integrations:read",
    f"POST {_INTEGRATIONS}": "integrations:write",
    f"PATCH {_INTEGRATION}": "integrations:write",
    f"DELETE {_INTEGRATION}": "integrations:write",
    f"GET {_EXTERNAL_COURSE}": "integrations:read",
    f"PUT {_BULK_COURSES}": "integrations:bulk",
    f"DELETE {_BULK_COURSES}": "integrations:bulk",
    f"POST {_BULK_STATS}": "integrations:bulk",
    f"GET {_OPERATIONS}": "bulkOperations:read",
    f"GET {_OPERATION}": "bulkOperations:read",
    f"GET {_OPERATION_RESULTS}": "bulkOperations:read",
    f"GET {_TAGS}": "tags:read",
    f"POST {_TAGS}": "tags:write",
    f"GET {_COURSE_TAGS}": "tags:read",
    f"PUT {_COURSE_TAGS}": "courses:write",
    f"PUT {_COURSE_ARCHIVE}": "courses:write",
    f"GET {_USERS}": "users:read",
    f"GET {_USER}": "users:read",
}

_RESERVED_NAME_HELP: Final = (
    "360Learning reserves this externalPlatform name (its own connectors use some names, and "
    "the list is not published); choose another platform name in the connection settings, for "
    "example '<Your company> Udemy Business', and run the set-up again"
)


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class _ErrorFields(TypedDict):
    """What every error built from a response carries."""

    status: int
    code: str | None
    url: str
    body_excerpt: str


class Learning360Client(ApiClient):
    """One company's 360Learning API v2, used as ``async with Learning360Client(creds) as lms``.

    All calls of one client share a write limiter (≤ 10/s), a read limiter (≤ 50/s) and at most
    ``max_bulk_in_flight`` of the company's 3 bulk-operation slots.
    """

    def __init__(
        self,
        creds: Learning360Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        writes_per_second: float = MAX_WRITES_PER_SECOND,
        reads_per_second: float = MAX_READS_PER_SECOND,
        max_bulk_in_flight: int = 2,
        poll_interval: float = 0.25,
        poll_max_interval: float = 1.0,
        bulk_timeout: float = 3600.0,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        timeout: float = 60.0,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        if not 0 < writes_per_second <= MAX_WRITES_PER_SECOND:
            raise ValueError(f"writes_per_second must be in (0, {MAX_WRITES_PER_SECOND}]")
        if not 0 < reads_per_second <= MAX_READS_PER_SECOND:
            raise ValueError(f"reads_per_second must be in (0, {MAX_READS_PER_SECOND}]")
        if not 1 <= max_bulk_in_flight <= MAX_BULK_SLOTS:
            raise ValueError(f"max_bulk_in_flight must be between 1 and {MAX_BULK_SLOTS}")
        self._sleep: Sleep = sleep or _real_sleep
        # 429 tooManyRequests carries no Retry-After; the docs say "wait ~1 second", so the first
        # wait is 1–2 s and grows with jitter — research/360learning-api.md §6.
        policy = retry or RetryPolicy(base_delay=2.0, max_delay=30.0, sleep=self._sleep)
        self._poll_interval = poll_interval
        self._poll_max_interval = poll_max_interval
        self._bulk_timeout = bulk_timeout
        self._redact = Redactor([creds.client_secret.get_secret_value()])
        self._auth = ClientCredentialsAuth(creds, clock=clock, redactor=self._redact)
        self._writes = RateLimiter(writes_per_second * _RATE_MARGIN, clock=clock, sleep=self._sleep)
        self._reads = RateLimiter(reads_per_second * _RATE_MARGIN, clock=clock, sleep=self._sleep)
        self._slots = BulkSlots(max_bulk_in_flight)
        self._sent_keys: dict[str, list[str | None]] = {}
        self.base_url = creds.api_base_url
        super().__init__(
            base_url=self.base_url,
            transport=transport,
            retry=policy,
            timeout=timeout,
            deadline=deadline,
            auth=self._auth,
            headers={
                "360-api-version": API_VERSION,
                "accept": "application/json",
                "user-agent": f"udemy360/{__version__}",
            },
        )

    def __repr__(self) -> str:
        return f"Learning360Client(base_url={self.base_url!r})"

    @property
    def bulk_in_flight(self) -> frozenset[str]:
        """Ids of our bulk operations not yet seen finished."""
        return frozenset(self._slots.operations)

    # --- the one request path ----------------------------------------------------------------

    async def _send(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        url: str | None = None,
        params: Mapping[str, str] | None = None,
        body: _Outbound | None = None,
        idempotent: bool = True,
        ok: frozenset[int] = frozenset({200}),
    ) -> httpx.Response:
        endpoint = f"{method} {template}"
        target = url or template.format(**{k: quote(v, safe="") for k, v in (path or {}).items()})
        content = body.to_json_bytes() if body is not None else None
        limiter = self._reads if method == "GET" else self._writes

        async def attempt() -> httpx.Response:
            await limiter.acquire()
            response = await self._attempt(
                method, target, endpoint, params, content, idempotent=idempotent
            )
            if response.status_code not in ok:
                raise Learning360ResponseError(
                    f"{endpoint} answered {response.status_code}, expected {sorted(ok)}",
                    status=response.status_code,
                    url=safe_url(response.request.url),
                    body_excerpt=self._redact(response.text),
                )
            return response

        return await call_with_retries(self._retry, attempt, what=endpoint)

    async def _attempt(
        self,
        method: str,
        target: str,
        endpoint: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
        *,
        idempotent: bool,
    ) -> httpx.Response:
        headers = {"content-type": "application/json"} if content is not None else None
        request = self._request(
            method, target, endpoint=endpoint, params=params, content=content, headers=headers
        )

        def unreachable(reason: str) -> Exception:
            final = Learning360TransportError(
                f"{endpoint} failed: {reason}", url=safe_url(request.url)
            )
            return RetryableError(reason, final=final) if idempotent else final

        response = await self._send_once(request, unreachable=unreachable)
        logger.debug("%s -> %d", safe_url(request.url), response.status_code)
        if response.is_success:
            return response
        raise self._error(response, endpoint, idempotent=idempotent)

    def _error(self, response: httpx.Response, endpoint: str, *, idempotent: bool) -> Exception:
        """Sort a failed response into a retry request or one of our errors."""
        status = response.status_code
        code, message = error_code(response.content)
        detail = message or code or "no details given"
        fields = _ErrorFields(
            status=status,
            code=code,
            url=safe_url(response.request.url),
            body_excerpt=self._redact(response.text),
        )

        if status == 429 and code == "bulkOperationsConcurrencyLimitReached":
            # Handled by the bulk submit path, which waits for a slot instead of hammering.
            return BulkConcurrencyLimitReached(
                f"{endpoint}: all bulk-operation slots of the company are busy",
                **fields,
            )
        if status == 429:
            # A throttled request was not processed, so even a non-idempotent one may be re-sent.
            return RetryableError(
                f"429 {code or 'tooManyRequests'}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                final=Learning360RateLimited(
                    f"{endpoint}: 360Learning kept throttling (429) until the retry budget was "
                    "spent; lower the request rates or run later",
                    **fields,
                ),
            )
        if status >= 500:
            final = Learning360ServerError(
                f"{endpoint}: 360Learning answered {status} ({detail})",
                **fields,
            )
            if idempotent:  # includes 503 bulkAPIDisabled: "temporarily disabled"
                return RetryableError(
                    f"{status} {code or ''}".strip(),
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    final=final,
                )
            return final
        if status == 401:
            return Learning360AuthError(
                f"{endpoint}: 360Learning refused the access token even after renewing it "
                f"({detail})",
                **fields,
            )
        if status == 403:
            scope = REQUIRED_SCOPES.get(endpoint)
            need = f"the OAuth scope {scope!r}" if scope else "an OAuth scope they lack"
            return Learning360ScopeError(
                f"{endpoint} needs {need}; add it to the API credentials (360Learning: "
                "Settings → API v2) — restricted scopes such as integrations:bulk are granted by "
                "your Customer Success Partner",
                scope=scope,
                **fields,
            )
        if status == 404:
            return Learning360NotFound(f"{endpoint}: {detail}", **fields)
        if code == "reservedPlatformName":
            return Learning360RequestError(_RESERVED_NAME_HELP, **fields)
        if code == "duplicateExternalPlatform":
            return Learning360RequestError(
                "an integration with this externalPlatform name already exists in the target "
                "group; adopt it (find_integration) or choose another platform name",
                **fields,
            )
        return Learning360RequestError(
            f"{endpoint}: 360Learning rejected the request ({detail})",
            **fields,
        )

    def _parse(self, model: type[_M], response: httpx.Response) -> _M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._bad_body(response, exc) from exc

    def _json_list(self, response: httpx.Response) -> list[object]:
        try:
            data = response.json()
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise self._bad_body(response, exc) from exc
        if not isinstance(data, list):
            raise self._bad_body(response, TypeError("expected a JSON array"))
        return data

    def _bad_body(self, response: httpx.Response, exc: Exception) -> Learning360ResponseError:
        return Learning360ResponseError(
            f"unexpected response body ({type(exc).__name__})",
            status=response.status_code,
            url=safe_url(response.request.url),
            body_excerpt=self._redact(response.text),
        )

    def _items(self, model: type[_M], page: list[object], response: httpx.Response) -> list[_M]:
        try:
            return [model.model_validate(item) for item in page]
        except ValidationError as exc:
            raise self._bad_body(response, exc) from exc

    async def _pages(
        self,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[tuple[list[object], httpx.Response]]:
        """Yield each page of a listing, following ``Link: <…>; rel="next"`` as given."""
        url: str | None = None
        seen: set[str] = set()
        origin = httpx.URL(self.base_url)
        while True:
            response = await self._send(
                "GET", template, path=path, url=url, params=None if url else params
            )
            yield self._json_list(response), response
            # research/360learning-api.md §7: follow the cursor URL without re-encoding it
            link = response.links.get("next", {}).get("url")
            if not link:
                return
            nxt = response.url.join(link)
            if (nxt.scheme, nxt.host, nxt.port) != (origin.scheme, origin.host, origin.port):
                raise Learning360ResponseError(
                    "a pagination link points to another host; not sending the token there",
                    url=safe_url(nxt),
                )
            if str(nxt) in seen:
                raise Learning360ResponseError("pagination loop", url=safe_url(nxt))
            seen.add(str(nxt))
            url = str(nxt)

    # --- auth --------------------------------------------------------------------------------

    async def check_token(self) -> None:
        """Request a new access token now (to check the credentials).

        Raises:
            Learning360AuthError: the credentials were refused.
            Learning360TransportError, Learning360ServerError: the platform could not be reached.
        """

        async def attempt() -> None:
            request = self._auth.token_request(self._http.build_request("GET", "/"))

            def unreachable(reason: str) -> Exception:
                final = Learning360TransportError(
                    f"{TOKEN_ENDPOINT} failed: {reason}", url=safe_url(request.url)
                )
                return RetryableError(reason, final=final)

            self._auth.store(
                await self._send_once(request, unreachable=unreachable, with_auth=False)
            )

        await call_with_retries(self._retry, attempt, what=TOKEN_ENDPOINT)

    # --- bulk operations ---------------------------------------------------------------------

    async def submit_courses(
        self, integration_id: str, courses: Sequence[ExternalCourse]
    ) -> BulkOperation:
        """Submit an upsert of up to 10,000 external courses; returns once 360Learning accepts it.

        Idempotent (keyed by ``externalId``, full replacement), so it is retried on 5xx.

        Raises:
            ValueError: empty chunk or more than 10,000 courses (nothing is sent).
            BulkConcurrencyLimitReached: no bulk slot freed up within ``bulk_timeout``.
            Learning360Error: any other failure of the submit call.
        """
        _check_chunk(courses, MAX_UPSERT_ITEMS, "courses")
        body = ImportExternalCoursesBody(input=list(courses))
        keys: list[str | None] = [course.external_id for course in courses]
        return await self._submit(
            "PUT", _BULK_COURSES, integration_id, body, keys, "importExternalCourses"
        )

    async def submit_archive(
        self, integration_id: str, external_ids: Sequence[str]
    ) -> BulkOperation:
        """Submit the archiving of up to 1,000 external courses (idempotent).

        Raises:
            ValueError: empty chunk or more than 1,000 ids (nothing is sent).
            BulkConcurrencyLimitReached, Learning360Error: as for ``submit_courses``.
        """
        _check_chunk(external_ids, MAX_ARCHIVE_ITEMS, "external ids")
        body = ArchiveExternalCoursesBody(
            input=[ArchiveExternalCourse(external_id=eid) for eid in external_ids]
        )
        keys: list[str | None] = list(external_ids)
        return await self._submit(
            "DELETE", _BULK_COURSES, integration_id, body, keys, "archiveExternalCourses"
        )

    async def submit_statistics(
        self, integration_id: str, stats: Sequence[ExternalStatistic]
    ) -> BulkOperation:
        """Submit up to 10,000 learner statistics.

        Retried on 5xx: re-sending is idempotent as long as each row keeps its ``firstActivityAt``
        and ``forceNew`` is never sent (research/360learning-api.md §15.2).

        Raises:
            ValueError: empty chunk or more than 10,000 rows (nothing is sent).
            BulkConcurrencyLimitReached, Learning360Error: as for ``submit_courses``.
        """
        _check_chunk(stats, MAX_STATISTICS_ITEMS, "statistics")
        body = ImportExternalStatisticsBody(input=list(stats))
        # the wire form of ``item_key`` without serialising each statistic once more
        keys: list[str | None] = [
            f"{s.course_identifier.type}:{s.course_identifier.value}|"
            f"{s.user_identifier.type}:{s.user_identifier.value}"
            for s in stats
        ]
        return await self._submit(
            "POST", _BULK_STATS, integration_id, body, keys, "importExternalStatistics"
        )

    async def _submit(
        self,
        method: str,
        template: str,
        integration_id: str,
        body: _Outbound,
        keys: list[str | None],
        op_type: str,
    ) -> BulkOperation:
        await self._reserve_slot()
        op_id: str | None = None
        try:
            waited, attempt = 0.0, 0
            while True:
                try:
                    response = await self._send(
                        method,
                        template,
                        path={"integrationId": integration_id},
                        body=body,
                        ok=frozenset({202}),
                    )
                    break
                except BulkConcurrencyLimitReached:
                    attempt += 1
                    if waited >= self._bulk_timeout:
                        raise
                    waited += await self._wait_for_capacity(attempt)
            location = response.headers.get("location")
            try:
                op_id = operation_id_from_location(location or "")
            except ValueError as exc:
                raise Learning360ResponseError(
                    "the bulk submit answered 202 without a usable Location header",
                    status=response.status_code,
                    url=safe_url(response.request.url),
                ) from exc
        finally:
            await self._slots.settle(op_id)
        self._sent_keys[op_id] = keys
        logger.info("bulk operation submitted: id=%s type=%s items=%d", op_id, op_type, len(keys))
        return BulkOperation(id=op_id, type=op_type, status="pending")

    async def _reserve_slot(self) -> None:
        """Wait until one of our bulk slots is free; poll our idle operations meanwhile."""
        interval = self._poll_interval
        while True:
            async with self._slots.changed:
                if self._slots.try_reserve():
                    return
                idle = self._slots.unwatched()
                if not idle:
                    # every slot is a submit in flight or an operation someone is waiting for
                    await self._slots.changed.wait()
                    continue
            finished = [op for op in idle if (await self.get_operation(op)).finished]
            if not finished:
                await self._sleep(interval)
                interval = min(interval * _POLL_GROWTH, self._poll_max_interval)

    async def _wait_for_capacity(self, attempt: int) -> float:
        """Wait after a ``bulkOperationsConcurrencyLimitReached``; returns the seconds slept."""
        ours = set(self._slots.operations)
        if ours:
            # One of ours holds a company slot: wait for it to end rather than guess.
            for op in self._slots.unwatched():
                if (await self.get_operation(op)).finished:
                    return 0.0
            pause = min(self._poll_interval * 2.0 ** (attempt - 1), self._poll_max_interval)
        else:
            # None of ours is running: other tools of the customer use the slots.
            low, high = _FOREIGN_SLOT_BACKOFF
            pause = float(self._retry.rng.uniform(low, high))
        logger.warning(
            "bulk slots of the company are busy: attempt=%d ours=%d wait=%.1fs",
            attempt,
            len(ours),
            pause,
        )
        await self._sleep(pause)
        return pause

    async def get_operation(self, operation_id: str) -> BulkOperation:
        """Fetch a bulk operation's state; a finished one gives back our slot.

        Raises:
            Learning360NotFound: unknown operation id.
            Learning360Error: any other failure.
        """
        response = await self._send("GET", _OPERATION, path={"bulkOperationId": operation_id})
        body = self._parse(BulkOperationBody, response)
        op = BulkOperation(
            id=body.id, type=body.type, status=body.status, error_message=body.error_message
        )
        if op.finished:
            await self._slots.release(operation_id)
        return op

    async def release_operation(self, operation_id: str) -> None:
        """Stop counting an operation against our slots (e.g. after giving up waiting for it)."""
        await self._slots.release(operation_id)

    async def wait_for_operation(self, operation_id: str) -> BulkOperation:
        """Poll with backoff until the operation ends; returns it ``completed``.

        Raises:
            BulkOperationFailed: it ended with status ``error`` (carries ``error_message``).
            BulkOperationTimeout: still running after ``bulk_timeout`` seconds of waiting; our
                slot stays held (call ``release_operation`` to give it up).
            Learning360Error: polling failed.
        """
        self._slots.watched[operation_id] = self._slots.watched.get(operation_id, 0) + 1
        try:
            interval, waited = self._poll_interval, 0.0
            while True:
                op = await self.get_operation(operation_id)
                if op.status == "completed":
                    return op
                if op.status == "error":
                    raise BulkOperationFailed(op.id, op.error_message, operation_type=op.type)
                if waited >= self._bulk_timeout:
                    raise BulkOperationTimeout(op.id, op.status, waited)
                await self._sleep(interval)
                waited += interval
                interval = min(interval * _POLL_GROWTH, self._poll_max_interval)
        finally:
            async with self._slots.changed:
                self._slots.watched[operation_id] -= 1
                if not self._slots.watched[operation_id]:
                    del self._slots.watched[operation_id]
                self._slots.changed.notify_all()

    async def get_operation_results(self, operation_id: str) -> list[BulkItemResult]:
        """Fetch per-item results in input order, each checked against what we sent.

        Raises:
            Learning360RequestError: the operation has not run yet (``bulkOperationNotRun``).
            Learning360Error: any other failure.
        """
        return list((await self.get_results(operation_id)).items)

    async def get_results(
        self, operation_id: str, sent_keys: Sequence[str | None] | None = None
    ) -> BulkResults:
        """Fetch results and pair them with the submitted items by position and by key.

        ``sent_keys`` defaults to the keys this client remembered at submit; pass them (e.g. from
        the store) when resuming an operation submitted by an earlier run.

        Raises:
            Learning360RequestError: the operation has not run yet (``bulkOperationNotRun``).
            Learning360Error: any other failure.
        """
        response = await self._send(
            "GET", _OPERATION_RESULTS, path={"bulkOperationId": operation_id}
        )
        raw = self._items(BulkResultBody, self._json_list(response), response)
        results = [
            BulkItemResult(
                index=index,
                input=item.input,
                ok=item.status == "success",
                resource_id=item.resource_id,
                error_message=item.error_message,
                key=item_key(item.input),
            )
            for index, item in enumerate(raw)
        ]
        # Forget the keys once the results are in: a daily run submits up to a million
        # statistics, and keeping every operation's keys would grow with the run.
        remembered = self._sent_keys.pop(operation_id, None)
        keys = list(sent_keys) if sent_keys is not None else remembered
        paired = pair_results(operation_id, results, keys)
        if paired.mismatches or not paired.complete:
            logger.warning(
                "bulk results do not line up with the submitted items: id=%s mismatches=%d "
                "results=%d expected=%s",
                operation_id,
                len(paired.mismatches),
                len(paired.items),
                paired.expected_count,
            )
        return paired

    async def get_course_results(self, operation_id: str, sent: Sequence[str]) -> BulkOutcome[str]:
        """Fetch the results of a course upsert or archive, one per ``externalId`` sent.

        ``sent`` is the chunk's ``externalId``s in the order they were submitted (from the store
        when resuming). Results that cannot be paired are in ``unpaired``; the items they leave
        without a result fail with ``ItemErrorKind.NO_RESULT``.

        Raises:
            Learning360RequestError: the operation has not run yet (``bulkOperationNotRun``).
            Learning360ResponseError: the results are not a JSON array.
            Learning360Error: any other failure.
        """
        raw = await self._raw_results(operation_id)
        return self._checked(pair_course_results(operation_id, sent, raw))

    async def get_statistic_results(
        self, operation_id: str, sent: Sequence[StatisticKey]
    ) -> BulkOutcome[StatisticKey]:
        """Fetch the results of a statistics import, one per key sent (see ``statistic_key``).

        Raises:
            Learning360RequestError: the operation has not run yet (``bulkOperationNotRun``).
            Learning360ResponseError: the results are not a JSON array.
            Learning360Error: any other failure.
        """
        raw = await self._raw_results(operation_id)
        return self._checked(pair_statistic_results(operation_id, sent, raw))

    async def _raw_results(self, operation_id: str) -> list[object]:
        response = await self._send(
            "GET", _OPERATION_RESULTS, path={"bulkOperationId": operation_id}
        )
        # the caller passes the keys; the ones kept at submit are for get_results only
        self._sent_keys.pop(operation_id, None)
        return self._json_list(response)

    def _checked(self, outcome: BulkOutcome[_K]) -> BulkOutcome[_K]:
        if not outcome.complete:
            logger.warning(
                "bulk results do not line up with the submitted items: id=%s unpaired=%d "
                "results=%d sent=%d",
                outcome.operation_id,
                len(outcome.unpaired),
                outcome.result_count,
                len(outcome.items),
            )
        return outcome

    async def list_operations(
        self, *, status: str | None = None, type: str | None = None
    ) -> AsyncIterator[BulkOperation]:
        """Yield the company's bulk operations (all tools), newest pages first as listed.

        Raises:
            Learning360Error: a page could not be fetched.
        """
        params = {
            k: v for k, v in {"status[eq]": status, "type[eq]": type}.items() if v is not None
        }
        async for page, response in self._pages(_OPERATIONS, params=params):
            for body in self._items(BulkOperationBody, page, response):
                yield BulkOperation(body.id, body.type, body.status, body.error_message)

    # --- integrations ------------------------------------------------------------------------

    async def create_integration(self, settings: IntegrationSettings) -> Integration:
        """Create the integration configuration (once per platform and group).

        Not blindly retried: a 5xx or a lost connection may hide a success, so the client first
        looks for the integration by listing, and only re-creates it when it is absent.

        Raises:
            Learning360RequestError: e.g. ``reservedPlatformName`` (message says how to pick
                another name), ``duplicateExternalPlatform``, ``integrationsLimitReached``.
            Learning360NotFound: ``groupNotFound`` / ``userNotFound`` (author).
            Learning360Error: any other failure.
        """
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                response = await self._send(
                    "POST", _INTEGRATIONS, body=settings, idempotent=False, ok=frozenset({200, 201})
                )
                return self._parse(Integration, response)
            except (Learning360ServerError, Learning360TransportError):
                found = await self.find_integration(settings.external_platform, settings.group_id)
                if found is not None:
                    return found
                if attempt == self._retry.max_attempts:
                    raise
                await self._sleep(self._retry.backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def list_integrations(self, *, external_platform: str | None = None) -> list[Integration]:
        """List integration configurations (all pages), optionally for one platform name.

        Raises:
            Learning360Error: a page could not be fetched.
        """
        params = {"externalPlatform[eq]": external_platform} if external_platform else None
        found: list[Integration] = []
        async for page, response in self._pages(_INTEGRATIONS, params=params):
            found.extend(self._items(Integration, page, response))
        return found

    async def find_integration(self, external_platform: str, group_id: str) -> Integration | None:
        """Return our integration (same platform name, same group), or None.

        Raises:
            Learning360Error: the listing failed.
        """
        for integration in await self.list_integrations(external_platform=external_platform):
            if (
                integration.external_platform == external_platform
                and integration.group_id == group_id
            ):
                return integration
        return None

    async def patch_integration(
        self, integration_id: str, patch: IntegrationPatch | None = None, **changes: object
    ) -> Integration:
        """Change some settings of an integration (idempotent); pass a patch or keyword changes.

        Raises:
            Learning360NotFound: ``integrationNotFound`` (and group/author not found).
            Learning360RequestError: e.g. ``duplicateExternalPlatform``, ``reservedPlatformName``.
            Learning360Error: any other failure.
        """
        body = patch or IntegrationPatch.model_validate(changes)
        response = await self._send(
            "PATCH", _INTEGRATION, path={"integrationId": integration_id}, body=body
        )
        return self._parse(Integration, response)

    async def delete_integration(self, integration_id: str) -> None:
        """Delete an integration; 360Learning archives all of its courses.

        Not retried on 5xx (a retry of a delete that went through would answer 404).

        Raises:
            Learning360NotFound: ``integrationNotFound``.
            Learning360Error: any other failure.
        """
        await self._send(
            "DELETE",
            _INTEGRATION,
            path={"integrationId": integration_id},
            idempotent=False,
            ok=frozenset({200, 204}),
        )

    async def get_external_course(
        self, integration_id: str, external_id: str
    ) -> ExternalCourseInfo | None:
        """Return an external course (with its 360Learning ``course_id``), or None if unknown.

        An unknown ``externalId`` answers 400 ``courseNotBelongToIntegration``
        (research/360learning-api.md §12.1); that and a course-level 404 give None.

        Raises:
            Learning360NotFound: ``integrationNotFound`` — the integration itself is gone.
            Learning360Error: any other failure.
        """
        try:
            response = await self._send(
                "GET",
                _EXTERNAL_COURSE,
                path={"integrationId": integration_id, "externalId": external_id},
            )
        except Learning360NotFound as exc:
            if exc.code == "integrationNotFound":
                raise
            return None
        except Learning360RequestError as exc:
            if exc.code == "courseNotBelongToIntegration":
                return None
            raise
        return self._parse(ExternalCourseInfo, response)

    # --- tags ----------------------------------------------------------------------------------

    async def iter_tags(self) -> AsyncIterator[Tag]:
        """Yield every tag of the platform (5,000 per page).

        Raises:
            Learning360Error: a page could not be fetched.
        """
        async for page, response in self._pages(_TAGS):
            for tag in self._items(Tag, page, response):
                yield tag

    async def create_tag(self, name: str) -> Tag:
        """Create a non-main tag.

        Not blindly retried: after a 5xx or lost connection the tags are listed and a tag of that
        name (case-insensitive) is returned if it now exists; otherwise the create is retried.

        Raises:
            Learning360RequestError: ``tagNameNotAvailable`` (another tag has the name).
            Learning360Error: any other failure.
        """
        body = CreateTagBody(name=name, is_main=False)
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                response = await self._send(
                    "POST", _TAGS, body=body, idempotent=False, ok=frozenset({200, 201})
                )
                return self._parse(Tag, response)
            except (Learning360ServerError, Learning360TransportError):
                async for tag in self.iter_tags():
                    if tag.name.casefold() == name.casefold():
                        return tag
                if attempt == self._retry.max_attempts:
                    raise
                await self._sleep(self._retry.backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_course_tags(self, course_id: str) -> list[CourseTag]:
        """Return the tags on a course (all pages).

        Raises:
            Learning360NotFound: ``courseNotFound``.
            Learning360Error: any other failure.
        """
        tags: list[CourseTag] = []
        async for page, response in self._pages(_COURSE_TAGS, path={"courseId": course_id}):
            tags.extend(self._items(CourseTag, page, response))
        return tags

    async def replace_course_tags(self, course_id: str, tag_ids: Sequence[str]) -> list[str]:
        """Replace all tags of a course (idempotent); returns the tag ids now on it.

        Tags not listed are removed, so merge with ``get_course_tags`` first.

        Raises:
            ValueError: more than 100 tags (nothing is sent).
            Learning360NotFound: ``courseNotFound`` / ``tagNotFound``.
            Learning360Error: any other failure.
        """
        if len(tag_ids) > MAX_COURSE_TAGS:
            raise ValueError(f"a course takes at most {MAX_COURSE_TAGS} tags, got {len(tag_ids)}")
        body = UpdateCourseTagsBody(tag_ids=list(tag_ids))
        response = await self._send("PUT", _COURSE_TAGS, path={"courseId": course_id}, body=body)
        return [str(tag) for tag in self._json_list(response)]

    async def set_course_archived(self, course_id: str, archived: bool) -> None:
        """Archive (True) or restore (False) a course (idempotent).

        Raises:
            Learning360NotFound: ``courseNotFound``.
            Learning360RequestError: ``integrationInactive``.
            Learning360Error: any other failure.
        """
        await self._send(
            "PUT",
            _COURSE_ARCHIVE,
            path={"courseId": course_id},
            body=ArchiveCourseBody(archived=archived),
        )

    # --- users ---------------------------------------------------------------------------------

    async def get_user(self, user_id: str) -> User:
        """Return one user (e.g. the integration owner, for their language).

        Raises:
            Learning360NotFound: ``userNotFound``.
            Learning360Error: any other failure.
        """
        response = await self._send("GET", _USER, path={"userId": user_id})
        return self._parse(User, response)

    async def iter_users(
        self, *, status: UserStatus | None = None, mail: str | None = None
    ) -> AsyncIterator[User]:
        """Yield the platform's users (500 per page), optionally one status or one mail.

        The listing has no filter on creation or update dates (core-api.openapi.json,
        ``GET /api/v2/users``: filters ``mail``, ``username`` and ``status`` only), so a learner
        directory can only be refreshed by reading it whole. Deleted users are listed too.

        Raises:
            Learning360ScopeError: the credentials lack ``users:read`` (``scope`` names it).
            Learning360Error: a page could not be fetched.
        """
        params = {
            k: v for k, v in {"status[eq]": status, "mail[eq]": mail}.items() if v is not None
        }
        async for page, response in self._pages(_USERS, params=params):
            for user in self._items(User, page, response):
                yield user

    async def find_user_by_mail(self, mail: str) -> User | None:
        """Return the user with this email, or None.

        Raises:
            Learning360Error: the lookup failed.
        """
        async for page, response in self._pages(_USERS, params={"mail[eq]": mail}):
            users = self._items(User, page, response)
            if users:
                return users[0]
            return None
        return None


def _check_chunk(items: Sequence[object], limit: int, what: str) -> None:
    if not items:
        raise ValueError(f"no {what} to submit")
    if len(items) > limit:
        raise ValueError(f"at most {limit} {what} per bulk call, got {len(items)}; split the chunk")
