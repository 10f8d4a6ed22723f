"""360Learning's published OpenAPI definitions, compiled into per-operation validators.

The sandbox validates requests (and, in tests, its own responses) against the same schemas as the
real API, loaded from the vendored copies in ``contracts/`` so the fake cannot drift towards our
client's models. Validators are compiled once per operation; bulk bodies are validated envelope
first and then item by item with the item validator, which keeps a 10,000-item body fast.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Final, TypeAlias

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

__all__ = [
    "CONTRACT_FILES",
    "ContractIndex",
    "Operation",
    "Parameter",
    "SchemaProblem",
    "load_contract",
]

Json: TypeAlias = object

CONTRACT_FILES: Final = ("core-api.openapi.json", "bulk-api.openapi.json")
_SCOPE_RE: Final = re.compile(r"Required OAuth scope: `([^`]+)`")
_DATE_TIME_RE: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OBJECT_ID_RE: Final = re.compile(r"^[a-fA-F0-9]{24}$")

_FORMATS: Final = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    # research/360learning-api.md §7: dates are ISO 8601 (`YYYY-MM-DDThh:mm:ss.sssZ`).
    if not isinstance(value, str):
        return True
    if not _DATE_TIME_RE.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@_FORMATS.checks("date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_RE.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


@_FORMATS.checks("ObjectId")
def _is_object_id(value: object) -> bool:
    return not isinstance(value, str) or bool(_OBJECT_ID_RE.match(value))


_FORMAT_FUNCS: Final[dict[str, Callable[[object], bool]]] = {
    "date-time": _is_date_time,
    "date": _is_date,
    "ObjectId": _is_object_id,
}


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """The first validation failure of a value: its JSON path and jsonschema's message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_TYPES: Final[dict[str, Callable[[Json], bool]]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}
_IGNORED: Final = frozenset({"deprecated", "readOnly", "writeOnly", "default"})
_Check: TypeAlias = Callable[[Json], bool]


def _fast(schema: Mapping[str, object]) -> _Check | None:
    """Compile the JSON Schema subset 360Learning uses into a predicate (None if unsupported).

    It only ever answers "valid" when jsonschema would; any failure is re-checked by jsonschema to
    produce the message, so the predicate buys speed (about 10x on bulk items) without changing
    what is accepted.
    """
    checks: list[_Check] = []
    for key, arg in schema.items():
        check = _fast_keyword(key, arg, schema)
        if check is None:
            return None
        checks.append(check)
    if len(checks) == 1:
        return checks[0]
    return _all_of(checks)


def _all_of(checks: list[_Check]) -> _Check:
    def check(value: Json) -> bool:
        return all(one(value) for one in checks)

    return check


