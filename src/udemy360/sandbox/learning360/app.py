"""The 360Learning sandbox as an ASGI app: API v2 routes plus a sandbox-only ``/_sandbox`` API.

Every ``/api/v2`` request goes through one pipeline, in this order: bulk operations due by the
sandbox clock are applied, then latency and forced-failure faults, the per-company rate limit, the
bearer token, the ``360-api-version`` header, the operation's OAuth scope (read from the OpenAPI
description), path and query parameters, and the JSON body — each checked against the vendored
OpenAPI definitions — before the handler runs. Nothing depends on ASGI lifespan.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeAlias, cast

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from udemy360.sandbox.learning360._contracts import Operation, contract_index
from udemy360.sandbox.learning360._faults import Learning360Faults
from udemy360.sandbox.learning360._world import (
    DEFAULT_UNKNOWN_LEARNER,
    ApiError,
    BulkOperation,
    Course,
    JsonObject,
    Learning360World,
    OperationType,
    format_time,
    parse_time,
)

__all__ = ["RequestLogEntry", "create_app"]

API_VERSION: Final = "v2.0"
TOKEN_PATH: Final = "/api/v2/oauth2/token"
KEEP_BODY_BYTES: Final = 64 * 1024
_WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SANDBOX_CODES: Final = frozenset(
    {"invalidInput", "invalidApiVersion", "notFound", "methodNotAllowed"}
)


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One API request answered; ``json`` holds bodies up to 64 KB (or all, if asked)."""

    method: str
    path: str
    query: str
    status: int
    body_size: int
    json: object = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class _Call:
    """What a handler needs: path parameters, parsed query, JSON body, base URL for links."""

    params: dict[str, str]
    query: dict[str, object]
    body: object
    raw: bytes
    base_url: str
    path: str
    offset: int
    query_items: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


_Handler: TypeAlias = Callable[[Learning360World, Learning360Faults, _Call], _Reply]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler


_ROUTES: list[_Route] = []


def _route(method: str, template: str) -> Callable[[_Handler], _Handler]:
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"

    def register(handler: _Handler) -> _Handler:
        _ROUTES.append(_Route(method, template, re.compile(pattern), handler))
        return handler

    return register


# -- pagination and query parsing --------------------------------------------------------------


