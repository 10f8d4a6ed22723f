"""The contract validator itself: it must reject what the official definitions reject."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.contract.openapi import (
    SHARED_CONTRACTS,
    VENDORED_CONTRACTS,
    Contract,
    Exchange,
    shared_contract,
)
from tests.contract.recorder import ContractRecorder, RecordingTransport

pytestmark = pytest.mark.skipif(
    not SHARED_CONTRACTS.is_dir(), reason="../shared/contracts/360learning is absent"
)

INTEGRATION = "6650aa00bb11cc22dd33ee44"
HEADERS = {
    "360-api-version": "v2.0",
    "authorization": "Bearer abc",
    "content-type": "application/json",
}
VALID_COURSE = {
    "externalId": "1",
    "name": "Python",
    "defaultLang": "en",
    "launchUrl": "https://acme.udemy.com/course/1/",
    "sources": [{"name": "Udemy"}],
    "subjects": [],
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    loaded = shared_contract()
    assert loaded is not None
    return loaded


def _put_courses(body: object, headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(
        method="PUT",
        path=f"/api/v2/bulk/integrations/{INTEGRATION}/courses",
        query=(),
        headers=HEADERS if headers is None else headers,
        body=json.dumps(body).encode(),
    )


class TestRequests:
    def test_valid_upsert_passes(self, contract):
        """A well-formed upsert has no violations."""
        assert contract.check_request(_put_courses({"input": [VALID_COURSE]})) == []

    @pytest.mark.parametrize(
        "bad",
        [
            {k: v for k, v in VALID_COURSE.items() if k != "name"},
            {**VALID_COURSE, "duration": 0},
            {**VALID_COURSE, "defaultLang": "en_US"},
            {**VALID_COURSE, "difficultyLevel": "expert"},
            {**VALID_COURSE, "description": ""},
        ],
    )
    def test_invalid_upsert_body_reported(self, contract, bad):
        """A body breaking the ExternalCourse schema is reported as a request-body violation."""
        problems = contract.check_request(_put_courses({"input": [bad]}))
        assert problems
        assert all(p.where == "request body" for p in problems)

    def test_too_many_items_reported(self, contract):
        """More than 1,000 archive items breaks maxItems."""
        exchange = Exchange(
            "DELETE",
            f"/api/v2/bulk/integrations/{INTEGRATION}/courses",
            (),
            HEADERS,
            json.dumps({"input": [{"externalId": "1"}] * 1001}).encode(),
        )
        assert any(
            "1000" in p.message or "long" in p.message for p in contract.check_request(exchange)
        )

    def test_missing_version_and_bearer_reported(self, contract):
        """The 360-api-version header and the Bearer token are required on API calls."""
        problems = contract.check_request(
            _put_courses({"input": []}, headers={"content-type": "application/json"})
        )
        assert {p.where for p in problems} == {"header 360-api-version", "header Authorization"}

    def test_wrong_version_reported(self, contract):
        """Only v2.0 is an accepted API version."""
        problems = contract.check_request(
            _put_courses({"input": []}, {**HEADERS, "360-api-version": "v1"})
        )
        assert [p.where for p in problems] == ["header 360-api-version"]

    def test_token_endpoint_needs_no_bearer(self, contract):
        """The token request is valid without Authorization, but not without client_secret."""
        body = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
        ok = Exchange(
            "POST",
            "/api/v2/oauth2/token",
            (),
            {"content-type": "application/json"},
            json.dumps(body).encode(),
        )
        assert contract.check_request(ok) == []
        del body["client_secret"]
        bad = Exchange(
            "POST",
            "/api/v2/oauth2/token",
            (),
            {"content-type": "application/json"},
            json.dumps(body).encode(),
        )
        assert contract.check_request(bad)

    def test_bad_path_parameter_and_unknown_operation(self, contract):
        """A non-ObjectId integration id and an undefined path are both reported."""
        bad_id = Exchange("PATCH", "/api/v2/integrations/not-an-id", (), HEADERS, b"{}")
        assert [p.where for p in contract.check_request(bad_id)] == ["path integrationId"]
        unknown = Exchange("GET", "/api/v2/nowhere", (), HEADERS, b"")
        assert [p.where for p in contract.check_request(unknown)] == ["operation"]

    def test_undeclared_query_parameter_reported(self, contract):
        """Query filters must be declared by the operation (the Link cursor is allowed)."""
        query = (("externalPlatform[eq]", "Udemy"), ("next", "abc"), ("limit", "5"))
        exchange = Exchange("GET", "/api/v2/integrations", query, HEADERS, b"")
        assert [p.where for p in contract.check_request(exchange)] == ["query limit"]


class TestResponses:
    def test_response_schema_checked(self, contract):
        """A 201 integration without its _id breaks the documented response schema."""
        body = {"externalPlatform": "U", "groupId": "a" * 24, "authorId": "b" * 24}
        exchange = Exchange(
            "POST", "/api/v2/integrations", (), HEADERS, b"{}", status=201,
            response_body=json.dumps(body).encode(),
        )  # fmt: skip
        assert [p.where for p in contract.check_response(exchange)] == ["response 201"]

    def test_undocumented_status_not_checked(self, contract):
        """An injected 500 has no documented body, so nothing is reported."""
        exchange = Exchange(
            "GET", "/api/v2/integrations", (), HEADERS, b"", status=500, response_body=b"oops"
        )
        assert contract.check_response(exchange) == []


class TestRecordingTransport:
    async def test_records_invalid_request_and_passes_response_through(self, contract):
        """The transport hands each exchange to its recorder and returns the response intact."""
        recorder = ContractRecorder(contract=contract)
        inner = httpx.MockTransport(lambda request: httpx.Response(202, headers={"Location": "x"}))
        async with httpx.AsyncClient(transport=RecordingTransport(inner, recorder)) as http:
            response = await http.put(
                f"https://app.360learning.com/api/v2/bulk/integrations/{INTEGRATION}/courses",
                json={"input": [{"externalId": ""}]},
                headers=HEADERS,
            )
        assert response.status_code == 202
        assert response.headers["location"] == "x"
        assert recorder.requests_checked == 1
        assert [f.method for f in recorder.request_findings] == ["PUT"]


class TestEveryTransportIsRecorded:
    async def test_plain_asgi_transport_is_checked(self, l360_sandbox, l360_credentials):
        """A client built on a bare ASGITransport is still checked, by the plugin's hook."""
        from tests.contract.recorder import RECORDER
        from udemy360.learning360 import Learning360Client

        before = RECORDER.requests_checked
        transport = httpx.ASGITransport(app=l360_sandbox.app)
        async with Learning360Client(l360_credentials, transport=transport) as client:
            await client.list_integrations()
        # The token request and the listing.
        assert RECORDER.requests_checked - before == 2

    async def test_raw_requests_of_other_agents_are_not_checked(self, l360_sandbox):
        """Deliberately invalid raw requests (the sandbox's own tests) are not counted."""
        from tests.contract.recorder import RECORDER

        before = RECORDER.requests_checked
        transport = httpx.ASGITransport(app=l360_sandbox.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await http.get("/api/v2/integrations")
        assert RECORDER.requests_checked == before


def test_vendored_contracts_identical_to_shared():
    """The sandbox's vendored copy of the definitions is byte-identical to the shared one."""
    if not VENDORED_CONTRACTS.is_dir():
        pytest.skip("the sandbox has no vendored contracts")
    shared = {p.name: p.read_bytes() for p in SHARED_CONTRACTS.glob("*.json")}
    vendored = {p.name: p.read_bytes() for p in VENDORED_CONTRACTS.glob("*.json")}
    assert shared
    assert vendored.keys() == shared.keys()
    for name, content in shared.items():
        assert vendored[name] == content, f"{name} differs from ../shared"
