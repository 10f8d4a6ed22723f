"""Sandbox responses match the vendored OpenAPI, and the request log counts what clients send."""

from __future__ import annotations

import httpx

import udemy360.sandbox.learning360 as package
from tests.sandbox.learning360.conftest import course, run_bulk, stat
from udemy360.sandbox.learning360 import ContractIndex, Learning360Sandbox, load_contract
from udemy360.sandbox.seed import learner_email


class TestResponsesMatchTheSpec:
    async def test_key_responses_validate_against_the_vendored_spec(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """Operations, results, external course, stats and users validate against the spec."""
        index = ContractIndex()
        path = f"/api/v2/bulk/integrations/{integration_id}/courses"
        submitted = await api.put(
            path, json={"input": [course("1", duration=5, difficultyLevel="beginner")]}
        )
        location = submitted.headers["Location"]
        pending = await api.get(location)
        sb.process_bulk()
        await run_bulk(
            api,
            sb,
            "POST",
            f"/api/v2/bulk/integrations/{integration_id}/stats",
            [stat("1", learner_email(0))],
        )
        checks = [
            ("GET", "/api/v2/bulk/operations/{bulkOperationId}", pending),
            ("GET", "/api/v2/bulk/operations/{bulkOperationId}", await api.get(location)),
            (
                "GET",
                "/api/v2/bulk/operations/{bulkOperationId}/results",
                await api.get(location + "/results"),
            ),
            (
                "GET",
                "/api/v2/integrations/{integrationId}/courses/{externalId}",
                await api.get(f"/api/v2/integrations/{integration_id}/courses/1"),
            ),
            ("GET", "/api/v2/courses/stats", await api.get("/api/v2/courses/stats")),
            ("GET", "/api/v2/users/{userId}", await api.get(f"/api/v2/users/{sb.owner_id}")),
            ("GET", "/api/v2/integrations", await api.get("/api/v2/integrations")),
        ]
        for method, template, response in checks:
            assert (
                index.get(method, template).response_problem(response.status_code, response.json())
                is None
            )

    def test_vendored_contracts_are_openapi_documents(self) -> None:
        """Both vendored files load and declare OpenAPI 3.1."""
        assert load_contract("core-api.openapi.json")["openapi"] == "3.1.0"
        assert load_contract("bulk-api.openapi.json")["openapi"] == "3.1.0"


class TestRequestLog:
    async def test_log_and_write_count_exclude_token_and_sandbox_calls(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """write_count counts API writes only; the log keeps method, path, status, small bodies."""
        await api.get("/api/v2/integrations")
        await api.post("/_sandbox/process-bulk")
        last = sb.requests[-1]
        assert (last.method, last.path, last.status) == ("GET", "/api/v2/integrations", 200)
        assert sb.write_count == 1  # the integration created by the fixture
        created = next(
            e for e in sb.requests if e.method == "POST" and e.path == "/api/v2/integrations"
        )
        assert created.json == {
            "externalPlatform": "Udemy",
            "groupId": sb.group_id,
            "authorId": sb.owner_id,
            "defaultCompletion": True,
            "defaultProgress": 0,
        }


class TestPublicSurface:
    def test_exported_members(self) -> None:
        """The package exports exactly its documented surface."""
        assert set(package.__all__) == {
            "ApiError",
            "Attempt",
            "BulkDelays",
            "BulkOperation",
            "ContractIndex",
            "Course",
            "Integration",
            "Learning360Faults",
            "Learning360Sandbox",
            "Learning360World",
            "Operation",
            "RequestLogEntry",
            "ResultsFault",
            "SchemaProblem",
            "Tag",
            "User",
            "create_app",
            "load_contract",
        }

    def test_sandbox_imports_no_client_package(self) -> None:
        """No sandbox module imports the 360Learning or Udemy client packages."""
        from pathlib import Path

        root = Path(package.__file__).parent
        sources = "".join(p.read_text() for p in root.glob("*.py"))
        assert "udemy360.learning360" not in sources
        assert "udemy360.udemy" not in sources
