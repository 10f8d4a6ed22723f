"""Token endpoint, bearer tokens, the version header and OAuth scopes."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.learning360.conftest import FakeClock, get_token
from udemy360.sandbox.learning360 import Learning360Sandbox


class TestTokenEndpoint:
    async def test_valid_credentials_get_a_bearer_token(
        self, raw: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """Good client credentials get a Bearer token that expires in the configured TTL."""
        response = await raw.post(
            "/api/v2/oauth2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
            },
        )
        body = response.json()
        assert response.status_code == 200
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600.0

    @pytest.mark.parametrize(
        ("payload", "status", "error"),
        [
            (
                {"grant_type": "client_credentials", "client_id": "nope", "client_secret": "bad"},
                401,
                "invalid_client",
            ),
            (
                {"grant_type": "password", "client_id": "a", "client_secret": "b"},
                400,
                "unsupported_grant_type",
            ),
            ({"grant_type": "client_credentials", "client_id": "a"}, 400, "invalid_request"),
            (
                {"grant_type": "client_credentials", "client_id": 1, "client_secret": "b"},
                400,
                "invalid_request",
            ),
        ],
    )
    async def test_bad_requests_get_documented_errors(
        self, raw: httpx.AsyncClient, payload: dict[str, object], status: int, error: str
    ) -> None:
        """Wrong client, wrong grant, missing or mistyped fields get the documented errors."""
        response = await raw.post("/api/v2/oauth2/token", json=payload)
        assert (response.status_code, response.json()) == (status, {"error": error})

    async def test_secret_is_not_in_the_sandbox_repr(self, sb: Learning360Sandbox) -> None:
        """Neither the sandbox nor its credential shows the client secret in a repr."""
        assert sb.client_secret not in repr(sb)
        assert sb.client_secret not in repr(sb.world.credential)


class TestBearerToken:
    async def test_missing_token_is_invalid_token(self, raw: httpx.AsyncClient) -> None:
        """A call without Authorization gets 401 {"error": "invalid_token"}."""
        response = await raw.get("/api/v2/integrations", headers={"360-api-version": "v2.0"})
        assert (response.status_code, response.json()) == (401, {"error": "invalid_token"})

    async def test_token_expires_by_the_sandbox_clock(
        self, api: httpx.AsyncClient, clock: FakeClock
    ) -> None:
        """A token works until its TTL has passed on the sandbox clock, then gets 401."""
        clock.advance(3599)
        assert (await api.get("/api/v2/integrations")).status_code == 200
        clock.advance(2)
        response = await api.get("/api/v2/integrations")
        assert (response.status_code, response.json()) == (401, {"error": "invalid_token"})

    async def test_expire_tokens_fault_invalidates_old_tokens_only(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """After expire_tokens() old tokens get 401 and a freshly issued token works."""
        sb.faults.expire_tokens()
        assert (await api.get("/api/v2/integrations")).status_code == 401
        api.headers["Authorization"] = f"Bearer {await get_token(api, sb)}"
        assert (await api.get("/api/v2/integrations")).status_code == 200


class TestVersionHeader:
    @pytest.mark.parametrize("version", [None, "v1", "2.0"])
    async def test_missing_or_wrong_version_is_rejected(
        self, api: httpx.AsyncClient, version: str | None
    ) -> None:
        """Without 360-api-version: v2.0 the call gets 400 invalidApiVersion."""
        del api.headers["360-api-version"]
        headers = {} if version is None else {"360-api-version": version}
        response = await api.get("/api/v2/integrations", headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalidApiVersion"


class TestScopes:
    async def test_missing_scope_is_named_in_a_403(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """A credential without bulkOperations:read gets 403 invalid_scope naming that scope."""
        sb.set_scopes(["integrations:read", "integrations:write", "integrations:bulk"])
        response = await api.get("/api/v2/bulk/operations")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "invalid_scope"
        assert "bulkOperations:read" in response.json()["error"]["message"]
        assert (await api.get("/api/v2/integrations")).status_code == 200
