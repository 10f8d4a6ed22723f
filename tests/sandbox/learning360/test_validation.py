"""Requests are checked against 360Learning's own schemas: bodies, path and query parameters."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.learning360.conftest import course, stat
from udemy360.sandbox.learning360 import Learning360Sandbox

MAIL = "learner000000@example.com"


class TestBodySchemas:
    @pytest.mark.parametrize(
        ("item", "path_fragment"),
        [
            ({k: v for k, v in course("1").items() if k != "name"}, "$.input[0]"),
            (course("1", difficultyLevel="expert"), "$.input[0].difficultyLevel"),
            (course("1", duration=0), "$.input[0].duration"),
            (course("1", defaultLang="en_US"), "$.input[0].defaultLang"),
            (course("1", description=""), "$.input[0].description"),
        ],
    )
    async def test_bad_course_items_reject_the_request(
        self,
        api: httpx.AsyncClient,
        integration_id: str,
        item: dict[str, object],
        path_fragment: str,
    ) -> None:
        """A course item breaking the schema gets 400 invalidInput naming its JSON path."""
        body = {"input": [item]}
        response = await api.put(f"/api/v2/bulk/integrations/{integration_id}/courses", json=body)
        error = response.json()["error"]
        assert response.status_code == 400
        assert error["code"] == "invalidInput"
        assert error["message"].startswith(path_fragment)

    async def test_time_spent_zero_is_rejected(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """timeSpent must be at least 1 ms: 0 gets 400 naming $.input[1].timeSpent."""
        body = {"input": [stat("1", MAIL), stat("1", MAIL, timeSpent=0)]}
        response = await api.post(f"/api/v2/bulk/integrations/{integration_id}/stats", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("$.input[1].timeSpent")

    async def test_bad_date_time_is_rejected(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """A firstActivityAt that is not an ISO 8601 date-time gets 400 invalidInput."""
        body = {"input": [stat("1", MAIL, firstActivityAt="01/07/2025")]}
        response = await api.post(f"/api/v2/bulk/integrations/{integration_id}/stats", json=body)
        assert response.status_code == 400
        assert "firstActivityAt" in response.json()["error"]["message"]

    async def test_input_must_be_an_array(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """A bulk body whose input is not an array gets 400 invalidInput."""
        response = await api.put(
            f"/api/v2/bulk/integrations/{integration_id}/courses", json={"input": {}}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalidInput")

    async def test_more_than_10000_items_is_input_too_long(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """10,001 statistics get 400 inputTooLong; nothing is queued."""
        body = {"input": [stat("1", MAIL)] * 10_001}
        response = await api.post(f"/api/v2/bulk/integrations/{integration_id}/stats", json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "inputTooLong")

    async def test_more_than_1000_archives_is_input_too_long(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """The archive endpoint takes at most 1,000 items."""
        body = {"input": [{"externalId": str(i)} for i in range(1001)]}
        response = await api.request(
            "DELETE", f"/api/v2/bulk/integrations/{integration_id}/courses", json=body
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "inputTooLong")

    async def test_ten_thousand_items_are_accepted(self, sb: Learning360Sandbox) -> None:
        """A body at the 10,000-course limit passes validation (speed is measured in bench/)."""
        from udemy360.sandbox.learning360._contracts import contract_index

        operation = contract_index().get("PUT", "/api/v2/bulk/integrations/{integrationId}/courses")
        body = {
            "input": [course(str(i), description="x" * 300, duration=30) for i in range(10_000)]
        }
        assert operation.body_problem(body) is None


class TestParameters:
    async def test_bad_path_id_is_rejected(self, api: httpx.AsyncClient) -> None:
        """A path parameter that is not a 24-hex ObjectId gets 400 invalidInput naming it."""
        response = await api.get("/api/v2/integrations/not-an-id/courses/1")
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("path.integrationId")

    async def test_bad_query_enum_is_rejected(self, api: httpx.AsyncClient) -> None:
        """status[eq] outside the documented enum gets 400 invalidInput."""
        response = await api.get("/api/v2/bulk/operations", params={"status[eq]": "done"})
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("query.status")

    async def test_unknown_query_parameter_is_rejected(self, api: httpx.AsyncClient) -> None:
        """A query parameter the operation does not document gets 400 invalidInput."""
        response = await api.get("/api/v2/integrations", params={"limit": "5"})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalidInput")
