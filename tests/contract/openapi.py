"""Checks HTTP exchanges against 360Learning's official OpenAPI definitions.

Loads ``contracts/360learning/*.openapi.json``, matches a request's method and path to an operation
(path templates become regular expressions), and validates the JSON body, the required headers,
the path and query parameters, and — for responses — the body documented for that status.
Schemas are checked with jsonschema Draft 2020-12, ``$ref`` resolved against the whole document;
the OpenAPI 3.0 ``nullable: true`` the files still use is rewritten to a ``null`` alternative.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CONTRACTS = REPO_ROOT.parent / "shared" / "contracts" / "360learning"
VENDORED_CONTRACTS = REPO_ROOT / "src" / "udemy360" / "sandbox" / "learning360" / "contracts"
_METHODS = ("get", "post", "put", "patch", "delete")
# The cursor parameter of Link pagination is not declared per operation (research §7).
_PAGINATION_PARAMS = frozenset({"next"})

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an exchange departs from the definitions."""

    where: str  # e.g. "request body", "header 360-api-version", "response 200"
    message: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request as sent (and, when known, the response it got)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the definitions, with its path template compiled."""

    method: str
    template: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]
    pointer: str  # JSON pointer of the operation inside its document
    uri: str  # which document

    @property
    def key(self) -> str:
        """``"METHOD /api/v2/…/{param}"``, the same key as the client's call counts."""
        return f"{self.method.upper()} {self.template}"


def _short(message: str) -> str:
    # jsonschema puts the whole instance first ("[…] is too long"): keep both ends.
    return message if len(message) <= 300 else f"{message[:120]} … {message[-120:]}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _rewrite_nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _rewrite_nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            elif kind is None:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_rewrite_nullable(v) for v in node]
    return node


