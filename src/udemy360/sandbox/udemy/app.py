"""The Udemy Business API sandbox as an ASGI app (Starlette), plus its ``/_sandbox`` admin API.

Behaves as research/udemy-api.md describes the real API: Basic auth, DRF page-number pagination
with an absolute ``next``, ``page_size`` capped at 100, 404 ``Invalid page.`` past the end, and
``fields[...]`` selection — unless the fault plan says otherwise (``UdemyFaults``: raw records,
hostile envelopes and links, slow or odd bodies). Nothing depends on ASGI lifespan
(``httpx.ASGITransport`` skips it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from udemy360.sandbox.faults import truncate_body
from udemy360.sandbox.udemy._faults import ListingRules, UdemyFaults
from udemy360.sandbox.udemy.tenant import COURSE_EXTRA_FIELDS, Record, UdemyTenant

DEFAULT_PAGE_SIZE: Final = 12
MAX_PAGE_SIZE: Final = 100  # research/udemy-api.md §2.3
_JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class UdemyAccount:
    """The organization the sandbox pretends to be, and the credentials it accepts."""

    account_name: str = "acme"
    account_id: str = "123456"
    client_id: str = "sandbox-client"
    client_secret: str = field(default="sandbox-secret", repr=False)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One API request as the sandbox saw it."""

    method: str
    path: str
    query: str
    status: int


