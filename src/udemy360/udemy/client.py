"""Async client for the Udemy Business REST API (courses, learning paths, learner activity).

It knows HTTP, Basic auth, page-number pagination, 429/Retry-After and retries — nothing about
syncing. Listings are async streams of typed pages: page 1 first (it carries ``count``), then
pages 2..N fetched concurrently inside a bounded window, so memory does not grow with the catalog.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from udemy360 import __version__
from udemy360._http import (
    DEFAULT_DEADLINE,
    RETRIABLE_STATUSES,
    AdaptiveConcurrency,
    ApiClient,
    Clock,
    InsecureBaseURL,
    RateLimiter,
    Redactor,
    RetryableError,
    RetryPolicy,
    UnusableBody,
    call_with_retries,
    may_hold_unsafe_text,
    parse_json,
    parse_retry_after,
    safe_url,
)
from udemy360.udemy.errors import (
    UdemyAuthError,
    UdemyConfigError,
    UdemyRateLimited,
    UdemyResponseError,
    UdemyTransportError,
)
from udemy360.udemy.models import (
    KNOWN_SAFE,
    UdemyCourse,
    UdemyCourseActivity,
    UdemyCredentials,
    UdemyLearningPath,
    safe_text,
)
from udemy360.udemy.pagination import (
    MAX_PAGE_SIZE,
    Envelope,
    ListingGuard,
    ListingStop,
    UdemyPage,
    describe_validation_error,
    page_count,
    page_number_of,
    parse_records,
)

_M = TypeVar("_M", bound=BaseModel)

logger = logging.getLogger(__name__)

COURSES: Final = "courses/list/"
LEARNING_PATHS: Final = "learning-paths/list/"
ACTIVITY: Final = "analytics/user-course-activity/"

# Only what DESIGN.md's mapping reads: smaller pages are faster pages (research §2.4, S1
# "Efficient API calls"; images and instructors alone make the payload ~6x larger).
COURSE_FIELDS: Final = (
    "id,title,headline,description,url,estimated_content_length,categories,primary_category,"
    "primary_subcategory,topics,instructors,locale,images,promo_video_url,level,"
    "mobile_native_deeplink,last_update_date"
)
LEARNING_PATH_FIELDS: Final = (
    "id,title,description,url,editors,estimated_content_length,last_modified,is_public,"
    "is_pro_path,sections"
)
SECTION_FIELDS: Final = "id,title,order,items"
ACTIVITY_FIELDS: Final = (
    "user_email,user_name,user_surname,user_is_deactivated,course_id,course_title,"
    "completion_ratio,num_video_consumed_minutes,course_enroll_date,course_start_date,"
    "course_completion_date,course_first_completion_date,course_last_accessed_date"
)

_BODY_EXCERPT: Final = 2048
# Signed CDN query values inside a response body (promo videos — research §3.1).
_SIGNED: Final = re.compile(r"(?i)\b(Expires|Signature|Key-Pair-Id|Policy)=[^&\"'\s]*")


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    url: str
    data: object
    # no string in the body can hold a control character or a lone surrogate
    safe: bool


@dataclass(frozen=True, slots=True)
class _Fetched:
    envelope: Envelope
    safe: bool


def _validated(model: type[_M], answer: _Answer, what: str) -> _M:
    """Validate a response body strictly; a mismatch is a response error naming ``what``."""
    try:
        return model.model_validate(answer.data, context=KNOWN_SAFE if answer.safe else None)
    except ValidationError as exc:
        raise UdemyResponseError(
            f"{what}: {describe_validation_error(exc)}", status=answer.status, url=answer.url
        ) from exc


class UdemyClient(ApiClient):
    """Reads one Udemy Business organization. Use as an async context manager.

    ``deadline`` bounds each attempt from connecting to the last byte of the body (a stalled or
    trickling server is a transport error, retried like one); ``timeout`` bounds each network
    operation within it.

    Raises (from every public method): ``UdemyAuthError``, ``UdemyRateLimited``,
    ``UdemyTransportError``, ``UdemyResponseError``.
    """

    def __init__(
        self,
        creds: UdemyCredentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
        concurrency: int = 4,
        requests_per_second: float | None = None,
        timeout: float = 30.0,
        deadline: float = DEFAULT_DEADLINE,
        clock: Clock | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        secret = creds.client_secret.get_secret_value()
        self._base_url = creds.api_base_url
        self._redact = Redactor.for_basic_auth(creds.client_id, secret)
        policy = retry or RetryPolicy()
        self._page_size = page_size
        self._concurrency = AdaptiveConcurrency(concurrency)
        self._limiter = (
            RateLimiter(requests_per_second, clock=clock or time.monotonic, sleep=policy.sleep)
            if requests_per_second
            else None
        )
        try:
            super().__init__(
                base_url=self._base_url,
                transport=transport,
                retry=policy,
                timeout=timeout,
                deadline=deadline,
                auth=httpx.BasicAuth(creds.client_id, secret),
                headers={"User-Agent": f"udemy360/{__version__}", "Accept": "application/json"},
            )
        except InsecureBaseURL as exc:
            raise UdemyConfigError(str(exc)) from None

    def __repr__(self) -> str:
        return f"UdemyClient(base_url={safe_url(self._base_url)!r})"

    @property
    def concurrency_limit(self) -> int:
        """The current adaptive concurrency limit (halves on 429, recovers one step at a time)."""
        return self._concurrency.limit

    # --- listings ------------------------------------------------------------------------------

    def iter_course_pages(self) -> AsyncIterator[UdemyPage[UdemyCourse]]:
        """Stream the organization's course collection, page by page (pages may come out of order).

        Raises:
            UdemyAuthError, UdemyRateLimited, UdemyTransportError, UdemyResponseError.
        """
        return self._iter_pages(COURSES, {"fields[course]": COURSE_FIELDS}, UdemyCourse)

    def iter_learning_path_pages(self) -> AsyncIterator[UdemyPage[UdemyLearningPath]]:
        """Stream public learning paths; a path with ``is_public`` false is counted in ``skipped``.

        Raises:
            UdemyAuthError, UdemyRateLimited, UdemyTransportError, UdemyResponseError.
        """
        params = {
            "fields[learning_path]": LEARNING_PATH_FIELDS,
            "fields[learning_path_section]": SECTION_FIELDS,
            "fields[user]": "display_name",
        }
        return self._iter_pages(
            LEARNING_PATHS,
            params,
            UdemyLearningPath,
            keep=lambda path: path.is_public is not False,
        )

    def iter_activity_pages(
        self, *, from_date: date | None = None, to_date: date | None = None
    ) -> AsyncIterator[UdemyPage[UdemyCourseActivity]]:
        """Stream per-learner, per-course activity rows, optionally within a date window.

        Raises:
            UdemyAuthError, UdemyRateLimited, UdemyTransportError, UdemyResponseError.
        """
        params = {"fields[aggregate_organization_user_course_activity]": ACTIVITY_FIELDS}
        if from_date is not None:
            params["from_date"] = from_date.isoformat()
        if to_date is not None:
            params["to_date"] = to_date.isoformat()
        return self._iter_pages(ACTIVITY, params, UdemyCourseActivity)

    async def get_course(self, course_id: int) -> UdemyCourse | None:
        """Fetch one course of the collection; ``None`` when Udemy answers 404.

        Raises:
            UdemyAuthError, UdemyRateLimited, UdemyTransportError, UdemyResponseError.
        """
        # research §2.5 / quirk 12: prefer courses/list/{id}/ over courses/{id}/
        answer = await self._get(
            "courses/list/{id}/",
            f"{COURSES}{int(course_id)}/",
            {"fields[course]": COURSE_FIELDS},
            none_on_404=True,
        )
        if answer is None:
            return None
        return _validated(UdemyCourse, answer, f"course {course_id} is not a valid record")

    # --- pagination ----------------------------------------------------------------------------

    async def _iter_pages(
        self,
        path: str,
        params: dict[str, str],
        model: type[_M],
        keep: Callable[[_M], bool] | None = None,
    ) -> AsyncIterator[UdemyPage[_M]]:
        params = {**params, "page_size": str(self._page_size)}
        first = await self._fetch_page(path, params, 1)
        if first is None:
            # research §2.3: 404 "Invalid page." — nothing to list.
            yield UdemyPage(1, 0, (), ())
            return
        # A full page 1 shows the server's own page size, which may be below ours.
        per_page = min(self._page_size, len(first.envelope.results) or self._page_size)
        guard = ListingGuard(first.envelope.count, per_page)
        stop = guard.stop_after(1, first.envelope)
        yield self._page(path, 1, first, model, keep, stop)
        if first.envelope.next is None or stop is not None:
            return
        following = page_number_of(first.envelope.next)
        if following is None or following <= 1:
            raise UdemyResponseError(
                "pagination loop: page 1's next link does not move forward", url=safe_url(path)
            )
        if following == 2 and len(first.envelope.results) == self._page_size:
            total = page_count(first.envelope.count, self._page_size)
            pages = self._concurrent_pages(path, params, total, model, keep)
        else:
            # The server did not honour our page size: follow `next` one page at a time.
            pages = self._sequential_pages(path, params, following, guard, model, keep)
        async for page in pages:
            yield page

    def _page(
        self,
        path: str,
        number: int,
        fetched: _Fetched,
        model: type[_M],
        keep: Callable[[_M], bool] | None,
        stop: ListingStop | None,
    ) -> UdemyPage[_M]:
        context = KNOWN_SAFE if fetched.safe else None

        def parse(raw: object) -> _M:
            return model.model_validate(raw, context=context)

        page = parse_records(number, fetched.envelope, parse, keep)
        if stop is None:
            return page
        logger.warning("listing %s ended early (%s): %s", path, stop.kind, stop.reason)
        return dataclasses.replace(page, stop=stop)

    async def _concurrent_pages(
        self,
        path: str,
        params: dict[str, str],
        total: int,
        model: type[_M],
        keep: Callable[[_M], bool] | None,
    ) -> AsyncIterator[UdemyPage[_M]]:
        """Fetch pages 2..``total`` with at most ``concurrency`` in flight or buffered."""
        window = self._concurrency.maximum
        queue = iter(range(2, total + 1))
        pending: dict[asyncio.Task[_Fetched | None], int] = {}
        ended = False
        try:
            while True:
                while not ended and len(pending) < window:
                    number = next(queue, None)
                    if number is None:
                        break
                    task = asyncio.create_task(self._fetch_page(path, params, number))
                    pending[task] = number
                if not pending:
                    return
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=pending.__getitem__):
                    number = pending.pop(task)
                    fetched = task.result()
                    if fetched is None:
                        ended = True  # the listing shrank while we read it
                        continue
                    stop = _stop_by_number(number, total, fetched.envelope)
                    if stop is not None and stop.kind == "empty_page":
                        ended = True  # the pages after an empty one are empty too
                    yield self._page(path, number, fetched, model, keep, stop)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _sequential_pages(
        self,
        path: str,
        params: dict[str, str],
        number: int,
        guard: ListingGuard,
        model: type[_M],
        keep: Callable[[_M], bool] | None,
    ) -> AsyncIterator[UdemyPage[_M]]:
        while True:
            fetched = await self._fetch_page(path, params, number)
            if fetched is None:
                return
            stop = guard.stop_after(number, fetched.envelope)
            yield self._page(path, number, fetched, model, keep, stop)
            if fetched.envelope.next is None or stop is not None:
                return
            following = page_number_of(fetched.envelope.next)
            if following is None or following <= number:
                raise UdemyResponseError(
                    f"pagination loop: page {number}'s next link does not move forward",
                    url=safe_url(path),
                )
            number = following

    async def _fetch_page(self, path: str, params: dict[str, str], number: int) -> _Fetched | None:
        answer = await self._get(path, path, {**params, "page": str(number)}, end_on_404=True)
        if answer is None:
            return None
        return _Fetched(_validated(Envelope, answer, "invalid page envelope"), answer.safe)

    # --- one request -------------------------------------------------------------------------

    async def _get(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        *,
        end_on_404: bool = False,
        none_on_404: bool = False,
    ) -> _Answer | None:
        endpoint = f"GET {key}"
        return await call_with_retries(
            self._retry,
            lambda: self._attempt(endpoint, path, params, end_on_404, none_on_404),
            what=endpoint,
        )

    def _excerpt(self, text: str) -> str:
        excerpt = self._redact(_SIGNED.sub(r"\1=REDACTED", text[:_BODY_EXCERPT]))
        return safe_text(excerpt[:_BODY_EXCERPT])

    async def _attempt(
        self,
        endpoint: str,
        path: str,
        params: dict[str, str],
        end_on_404: bool,
        none_on_404: bool,
    ) -> _Answer | None:
        """One try; a ``RetryableError`` asks for another and says what to raise if none is left."""
        async with self._concurrency.slot():
            if self._limiter is not None:
                await self._limiter.acquire()
            request = self._request("GET", path, endpoint=endpoint, params=params)
            url = safe_url(request.url)

            def unreachable(reason: str) -> Exception:
                final = UdemyTransportError(f"could not reach Udemy: {reason}", url=url)
                return RetryableError(reason, final=final)

            response = await self._send_once(request, unreachable=unreachable)
        status = response.status_code
        logger.debug("GET %s status=%d", url, status)
        if status == 429:
            self._concurrency.on_throttle()
            # research §5.1: wait the number of seconds in Retry-After (or until its HTTP date)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            wait = "" if retry_after is None else f" (Retry-After {retry_after:g}s)"
            raise RetryableError(
                "HTTP 429",
                retry_after=retry_after,
                final=UdemyRateLimited(
                    f"Udemy is rate limiting us{wait}; retry budget spent",
                    retry_after=retry_after,
                    url=url,
                ),
            )
        if status in RETRIABLE_STATUSES:
            raise RetryableError(
                f"HTTP {status}",
                final=UdemyResponseError(
                    f"Udemy kept failing: HTTP {status}",
                    status=status,
                    url=url,
                    body_excerpt=self._excerpt(response.text),
                ),
            )
        if status in (401, 403):
            what = "rejected the credentials" if status == 401 else "denied access"
            raise UdemyAuthError(
                f"Udemy {what} (HTTP {status}): check client_id/client_secret and that the "
                "REST API is enabled for this account (Enterprise plan)",
                status=status,
                url=url,
            )
        if status == 404:
            if none_on_404:
                return None
            if end_on_404 and "invalid page" in response.text.lower():
                return None
        if not 200 <= status < 300:
            raise UdemyResponseError(
                f"unexpected HTTP {status}",
                status=status,
                url=url,
                body_excerpt=self._excerpt(response.text),
            )
        try:
            data = parse_json(response.content)
        except UnusableBody as exc:
            error = UdemyResponseError(
                f"Udemy kept failing: {exc.reason}" if exc.retriable else exc.reason,
                status=status,
                url=url,
                body_excerpt=self._excerpt(response.text),
            )
            if exc.retriable:
                # research §5.1: occasional cut bodies; worth another try
                raise RetryableError(exc.reason, final=error) from exc
            raise error from exc
        self._concurrency.on_success()
        return _Answer(status, url, data, safe=not may_hold_unsafe_text(response.content))


def _stop_by_number(number: int, total: int, envelope: Envelope) -> ListingStop | None:
    """Why a page fetched by number ends the listing though it links further, if it does."""
    if envelope.next is None:
        return None
    if not envelope.results:
        return ListingStop(
            "empty_page", number, f"page {number} holds no records but links to a next page"
        )
    if number >= total:
        return ListingStop(
            "count_reached",
            number,
            f"page {number} is the last page the announced count allows; "
            "its next link is not followed",
        )
    return None
