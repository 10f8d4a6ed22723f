"""OAuth2 client-credentials auth for API v2, as an ``httpx.Auth`` flow.

The token request is *yielded* from the flow, so it goes through the client's own transport
(the sandbox sees it, the contract recorder checks it). Tokens live 1 h and there is no refresh
token (research/360learning-api.md §3): we renew 60 s before expiry, and once more when a call
answers ``401 invalid_token``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from typing import Final

import httpx
from pydantic import ValidationError

from udemy360._http import (
    ENDPOINT_EXTENSION,
    Clock,
    Redactor,
    RetryableError,
    parse_retry_after,
    safe_url,
)
from udemy360.learning360.errors import (
    Learning360AuthError,
    Learning360ResponseError,
    Learning360ServerError,
)
from udemy360.learning360.models import Learning360Credentials, TokenRequest, TokenResponse

TOKEN_PATH: Final = "/api/v2/oauth2/token"
TOKEN_ENDPOINT: Final = f"POST {TOKEN_PATH}"
API_VERSION: Final = "v2.0"
RENEW_MARGIN: Final = 60.0


def error_code(body: bytes) -> tuple[str | None, str | None]:
    """Return ``(code, message)`` from any of the API's error envelopes.

    ``{"error": "code"}`` (auth, rate limits), ``{"error": {"code", "message"}}`` (OpenAPI) and a
    top-level ``{"code", "message"}`` (the Errors guide) — research/360learning-api.md §8, §19.
    """
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON, not text, or nested too deeply
        return None, None
    if not isinstance(data, dict):
        return None, None
    err = data.get("error")
    if isinstance(err, str):
        desc = data.get("error_description") or data.get("message")
        return err, desc if isinstance(desc, str) else None
    if isinstance(err, dict):
        code, message = err.get("code"), err.get("message")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
        )
    code, message = data.get("code"), data.get("message")
    return code if isinstance(code, str) else None, message if isinstance(message, str) else None


class ClientCredentialsAuth(httpx.Auth):
    """Adds ``Authorization: Bearer …`` to every call, fetching and renewing the token as needed."""

    def __init__(
        self,
        creds: Learning360Credentials,
        *,
        clock: Clock,
        redactor: Redactor,
        on_renewal: Callable[[], None] | None = None,
    ) -> None:
        self._creds = creds
        self._clock = clock
        self._redact = redactor
        self._on_renewal = on_renewal
        self._token: str | None = None
        self._expires_at = float("-inf")
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "none" if self._token is None else "cached"
        return f"ClientCredentialsAuth(client_id={self._creds.client_id!r}, token=<{state}>)"

    def invalidate(self) -> None:
        """Forget the cached token, so the next call fetches a new one."""
        self._token = None
        self._expires_at = float("-inf")

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - RENEW_MARGIN

    def token_request(self, template: httpx.Request) -> httpx.Request:
        """Build the token request on the same host as ``template``."""
        body = TokenRequest(
            client_id=self._creds.client_id,
            client_secret=self._creds.client_secret.get_secret_value(),
        )
        # no 360-api-version parameter is declared for this endpoint; sending it is harmless
        # (research/360learning-api.md §3)
        return httpx.Request(
            "POST",
            template.url.copy_with(path=TOKEN_PATH, query=None),
            json=body.to_json(),
            headers={
                "accept": "application/json",
                "360-api-version": API_VERSION,
                "user-agent": template.headers.get("user-agent", ""),
            },
            extensions={ENDPOINT_EXTENSION: TOKEN_ENDPOINT},
        )

    def store(self, response: httpx.Response) -> None:
        """Cache the token from a token-endpoint response, or raise the matching error."""
        url = safe_url(response.request.url)
        excerpt = self._redact(response.text[:2048])
        if response.status_code in {429} or response.status_code >= 500:
            raise RetryableError(
                f"token endpoint answered {response.status_code}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                final=Learning360ServerError(
                    "the token endpoint kept failing",
                    status=response.status_code,
                    code=error_code(response.content)[0],
                    url=url,
                    body_excerpt=excerpt,
                ),
            )
        if response.status_code != 200:
            code, message = error_code(response.content)
            raise Learning360AuthError(
                "360Learning refused the API credentials "
                f"({message or code or 'no reason given'}); check the client ID and secret "
                "created under Settings → API v2 of the platform, and the region/base URL",
                status=response.status_code,
                code=code,
                url=url,
                body_excerpt=excerpt,
            )
        try:
            token = TokenResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise Learning360ResponseError(
                "the token endpoint returned an unexpected body",
                status=response.status_code,
                url=url,
                body_excerpt="<redacted>",
            ) from exc
        self._token = token.access_token.get_secret_value()
        self._expires_at = self._clock() + token.expires_in
        if self._on_renewal is not None:
            self._on_renewal()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        async with self._lock:
            if not self._fresh():
                response = yield self.token_request(request)
                await response.aread()
                self.store(response)
            used = self._token
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        await response.aread()
        if response.status_code != 401 or error_code(response.content)[0] != "invalid_token":
            return
        # 401 invalid_token: the token expired early or was revoked. Renew once, retry once.
        async with self._lock:
            if self._token == used:
                self.invalidate()
                renewal = yield self.token_request(request)
                await renewal.aread()
                self.store(renewal)
            used = self._token
        request.headers["Authorization"] = f"Bearer {used}"
        yield request