def _fast_keyword(key: str, arg: object, schema: Mapping[str, object]) -> _Check | None:
    if key in _IGNORED:
        return lambda v: True
    if key == "type":
        names = [arg] if isinstance(arg, str) else arg
        if not isinstance(names, list) or not all(
            isinstance(n, str) and n in _TYPES for n in names
        ):
            return None
        tests = [_TYPES[str(n)] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(t(v) for t in tests)
    if key == "enum":
        if not isinstance(arg, list) or not all(isinstance(e, str) for e in arg):
            return None
        allowed = frozenset(str(e) for e in arg)
        return lambda v: isinstance(v, str) and v in allowed
    if key in {"minLength", "maxLength"} and isinstance(arg, int):
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= arg
        return lambda v: not isinstance(v, str) or len(v) <= arg
    if key in {"minItems", "maxItems"} and isinstance(arg, int):
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= arg
        return lambda v: not isinstance(v, list) or len(v) <= arg
    if key in {"minimum", "maximum"} and isinstance(arg, (int, float)):
        bound = arg
        if key == "minimum":
            return lambda v: not isinstance(v, (int, float)) or isinstance(v, bool) or v >= bound
        return lambda v: not isinstance(v, (int, float)) or isinstance(v, bool) or v <= bound
    if key == "pattern" and isinstance(arg, str):
        regex = re.compile(arg)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if key == "format" and isinstance(arg, str):
        direct = _FORMAT_FUNCS.get(arg)
        if direct is not None:
            return direct
        fmt = arg
        return lambda v: _FORMATS.conforms(v, fmt)
    if key == "required" and isinstance(arg, list):
        needed = frozenset(str(n) for n in arg)
        return lambda v: not isinstance(v, dict) or needed.issubset(v.keys())
    if key == "properties" and isinstance(arg, dict):
        props: list[tuple[str, _Check]] = []
        for name, sub in arg.items():
            check = _fast(sub) if isinstance(sub, dict) else None
            if check is None:
                return None
            props.append((str(name), check))

        def check_properties(value: Json) -> bool:
            if isinstance(value, dict):
                for name, check in props:
                    if name in value and not check(value[name]):
                        return False
            return True

        return check_properties
    if key == "items" and isinstance(arg, dict):
        item = _fast(arg)
        if item is None:
            return None

        def check_items(value: Json) -> bool:
            if isinstance(value, list):
                for element in value:
                    if not item(element):
                        return False
            return True

        return check_items
    if key in {"allOf", "anyOf", "oneOf"} and isinstance(arg, list):
        subs = [_fast(s) if isinstance(s, dict) else None for s in arg]
        if any(s is None for s in subs):
            return None
        parts = [s for s in subs if s is not None]
        if key == "allOf":
            return parts[0] if len(parts) == 1 else _all_of(parts)
        if key == "anyOf":
            return lambda v: any(p(v) for p in parts)
        return lambda v: sum(1 for p in parts if p(v)) == 1
    if key == "additionalProperties" and isinstance(arg, bool):
        if arg:
            return lambda v: True
        declared = schema.get("properties")
        known = frozenset(declared) if isinstance(declared, dict) else frozenset()
        return lambda v: not isinstance(v, dict) or all(k in known for k in v)
    return None


@dataclass(frozen=True, slots=True)
class _Compiled:
    validator: Draft202012Validator
    fast: _Check | None

    def problem(self, value: Json, *, prefix: str = "$") -> SchemaProblem | None:
        if self.fast is not None and self.fast(value):
            return None
        error = best_match(self.validator.iter_errors(value))
        if error is None:
            return None
        return _to_problem(error, prefix)


def _to_problem(error: ValidationError, prefix: str) -> SchemaProblem:
    path = prefix + error.json_path[1:]
    return SchemaProblem(path=path, message=error.message)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One path or query parameter of an operation, with its compiled schema."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, object]
    compiled: _Compiled

    def problem(self, value: Json) -> SchemaProblem | None:
        """Return why ``value`` breaks this parameter's schema, or None."""
        return self.compiled.problem(value, prefix=f"{self.location}.{self.name}")


@dataclass(frozen=True, slots=True)
class Operation:
    """A documented operation: its scope, parameters, body schema and response schemas."""

    method: str
    path: str
    operation_id: str
    scope: str | None
    parameters: tuple[Parameter, ...]
    body: _Compiled | None
    body_items: _Compiled | None
    max_items: int | None
    responses: Mapping[str, Mapping[str, object] | None] = field(repr=False)
    requires_version: bool = True

    def body_problem(self, body: Json) -> tuple[str, SchemaProblem] | None:
        """Return ``(code, problem)`` when the body breaks its schema, else None."""
        if self.body is None:
            return None
        if self.body_items is None:
            found = self.body.problem(body)
            return None if found is None else ("invalidInput", found)
        # Bulk envelope: "The input of a bulk operation must be an array" (research §8).
        if not isinstance(body, dict) or not isinstance(body.get("input"), list):
            return "invalidInput", SchemaProblem(
                "$.input", "The input of a bulk operation must be an array."
            )
        items: list[Json] = body["input"]
        if self.max_items is not None and len(items) > self.max_items:
            return "inputTooLong", SchemaProblem(
                "$.input",
                f"The input array has {len(items)} items; the maximum is {self.max_items}.",
            )
        envelope = self.body.problem({**body, "input": []})
        if envelope is not None:
            return "invalidInput", envelope
        for index, item in enumerate(items):
            found = self.body_items.problem(item, prefix=f"$.input[{index}]")
            if found is not None:
                return "invalidInput", found
        return None

    def response_problem(self, status: int, body: Json) -> SchemaProblem | None:
        """Return why ``body`` breaks the documented response schema for ``status``, or None."""
        key = str(status)
        if key not in self.responses:
            return SchemaProblem(
                "$", f"status {status} is not documented for {self.method} {self.path}"
            )
        schema = self.responses[key]
        if schema is None:
            return None
        return _compile(schema).problem(body)


def load_contract(name: str) -> dict[str, object]:
    """Return one vendored OpenAPI document, e.g. ``core-api.openapi.json``."""
    text = resources.files(__package__ or __name__).joinpath("contracts", name).read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def _resolve(
    node: Json, components: Mapping[str, Json], seen: frozenset[str] = frozenset()
) -> Json:
    """Inline ``#/components/schemas`` refs; turn OpenAPI 3.0's ``nullable`` into a type."""
    if isinstance(node, list):
        return [_resolve(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            return {}  # a recursive schema: accept the inner level rather than loop
        return _resolve(components[name], components, seen | {name})
    out: dict[str, Json] = {}
    for key, value in node.items():
        if key in {"example", "examples", "description", "title"}:
            continue
        if key == "properties" and isinstance(value, dict):
            # Property names are data, not keywords: a property may be called "description".
            out[key] = {name: _resolve(sub, components, seen) for name, sub in value.items()}
        else:
            out[key] = value if key == "enum" else _resolve(value, components, seen)
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif "enum" in out and isinstance(out["enum"], list):
            out["enum"] = [*out["enum"], None]
    return out


def _compile(schema: Mapping[str, object]) -> _Compiled:
    return _Compiled(Draft202012Validator(dict(schema), format_checker=_FORMATS), _fast(schema))


def _json_schema(content: object) -> Mapping[str, object] | None:
    if not isinstance(content, dict):
        return None
    media = content.get("application/json")
    if not isinstance(media, dict):
        return None
    schema = media.get("schema")
    return schema if isinstance(schema, dict) else None


class ContractIndex:
    """Every documented operation of both vendored definitions, by method and path template."""

    def __init__(self) -> None:
        self._operations: dict[tuple[str, str], Operation] = {}
        for name in CONTRACT_FILES:
            self._add_document(load_contract(name))

    def _add_document(self, document: Mapping[str, object]) -> None:
        components_node = document.get("components")
        schemas: Mapping[str, Json] = {}
        if isinstance(components_node, dict) and isinstance(components_node.get("schemas"), dict):
            schemas = components_node["schemas"]
        paths = document.get("paths")
        assert isinstance(paths, dict)
        for path, item in paths.items():
            for method, raw in item.items():
                if method == "parameters" or not isinstance(raw, dict):
                    continue
                op = _resolve(copy.deepcopy(raw), schemas)
                assert isinstance(op, dict)
                op["description"] = raw.get("description", "")
                self._operations[(method.upper(), path)] = self._build(method.upper(), path, op)

    @staticmethod
    def _build(method: str, path: str, op: dict[str, Json]) -> Operation:
        description = op.get("description")
        scopes = _SCOPE_RE.findall(description) if isinstance(description, str) else []
        params: list[Parameter] = []
        requires_version = False
        raw_params = op.get("parameters")
        for raw in raw_params if isinstance(raw_params, list) else []:
            assert isinstance(raw, dict)
            if raw.get("in") == "header":
                requires_version = requires_version or raw.get("name") == "360-api-version"
                continue
            schema = raw.get("schema")
            assert isinstance(schema, dict)
            params.append(
                Parameter(
                    name=str(raw["name"]),
                    location=str(raw["in"]),
                    required=bool(raw.get("required", False)),
                    schema=schema,
                    compiled=_compile(schema),
                )
            )
        body: _Compiled | None = None
        body_items: _Compiled | None = None
        max_items: int | None = None
        request_body = op.get("requestBody")
        body_schema = (
            _json_schema(request_body.get("content")) if isinstance(request_body, dict) else None
        )
        if body_schema is not None:
            body = _compile(body_schema)
            props = body_schema.get("properties")
            input_schema = props.get("input") if isinstance(props, dict) else None
            if isinstance(input_schema, dict) and input_schema.get("type") == "array":
                items = input_schema.get("items")
                body_items = _compile(items if isinstance(items, dict) else {})
                limit = input_schema.get("maxItems")
                max_items = limit if isinstance(limit, int) else None
        responses: dict[str, Mapping[str, object] | None] = {}
        raw_responses = op.get("responses")
        for code, response in (raw_responses if isinstance(raw_responses, dict) else {}).items():
            responses[str(code)] = (
                _json_schema(response.get("content")) if isinstance(response, dict) else None
            )
        return Operation(
            method=method,
            path=path,
            operation_id=str(op.get("operationId", "")),
            scope=scopes[0] if scopes else None,
            parameters=tuple(params),
            body=body,
            body_items=body_items,
            max_items=max_items,
            responses=responses,
            requires_version=requires_version,
        )

    def get(self, method: str, path: str) -> Operation:
        """Return the operation for ``method`` and OpenAPI path template ``path``."""
        return self._operations[(method.upper(), path)]

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def scopes(self) -> frozenset[str]:
        """Every scope any documented operation requires (the company-level ceiling)."""
        return frozenset(op.scope for op in self._operations.values() if op.scope)


@cache
def contract_index() -> ContractIndex:
    """The process-wide compiled index (building it parses ~800 KB of JSON once)."""
    return ContractIndex()
