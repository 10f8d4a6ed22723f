"""The TLS rule, in one place: https always, plain http only to loopback or in-process."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from udemy360._http import InsecureBaseURL, require_secure_base_url, require_secure_transport


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that is never called."""


class TestRequireSecureTransport:
    @pytest.mark.parametrize(
        "url",
        [
            "https://acme.udemy.com/api-2.0/organizations/1/",
            "http://127.0.0.1:8000/",
            "http://localhost/",
            "http://[::1]:8360",
        ],
    )
    def test_https_and_loopback_pass(self, url: str) -> None:
        """https anywhere and http to loopback are accepted over the network."""
        require_secure_transport(url, None)

    def test_plain_http_to_a_remote_host_is_refused(self) -> None:
        """Credentials would travel in clear: InsecureBaseURL (a ValueError) names the setting."""
        with pytest.raises(InsecureBaseURL, match=r"udemy\.base_url"):
            require_secure_transport(
                "http://acme.udemy.com/", httpx.AsyncHTTPTransport(), setting="udemy.base_url"
            )

    @pytest.mark.parametrize(
        "transport",
        [httpx.MockTransport(answer), httpx.ASGITransport(app=app)],
    )
    def test_in_process_transports_are_exempt(self, transport: httpx.AsyncBaseTransport) -> None:
        """An in-process transport never touches a network, so any base URL goes."""
        require_secure_transport("http://test/", transport)

    def test_settings_use_the_same_rule(self) -> None:
        """The settings check is the same function, raising the same error type."""
        with pytest.raises(InsecureBaseURL):
            require_secure_base_url("http://lms.example.com")
        assert issubclass(InsecureBaseURL, ValueError)