class Contract:
    """The operations of one or more OpenAPI documents, ready to validate exchanges."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        registry: Registry[Any] = Registry()
        self.operations: list[Operation] = []
        for uri, raw in documents.items():
            doc = _rewrite_nullable(copy.deepcopy(dict(raw)))
            registry = registry.with_resource(
                uri, Resource.from_contents(doc, default_specification=DRAFT202012)
            )
            for template, item in doc.get("paths", {}).items():
                regex = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
                names = re.findall(r"\{([^}]+)\}", template)
                for method in _METHODS:
                    if method in item:
                        self.operations.append(
                            Operation(
                                method=method.upper(),
                                template=template,
                                pattern=re.compile(f"^{regex}$"),
                                spec={**item[method], "x-path-names": names},
                                pointer=f"/paths/{_escape(template)}/{method}",
                                uri=uri,
                            )
                        )
        # Literal segments beat parameters: /bulk/operations vs /bulk/{x}.
        self.operations.sort(key=lambda op: (op.template.count("{"), -len(op.template)))
        self._registry = registry.crawl()
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def load(cls, directory: Path) -> Contract:
        """Load every ``*.openapi.json`` of ``directory``."""
        files = sorted(directory.glob("*.openapi.json"))
        if not files:
            raise FileNotFoundError(f"no *.openapi.json in {directory}")
        return cls({f"urn:contract:{f.stem}": json.loads(f.read_text()) for f in files})

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """Return the operation serving ``method path`` and its path parameters."""
        for op in self.operations:
            if op.method != method.upper():
                continue
            found = op.pattern.match(path)
            if found:
                return op, dict(zip(op.spec["x-path-names"], found.groups(), strict=True))
        return None

    def _validator(self, uri: str, pointer: str) -> Draft202012Validator:
        ref = f"{uri}#{pointer}"
        if ref not in self._validators:
            self._validators[ref] = Draft202012Validator(
                {"$ref": ref}, registry=self._registry, format_checker=_formats
            )
        return self._validators[ref]

    def _schema_errors(self, uri: str, pointer: str, instance: object) -> list[str]:
        validator = self._validator(uri, pointer)
        return [
            f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {_short(err.message)}"
            for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))[:10]
        ]

    def check_request(self, exchange: Exchange) -> list[Violation]:
        """Every way the request departs from its operation's definition (empty when valid)."""
        matched = self.match(exchange.method, exchange.path)
        if matched is None:
            return [Violation("operation", f"no operation {exchange.method} {exchange.path}")]
        op, path_params = matched
        problems: list[Violation] = []
        headers = {k.lower(): v for k, v in exchange.headers.items()}
        params = op.spec.get("parameters", [])
        for index, param in enumerate(params):
            where, name = param.get("in"), param.get("name", "")
            pointer = f"{op.pointer}/parameters/{index}/schema"
            if where == "header":
                value = headers.get(name.lower())
                if value is None:
                    if param.get("required"):
                        problems.append(Violation(f"header {name}", "required header missing"))
                    continue
                for msg in self._schema_errors(op.uri, pointer, value):
                    problems.append(Violation(f"header {name}", msg))
            elif where == "path" and name in path_params:
                for msg in self._schema_errors(op.uri, pointer, path_params[name]):
                    problems.append(Violation(f"path {name}", msg))
        declared = {p.get("name") for p in params if p.get("in") == "query"}
        for key, _ in exchange.query:
            base = key.split("[", 1)[0]
            if base not in declared and base not in _PAGINATION_PARAMS:
                problems.append(Violation(f"query {key}", "parameter not declared"))
        if op.spec.get("security"):
            auth = headers.get("authorization", "")
            if not re.fullmatch(r"Bearer \S+", auth):
                problems.append(Violation("header Authorization", "missing Bearer token"))
        problems.extend(self._check_body(op, exchange, headers))
        return problems

    def _check_body(
        self, op: Operation, exchange: Exchange, headers: Mapping[str, str]
    ) -> list[Violation]:
        body_spec = op.spec.get("requestBody")
        if not exchange.body:
            if body_spec and body_spec.get("required"):
                return [Violation("request body", "required body missing")]
            return []
        if not body_spec:
            return [Violation("request body", "operation takes no body")]
        if not headers.get("content-type", "").startswith("application/json"):
            return [Violation("header content-type", "a JSON body needs application/json")]
        try:
            instance = json.loads(exchange.body)
        except ValueError:
            return [Violation("request body", "not JSON")]
        pointer = f"{op.pointer}/requestBody/content/application~1json/schema"
        return [
            Violation("request body", m) for m in self._schema_errors(op.uri, pointer, instance)
        ]

    def check_response(self, exchange: Exchange) -> list[Violation]:
        """Validate a response against the schema documented for its status (if any)."""
        matched = self.match(exchange.method, exchange.path)
        if matched is None or exchange.status is None:
            return []
        op, _ = matched
        responses = op.spec.get("responses", {})
        documented = responses.get(str(exchange.status))
        if documented is None:
            return []  # e.g. an injected 500: the definitions document no 5xx body
        content = documented.get("content", {}).get("application/json")
        if content is None or "schema" not in content:
            return []
        try:
            instance = json.loads(exchange.response_body)
        except ValueError:
            return [Violation(f"response {exchange.status}", "not JSON")]
        pointer = f"{op.pointer}/responses/{exchange.status}/content/application~1json/schema"
        return [
            Violation(f"response {exchange.status}", m)
            for m in self._schema_errors(op.uri, pointer, instance)
        ]

    def enum_of(self, schema_name: str, prop: str) -> list[object]:
        """Return the ``enum`` of ``components.schemas[schema_name].properties[prop]``."""
        for uri in {op.uri for op in self.operations}:
            resolved = self._registry.resolver().lookup(f"{uri}#/components/schemas")
            schemas = resolved.contents
            if schema_name in schemas:
                return list(schemas[schema_name]["properties"][prop]["enum"])
        raise KeyError(schema_name)


@functools.cache
def shared_contract() -> Contract | None:
    """The shared definitions, loaded once per session; None when ``../shared`` is absent."""
    return Contract.load(SHARED_CONTRACTS) if SHARED_CONTRACTS.is_dir() else None


def describe(violations: Iterable[Violation]) -> str:
    """Render violations one per line."""
    return "\n".join(f"  - {v.where}: {v.message}" for v in violations)