def _encode_cursor(offset: int, items: list[tuple[str, str]]) -> str:
    raw = json.dumps({"o": offset, "q": items}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[int, list[tuple[str, str]]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["o"]), [(str(k), str(v)) for k, v in data["q"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ApiError(
            400, "invalidInput", "query.next: the pagination cursor is not valid."
        ) from exc


def _page(call: _Call, rows: list[JsonObject], size: int) -> _Reply:
    """Cut one page; a ``Link: <…>; rel="next"`` header points at the rest (research §7)."""
    return _Reply(200, rows[call.offset : call.offset + size], _next_link(call, size, len(rows)))


def _next_link(call: _Call, size: int, total: int) -> dict[str, str]:
    """The ``Link`` header of a page of ``size`` out of ``total`` rows, if more follow."""
    if call.offset + size >= total:
        return {}
    cursor = _encode_cursor(call.offset + size, call.query_items)
    return {"Link": f'<{call.base_url}{call.path}?next={cursor}>; rel="next"'}


def _parse_query(items: list[tuple[str, str]]) -> dict[str, object]:
    """Nest deepObject pairs (``a[eq]=x``, ``a[in][0]=y``, repeated ``a[in]=y``)."""
    out: dict[str, object] = {}
    for key, value in items:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if match is None:
            raise ApiError(400, "invalidInput", f"query.{key}: malformed parameter name.")
        name, rest = match.group(1), re.findall(r"\[([^\[\]]*)\]", match.group(2))
        if not rest:
            out[name] = value
            continue
        node = out.setdefault(name, {})
        if not isinstance(node, dict):
            raise ApiError(
                400, "invalidInput", f"query.{name}: given both as a value and as an object."
            )
        op = rest[0]
        if len(rest) == 1:
            previous = node.get(op)
            if previous is None:
                node[op] = value
            else:
                node[op] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            bucket = node.setdefault(op, [])
            if isinstance(bucket, list):
                bucket.append(value)
    return out


def _coerce(value: object, schema: object) -> object:
    """Turn query strings into the types the parameter schema expects."""
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type")
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props = cast(dict[str, object], schema["properties"])
        return {k: _coerce(v, props.get(k)) for k, v in value.items()}
    if kind == "array":
        values = value if isinstance(value, list) else [value]
        return [_coerce(v, schema.get("items")) for v in values]
    if isinstance(value, str):
        if kind == "boolean" and value in {"true", "false"}:
            return value == "true"
        if kind in {"number", "integer"}:
            try:
                number = float(value)
            except ValueError:
                return value
            return int(number) if number.is_integer() else number
    return value


def _check_params(
    operation: Operation, path_params: dict[str, str], query: dict[str, object]
) -> dict[str, object]:
    known = {p.name for p in operation.parameters if p.location == "query"}
    for name in query:
        if name not in known:
            raise ApiError(
                400, "invalidInput", f"query.{name}: unknown parameter for {operation.path}."
            )
    checked: dict[str, object] = {}
    for param in operation.parameters:
        source: dict[str, object] = dict(path_params) if param.location == "path" else query
        if param.name not in source:
            if param.required:
                raise ApiError(
                    400,
                    "invalidInput",
                    f"{param.location}.{param.name}: required parameter is missing.",
                )
            continue
        value = _coerce(source[param.name], param.schema)
        problem = param.problem(value)
        if problem is not None:
            raise ApiError(400, "invalidInput", str(problem))
        checked[param.name] = value
    return checked


def _filter_ok(value: object, spec: object) -> bool:
    """Apply one filter object (``eq``, ``ne``, ``in``, ``nin``; ``lt``/``gte`` for dates)."""
    if not isinstance(spec, dict):
        return value == spec
    for op, arg in spec.items():
        if op == "eq" and value != arg:
            return False
        if op == "ne" and value == arg:
            return False
        if op == "in" and value not in cast(list[object], arg):
            return False
        if op == "nin" and value in cast(list[object], arg):
            return False
        if op in {"lt", "gte"}:
            if not isinstance(value, str):
                return False
            left, right = parse_time(value), parse_time(str(arg))
            if (op == "lt" and not left < right) or (op == "gte" and not left >= right):
                return False
    return True


def _filtered(
    rows: list[JsonObject], query: dict[str, object], fields: dict[str, str]
) -> list[JsonObject]:
    active = [(fields[name], spec) for name, spec in query.items() if name in fields]
    return [row for row in rows if all(_filter_ok(row.get(key), spec) for key, spec in active)]


# -- handlers -----------------------------------------------------------------------------------


def _object(call: _Call) -> JsonObject:
    return cast(JsonObject, call.body)


@_route("POST", "/api/v2/integrations")
def _create_integration(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _Reply(201, world.create_integration(_object(call)).to_json())


@_route("GET", "/api/v2/integrations")
def _list_integrations(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    rows = [i.to_json() for i in world.active_integrations()]
    return _page(call, _filtered(rows, call.query, {"externalPlatform": "externalPlatform"}), 100)


@_route("PATCH", "/api/v2/integrations/{integrationId}")
def _edit_integration(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _Reply(
        200, world.edit_integration(call.params["integrationId"], _object(call)).to_json()
    )


@_route("DELETE", "/api/v2/integrations/{integrationId}")
def _delete_integration(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    world.delete_integration(call.params["integrationId"])
    return _Reply(204)


def external_course_json(course: Course) -> JsonObject:
    """The ``ExternalCourseResponseDTO`` view of a course."""
    data = dict(course.data)
    data.setdefault("translations", [])
    return {**data, "authorId": course.author_id, "courseId": course.id}


@_route("GET", "/api/v2/integrations/{integrationId}/courses/{externalId}")
def _get_external_course(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    course = world.external_course(call.params["integrationId"], call.params["externalId"])
    return _Reply(200, external_course_json(course))


def course_json(world: Learning360World, course: Course) -> JsonObject:
    """The ``CourseDTO`` view of an external course."""
    integration = world.integrations.get(course.integration_id)
    data = course.data
    translations = data.get("translations")
    out: JsonObject = {
        "_id": course.id,
        "name": data["name"],
        "sourceLang": data["defaultLang"],
        "defaultLang": data["defaultLang"],
        "authorId": course.author_id,
        "groupId": course.group_id,
        "coAuthorIds": [],
        "createdAt": format_time(course.created_at),
        "modifiedAt": format_time(course.modified_at),
        "status": course.status,
        "type": "external",
        "translations": [
            {
                "lang": t["lang"],
                **{k: v for k, v in t["translatedFields"].items() if k in {"name", "description"}},
            }
            for t in (translations if isinstance(translations, list) else [])
        ],
    }
    if "description" in data:
        out["description"] = data["description"]
    if "duration" in data:
        out["duration"] = data["duration"]
    if integration is not None:
        out["externalPlatform"] = integration.external_platform
    return out


@_route("GET", "/api/v2/courses/{courseId}")
def _get_course(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _Reply(200, course_json(world, world.course(call.params["courseId"])))


@_route("PUT", "/api/v2/courses/{courseId}/archive")
def _archive_course(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    course = world.set_archived(call.params["courseId"], bool(_object(call)["archived"]))
    return _Reply(200, course_json(world, course))


@_route("GET", "/api/v2/courses/stats")
def _course_stats(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    rows = [a.to_json() for a in world.attempt_log]
    fields = {"courseId": "courseId", "userId": "userId", "completedAt": "completedAt"}
    return _page(call, _filtered(rows, call.query, fields), 500)


@_route("GET", "/api/v2/courses/{courseId}/tags")
def _get_course_tags(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    course = world.course(call.params["courseId"])
    rows: list[JsonObject] = [
        {"tagId": tag_id, "source": world.tags[tag_id].source}
        for tag_id in world.course_tags.get(course.id, [])
    ]
    return _page(call, rows, 500)


@_route("PUT", "/api/v2/courses/{courseId}/tags")
def _put_course_tags(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    tag_ids = cast(list[str], _object(call)["tagIds"])
    return _Reply(200, world.replace_course_tags(call.params["courseId"], tag_ids))


@_route("GET", "/api/v2/tags")
def _list_tags(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    rows = [t.to_json() for t in world.tags.values()]
    return _page(call, _filtered(rows, call.query, {"isMain": "isMain"}), 5000)


@_route("POST", "/api/v2/tags")
def _create_tag(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _Reply(201, world.create_tag(_object(call)).to_json(with_source=False))


@_route("GET", "/api/v2/users/{userId}")
def _get_user(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    user = world.users.get(call.params["userId"])
    if user is None:
        raise ApiError(404, "userNotFound", f"No user has the ID {call.params['userId']}.")
    return _Reply(200, user.to_json())


@_route("GET", "/api/v2/users")
def _list_users(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    mail = call.query.get("mail")
    if isinstance(mail, dict) and set(mail) == {"eq"}:  # the common pre-check: an index, not a scan
        user = world.users_by_mail.get(str(mail["eq"]).lower())
        rows = [user.to_json()] if user is not None else []
        rest = {k: v for k, v in call.query.items() if k != "mail"}
        return _page(call, _filtered(rows, rest, {"username": "username", "status": "status"}), 500)
    fields = {"mail": "mail", "username": "username", "status": "status"}
    if not any(name in fields for name in call.query):
        # the whole directory, page by page: only this page's users are rendered (100,000
        # users would otherwise cost a full rendering per page, and the benchmark would measure
        # the sandbox instead of the connector)
        users = list(world.users.values())
        page = [u.to_json() for u in users[call.offset : call.offset + 500]]
        return _Reply(200, page, _next_link(call, 500, len(users)))
    rows = [u.to_json() for u in world.users.values()]
    return _page(call, _filtered(rows, call.query, fields), 500)


def _submit(
    kind: OperationType, world: Learning360World, faults: Learning360Faults, call: _Call
) -> _Reply:
    integration = world.integration(call.params["integrationId"])
    items = cast(list[JsonObject], _object(call)["input"])
    delays = faults.delays
    op = world.submit(
        kind,
        integration,
        items,
        call.raw,
        fails=faults.take_bulk_failure(),
        pending=delays.pending,
        queued=delays.queued,
        per_item=delays.per_item,
        results_fault=faults.take_results_fault(),
    )
    return _Reply(202, None, {"Location": f"{call.base_url}/api/v2/bulk/operations/{op.id}"})


@_route("PUT", "/api/v2/bulk/integrations/{integrationId}/courses")
def _bulk_upsert(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _submit("importExternalCourses", world, faults, call)


@_route("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses")
def _bulk_archive(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _submit("archiveExternalCourses", world, faults, call)


@_route("POST", "/api/v2/bulk/integrations/{integrationId}/stats")
def _bulk_stats(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _submit("importExternalStatistics", world, faults, call)


def _operation(world: Learning360World, op_id: str) -> BulkOperation:
    op = world.operations.get(op_id)
    if op is None:
        raise ApiError(404, "bulkOperationNotFound", f"No bulk operation has the ID {op_id}.")
    return op


@_route("GET", "/api/v2/bulk/operations/{bulkOperationId}")
def _get_operation(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    return _Reply(200, _operation(world, call.params["bulkOperationId"]).to_json(world.now()))


@_route("GET", "/api/v2/bulk/operations/{bulkOperationId}/results")
def _get_results(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    op = _operation(world, call.params["bulkOperationId"])
    if not op.finished(world.now()):
        raise ApiError(400, "bulkOperationNotRun", "The bulk operation has not ended yet.")
    return _Reply(200, op.results())


@_route("GET", "/api/v2/bulk/operations")
def _list_operations(world: Learning360World, faults: Learning360Faults, call: _Call) -> _Reply:
    now = world.now()
    rows = [op.to_json(now) for op in reversed(world.operations.values())]
    return _page(
        call,
        _filtered(rows, call.query, {"createdAt": "createdAt", "status": "status", "type": "type"}),
        20,
    )


# -- the app ------------------------------------------------------------------------------------


def _json_response(reply: _Reply) -> Response:
    if reply.body is None and reply.status in {202, 204}:
        return Response(status_code=reply.status, headers=reply.headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def _error(exc: ApiError, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(exc.status, exc.body(), headers or {})


@dataclass(slots=True)
class _Log:
    entries: list[RequestLogEntry]
    keep_bodies: bool

    def add(self, request: Request, status: int, raw: bytes) -> None:
        body: object = None
        if raw and (self.keep_bodies or len(raw) <= KEEP_BODY_BYTES):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self.entries.append(
            RequestLogEntry(
                request.method, request.url.path, request.url.query, status, len(raw), body
            )
        )


def create_app(
    world: Learning360World,
    faults: Learning360Faults,
    *,
    log: list[RequestLogEntry] | None = None,
    keep_bodies: bool = False,
    validate_responses: bool = False,
) -> FastAPI:
    """Build the sandbox app over ``world`` and ``faults``.

    Args:
        log: where request log entries are appended (the sandbox facade passes its own list).
        keep_bodies: keep every JSON body in the log, not just those up to 64 KB.
        validate_responses: check every API response against the OpenAPI response schema and
            raise ``AssertionError`` on a mismatch (tests turn it on to keep the fake honest).
    """
    app = FastAPI(title="360Learning sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    contracts = contract_index()
    request_log = _Log(log if log is not None else [], keep_bodies)
    app.state.request_log = request_log.entries

    def base_url(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    @app.post(TOKEN_PATH)
    async def token(request: Request) -> Response:
        raw = await request.body()
        reply = _token(world, faults, raw)
        request_log.add(request, reply.status, raw)
        if validate_responses:
            _assert_response(contracts.get("POST", TOKEN_PATH), reply)
        return _json_response(reply)

    @app.api_route("/api/v2/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def api(request: Request, rest: str) -> Response:
        raw = await request.body()
        reply, operation = await _dispatch(world, faults, request, raw, base_url(request))
        request_log.add(request, reply.status, raw)
        if validate_responses and operation is not None:
            _assert_response(operation, reply)
        return _json_response(reply)

    _add_inspection_routes(app, world, faults)
    return app


def _assert_response(operation: Operation, reply: _Reply) -> None:
    if reply.status in {202, 204}:
        return
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    code = error.get("code") if isinstance(error, dict) else error
    sandbox_chosen = code in _SANDBOX_CODES or str(reply.status) not in operation.responses
    # Errors the spec leaves out (bad version header, invalid query on a GET, injected
    # faults) must still use the documented error envelope.
    envelope = isinstance(error, str) or (
        isinstance(error, dict) and {"code", "message"} <= error.keys()
    )
    if sandbox_chosen and reply.status >= 400 and envelope:
        return
    problem = operation.response_problem(reply.status, reply.body)
    if problem is not None:
        raise AssertionError(
            f"sandbox response breaks {operation.method} {operation.path}: {problem}"
        )


def _token(world: Learning360World, faults: Learning360Faults, raw: bytes) -> _Reply:
    """``POST /api/v2/oauth2/token`` with a JSON body (research/360learning-api.md §3)."""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _Reply(400, {"error": "invalid_request"})
    grant = body.get("grant_type")
    if grant is not None and grant != "client_credentials":
        return _Reply(400, {"error": "unsupported_grant_type"})
    operation = contract_index().get("POST", TOKEN_PATH)
    if operation.body_problem(body) is not None:
        return _Reply(400, {"error": "invalid_request"})
    if "user_id" in body and body["user_id"] not in world.users:
        return _Reply(400, {"error": "non_existing_user"})
    cred = world.credential
    if body["client_id"] != cred.client_id or body["client_secret"] != cred.client_secret:
        return _Reply(401, {"error": "invalid_client"})
    access = world.issue_token(faults.expired_generation)
    return _Reply(
        200, {"token_type": "Bearer", "access_token": access, "expires_in": world.token_ttl}
    )


def _match(method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
    allowed = False
    # Literal segments win over parameters: /courses/stats is not /courses/{courseId}.
    for route in sorted(_ROUTES, key=lambda r: r.template.count("{")):
        found = route.regex.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        allowed = True
    if allowed:
        raise ApiError(405, "methodNotAllowed", f"{method} is not supported on {path}.")
    return None


async def _dispatch(
    world: Learning360World, faults: Learning360Faults, request: Request, raw: bytes, base: str
) -> tuple[_Reply, Operation | None]:
    method, path = request.method, request.url.path
    world.advance()
    if faults.delay > 0:
        await faults.sleep(faults.delay)
    rule = faults.take_rule(method, path)
    if rule is not None:
        headers = {} if rule.retry_after is None else {"Retry-After": f"{rule.retry_after:g}"}
        flat = rule.code in {"tooManyRequests", "invalid_token"}
        return _error(
            ApiError(rule.status, rule.code, "Injected by the sandbox.", flat=flat), headers
        ), None
    try:
        matched = _match(method, path)
    except ApiError as exc:
        return _error(exc), None
    if matched is None:
        return _error(ApiError(404, "notFound", f"No route {method} {path} in this sandbox.")), None
    route, path_params = matched
    operation = contract_index().get(method, route.template)
    try:
        call = _prepare(world, faults, request, raw, base, operation, path_params)
        return route.handler(world, faults, call), operation
    except ApiError as exc:
        return _error(exc), operation


def _prepare(
    world: Learning360World,
    faults: Learning360Faults,
    request: Request,
    raw: bytes,
    base: str,
    operation: Operation,
    path_params: dict[str, str],
) -> _Call:
    # research/360learning-api.md §6: 429 {"error": "tooManyRequests"}, 50 reads/s, 10 writes/s.
    if not faults.allow(write=request.method in _WRITES):
        raise ApiError(429, "tooManyRequests", flat=True)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not world.token_valid(
        token.strip(), faults.expired_generation
    ):
        raise ApiError(401, "invalid_token", flat=True)
    version = request.headers.get("360-api-version")
    if operation.requires_version and version != API_VERSION:
        raise ApiError(
            400,
            "invalidApiVersion",
            f"The 360-api-version header must be {API_VERSION!r}; got {version!r}.",
        )
    if operation.scope is not None and operation.scope not in world.credential.scopes:
        raise ApiError(
            403, "invalid_scope", f"This operation requires the OAuth scope {operation.scope!r}."
        )
    items = list(request.query_params.multi_items())
    offset = 0
    if any(k == "next" for k, _ in items):
        offset, items = _decode_cursor(next(v for k, v in items if k == "next"))
    query = _check_params(operation, path_params, _parse_query(items))
    body: object = None
    if operation.body is not None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ApiError(400, "invalidInput", "$: the request body is not valid JSON.") from exc
        found = operation.body_problem(body)
        if found is not None:
            code, problem = found
            raise ApiError(400, code, str(problem))
    return _Call(path_params, query, body, raw, base, request.url.path, offset, items)


def _add_inspection_routes(
    app: FastAPI, world: Learning360World, faults: Learning360Faults
) -> None:
    """Sandbox-only API under ``/_sandbox``: no auth, never logged, for demos and e2e checks."""

    @app.get("/_sandbox/courses")
    async def courses() -> list[JsonObject]:
        world.advance()
        return [
            {
                "courseId": c.id,
                "integrationId": c.integration_id,
                "externalId": c.external_id,
                "status": c.status,
                "tagIds": world.course_tags.get(c.id, []),
                "course": external_course_json(c),
            }
            for c in world.courses.values()
        ]

    @app.get("/_sandbox/tags")
    async def tags() -> list[JsonObject]:
        return [t.to_json() for t in world.tags.values()]

    @app.get("/_sandbox/attempts")
    async def attempts(mail: str | None = None, courseId: str | None = None) -> list[JsonObject]:
        world.advance()
        user = world.user_by("mail", mail) if mail else None
        if mail and user is None:
            return []
        rows = world.attempt_log
        return [
            {**a.to_json(), "mail": world.users[a.user_id].mail}
            for a in rows
            if (user is None or a.user_id == user.id)
            and (courseId is None or a.course_id == courseId)
        ]

    @app.get("/_sandbox/operations")
    async def operations() -> list[JsonObject]:
        world.advance()
        now = world.now()
        return [op.to_json(now) for op in world.operations.values()]

    @app.get("/_sandbox/users")
    async def users() -> list[JsonObject]:
        return [u.to_json() for u in world.users.values()]

    @app.post("/_sandbox/users")
    async def add_user(request: Request) -> Response:
        """Add a user: ``{"mail", "status"?, "firstName"?, "lastName"?, "lang"?}``."""
        body = await request.json()
        try:
            if not isinstance(body, dict) or not isinstance(body.get("mail"), str):
                raise ApiError(400, "invalidInput", "Give the user's mail.")
            user = world.add_user(
                body["mail"],
                status=str(body.get("status", "active")),
                first_name=str(body.get("firstName", "New")),
                last_name=str(body.get("lastName", "Learner")),
                lang=str(body.get("lang", "en")),
            )
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(user.to_json(), status_code=201)

    @app.patch("/_sandbox/users")
    async def set_user_status(request: Request) -> Response:
        """Change a user's status: ``{"mail", "status"}`` (``deleted`` deletes the user)."""
        body = await request.json()
        try:
            if not isinstance(body, dict) or not isinstance(body.get("mail"), str):
                raise ApiError(400, "invalidInput", "Give the user's mail and status.")
            user = world.users_by_mail.get(body["mail"].lower())
            if user is None:
                raise ApiError(404, "userNotFound", f"No user has the mail {body['mail']!r}.")
            world.set_user_status(user.id, str(body.get("status")))
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(user.to_json())

    @app.post("/_sandbox/process-bulk")
    async def process_bulk() -> JsonObject:
        world.finish_all()
        return {"processed": True}

    @app.post("/_sandbox/launch")
    async def launch(request: Request) -> Response:
        body = await request.json()
        try:
            if not isinstance(body, dict) or "mail" not in body:
                raise ApiError(
                    400, "invalidInput", "Give mail and courseId, or externalId and integrationId."
                )
            course_id = body.get("courseId")
            if course_id is None:
                course_id = world.external_course(
                    str(body["integrationId"]), str(body["externalId"])
                ).id
            attempt = world.launch(str(course_id), str(body["mail"]))
        except (ApiError, KeyError) as exc:
            error = (
                exc
                if isinstance(exc, ApiError)
                else ApiError(400, "invalidInput", f"Missing {exc}.")
            )
            return JSONResponse(error.body(), status_code=error.status)
        return JSONResponse(attempt.to_json(), status_code=201)

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> JsonObject:
        """Apply fault actions (latency, rateLimit, failNext, bulkError, bulkDelays,
        unpairableResults, unknownLearnerError, ...)."""
        body = await request.json()
        if body.get("clear"):
            faults.clear()
        if "latency" in body:
            faults.latency(float(body["latency"]))
        if "rateLimit" in body:
            limits = body["rateLimit"] or {}
            faults.rate_limit(limits.get("readsPerSecond"), limits.get("writesPerSecond"))
        if "failNext" in body:
            rule = body["failNext"]
            faults.fail_next(
                rule["method"],
                rule["pathPrefix"],
                int(rule["status"]),
                rule["code"],
                int(rule.get("times", 1)),
            )
        if "bulkError" in body:
            faults.bulk_error(int(body["bulkError"]))
        if "unpairableResults" in body:
            spec = body["unpairableResults"]
            faults.unpairable_results(
                spec["kind"], index=int(spec.get("index", 0)), next_n=int(spec.get("times", 1))
            )
        if "unknownLearnerError" in body:
            wording = body["unknownLearnerError"] or {}
            world.unknown_learner_message = str(wording.get("message", DEFAULT_UNKNOWN_LEARNER))
            code = wording.get("code")
            world.unknown_learner_code = None if code is None else str(code)
        if "bulkDelays" in body:
            faults.bulk_delays(
                **{
                    k: float(v)
                    for k, v in body["bulkDelays"].items()
                    if k in {"pending", "queued", "per_item"}
                }
            )
        if body.get("expireTokens"):
            faults.expire_tokens()
        return {"ok": True}