class RequestLog:
    """The last ``maxlen`` API requests, oldest first."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)

    def add(self, record: RequestRecord) -> None:
        """Append one request."""
        self._records.append(record)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """Forget every request."""
        self._records.clear()

    def count(self, path_contains: str = "", *, status: int | None = None) -> int:
        """How many logged requests have ``path_contains`` in their path (and ``status``)."""
        return sum(
            1
            for r in self._records
            if path_contains in r.path and (status is None or r.status == status)
        )


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status, media_type=_JSON)


def _detail(text: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps({"detail": text}), status, headers=headers, media_type=_JSON)


def select_fields(
    record: Record, spec: str | None, *, default_excludes: frozenset[str] = frozenset()
) -> Record:
    """Apply a ``fields[...]`` value: explicit names, ``@default``, ``@all``, ``@min``, ``-name``.

    Syntax as documented for the sister Affiliate API (research/udemy-api.md §2.2).
    """
    default = {k for k in record if k not in default_excludes}
    if spec is None:
        keys = default
        removed: set[str] = set()
    else:
        keys, removed = set(), set()
        for token in (t.strip() for t in spec.split(",")):
            if not token:
                continue
            if token == "@all":
                keys |= set(record)
            elif token == "@default":
                keys |= default
            elif token == "@min":
                keys |= {"id", "title"}
            elif token.startswith("-"):
                removed.add(token[1:])
            else:
                keys.add(token)
        if not keys:
            keys = default
    keys.add("_class")
    return {k: v for k, v in record.items() if k in keys and k not in removed}


def _paging(request: Request) -> tuple[int, int] | Response:
    params = request.query_params
    try:
        size = int(params.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = min(MAX_PAGE_SIZE, max(1, size))
    try:
        page = int(params.get("page", "1"))
    except ValueError:
        return _detail("Invalid page.", 404)
    if page < 1:
        return _detail("Invalid page.", 404)
    return page, size


Fetch = Callable[[int, int], Sequence[object]]
_NO_RULES: Final = ListingRules()


def _page(
    request: Request,
    count: int,
    page: int,
    size: int,
    fetch: Fetch,
    rules: ListingRules | None = None,
) -> Response:
    """One page of a listing in DRF's envelope, bent by the listing's fault rules if any."""
    rules = rules or _NO_RULES
    if page in rules.bodies:
        status, body = rules.bodies[page]
        return Response(body, status, media_type=_JSON)
    size = rules.page_size or size
    if rules.records is not None:
        count, fetch = len(rules.records), rules.raw_slice
    last = max(1, math.ceil(count / size))
    if page > last and not rules.endless:
        return _detail("Invalid page.", 404)  # research §2.3, DRF behaviour
    if page <= last:
        results = fetch((page - 1) * size, page * size)
    elif rules.repeat_past_end:
        results = fetch((last - 1) * size, last * size)
    else:
        results = []
    url = request.url
    envelope: dict[str, object] = {
        "count": count,
        "next": str(url.include_query_params(page=page + 1))
        if page < last or rules.endless
        else None,
        "previous": str(url.include_query_params(page=page - 1)) if page > 1 else None,
        "results": list(results),
    }
    envelope.update(rules.envelopes.get(page, {}))
    return _json(envelope)


def _parse_day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def create_app(
    tenant: UdemyTenant,
    faults: UdemyFaults,
    *,
    account: UdemyAccount | None = None,
    log: RequestLog | None = None,
) -> Starlette:
    """Build the sandbox app over ``tenant``; ``faults`` and ``log`` are shared, mutable objects."""
    account = account or UdemyAccount()
    log = log if log is not None else RequestLog()
    origin = f"https://{account.account_name}.udemy.com"
    nonces = itertools.count(1)
    expected = base64.b64encode(f"{account.client_id}:{account.client_secret}".encode()).decode()

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(token.strip(), expected)

    def courses(request: Request, rest: list[str]) -> Response:
        spec = request.query_params.get("fields[course]")
        nonce = next(nonces)
        if rest:
            record = tenant.get_course(int(rest[0]), origin=origin, nonce=nonce)
            if record is None:
                return _detail("Not found.", 404)
            return _json(select_fields(record, spec, default_excludes=COURSE_EXTRA_FIELDS))
        paging = _paging(request)
        if isinstance(paging, Response):
            return paging
        return _page(
            request,
            tenant.course_count,
            *paging,
            lambda a, b: [
                select_fields(r, spec, default_excludes=COURSE_EXTRA_FIELDS)
                for r in tenant.course_page(a, b, origin=origin, nonce=nonce)
            ],
            faults.listing_rules("courses/list/"),
        )

    def shape_path(request: Request, record: Record) -> Record:
        params = request.query_params
        out = select_fields(record, params.get("fields[learning_path]"))
        for key, spec in (
            ("sections", "fields[learning_path_section]"),
            ("editors", "fields[user]"),
        ):
            value = out.get(key)
            if isinstance(value, list):
                out[key] = [
                    select_fields(v, params.get(spec)) for v in value if isinstance(v, dict)
                ]
        return out

    def learning_paths(request: Request, rest: list[str]) -> Response:
        if rest:
            record = tenant.get_learning_path(int(rest[0]), origin=origin)
            if record is None:
                return _detail("Not found.", 404)
            return _json(shape_path(request, record))
        paging = _paging(request)
        if isinstance(paging, Response):
            return paging
        return _page(
            request,
            tenant.learning_path_count,
            *paging,
            lambda a, b: [
                shape_path(request, r) for r in tenant.learning_path_page(a, b, origin=origin)
            ],
            faults.listing_rules("learning-paths/list/"),
        )

    def activity(request: Request) -> Response:
        params = request.query_params
        try:
            low = _parse_day(params.get("from_date"))
            high = _parse_day(params.get("to_date"))
        except ValueError:
            return _detail("from_date and to_date must be YYYY-MM-DD.", 400)
        spec = params.get("fields[aggregate_organization_user_course_activity]")
        paging = _paging(request)
        if isinstance(paging, Response):
            return paging
        rules = faults.listing_rules("analytics/user-course-activity/")
        return _page(
            request,
            # counting a date window costs a scan; a raw listing does not need it
            0
            if rules is not None and rules.records is not None
            else tenant.activity_count(low, high),
            *paging,
            lambda a, b: [select_fields(r, spec) for r in tenant.activity_page(a, b, low, high)],
            rules,
        )

    async def serve_api(request: Request) -> Response:
        rest = str(request.path_params["rest"])
        await faults.delay()
        fault = faults.intercept(rest)
        if fault is not None:
            return Response(fault.body, fault.status, headers=dict(fault.headers), media_type=_JSON)
        if not authorized(request):
            return _detail(
                "Invalid username/password.", 401, {"WWW-Authenticate": 'Basic realm="api"'}
            )
        if request.path_params["account_id"] != account.account_id:
            return _detail("You do not have permission to perform this action.", 403)
        parts = [p for p in rest.split("/") if p]
        try:
            if parts[:2] == ["courses", "list"] and len(parts) <= 3:
                response = courses(request, parts[2:])
            elif parts[:2] == ["learning-paths", "list"] and len(parts) <= 3:
                response = learning_paths(request, parts[2:])
            elif parts == ["analytics", "user-course-activity"]:
                response = activity(request)
            else:
                response = _detail("Not found.", 404)
        except ValueError:
            response = _detail("Not found.", 404)  # e.g. a non-numeric id
        if response.status_code == 200 and faults.should_truncate(rest):
            response = Response(truncate_body(bytes(response.body)), 200, media_type=_JSON)
        if response.status_code == 200 and (rate := faults.trickle_rate(rest)) is not None:
            slow = faults.trickled(bytes(response.body), rate)
            response = StreamingResponse(slow, 200, media_type=_JSON)
        return response

    async def api(request: Request) -> Response:
        status = 500
        try:
            response = await serve_api(request)
            status = response.status_code
            return response
        finally:
            log.add(RequestRecord(request.method, request.url.path, request.url.query, status))

    routes = [
        Route("/api-2.0/organizations/{account_id}/{rest:path}", api, methods=["GET"]),
        *_admin_routes(tenant, faults, log),
    ]
    return Starlette(routes=routes)


Handler = Callable[[Request], Awaitable[Response]]


def _admin_routes(tenant: UdemyTenant, faults: UdemyFaults, log: RequestLog) -> list[Route]:
    """``/_sandbox/…``: sandbox-only endpoints that mutate the tenant and the fault plan."""

    async def body(request: Request) -> dict[str, object]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def record_routes(
        kind: str,
        add: Callable[..., int],
        change: Callable[..., None],
        retire: Callable[[int], None],
    ) -> list[Route]:
        async def create(request: Request) -> Response:
            return _json({"id": add(**await body(request))}, 201)

        async def update(request: Request) -> Response:
            record_id = int(request.path_params["record_id"])
            try:
                if request.method == "DELETE":
                    retire(record_id)
                else:
                    change(record_id, **await body(request))
            except KeyError as exc:
                return _detail(str(exc), 404)
            return Response(status_code=204)

        return [
            Route(f"/_sandbox/{kind}", create, methods=["POST"]),
            Route(f"/_sandbox/{kind}/{{record_id:int}}", update, methods=["PATCH", "DELETE"]),
        ]

    async def advance(request: Request) -> Response:
        data = await body(request)
        learner = data.pop("learner")
        course_id = data.pop("course_id")
        at = data.pop("at", None)
        if not isinstance(learner, int | str) or not isinstance(course_id, int):
            return _detail("learner (int or email) and course_id (int) are required", 400)
        row = tenant.advance_learner(
            learner,
            course_id,
            at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            **data,  # type: ignore[arg-type]
        )
        return _json(row)

    async def fault_plan(request: Request) -> Response:
        if request.method == "POST":
            try:
                faults.configure(await body(request))
            except (TypeError, ValueError) as exc:
                return _detail(str(exc), 400)
        elif request.method == "DELETE":
            faults.clear()
        return _json(faults.describe())

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            log.clear()
            return Response(status_code=204)
        return JSONResponse([asdict(r) for r in log])

    return [
        *record_routes("courses", tenant.add_course, tenant.change_course, tenant.retire_course),
        *record_routes(
            "learning-paths",
            tenant.add_learning_path,
            tenant.change_learning_path,
            tenant.retire_learning_path,
        ),
        Route("/_sandbox/activity", advance, methods=["POST"]),
        Route("/_sandbox/faults", fault_plan, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
    ]
