"""A local Udemy Business API: a lazily generated tenant, fault injection and a request log."""

from __future__ import annotations

from udemy360.sandbox.udemy._faults import ListingRules, UdemyFaults
from udemy360.sandbox.udemy.app import (
    RequestLog,
    RequestRecord,
    UdemyAccount,
    create_app,
    select_fields,
)
from udemy360.sandbox.udemy.tenant import UdemyTenant


class UdemySandbox:
    """A tenant, its ASGI app, its fault plan and its request log, wired together."""

    def __init__(
        self,
        tenant: UdemyTenant | None = None,
        *,
        account_name: str = "acme",
        account_id: str = "123456",
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        faults: UdemyFaults | None = None,
        log_size: int = 10_000,
    ) -> None:
        self.tenant = tenant if tenant is not None else UdemyTenant()
        self.faults = faults if faults is not None else UdemyFaults()
        self.requests = RequestLog(log_size)
        self.account = UdemyAccount(account_name, account_id, client_id, client_secret)
        self.app = create_app(self.tenant, self.faults, account=self.account, log=self.requests)

    def __repr__(self) -> str:
        return f"UdemySandbox(account={self.account!r}, tenant={self.tenant!r})"

    def credentials_dict(self) -> dict[str, str]:
        """What a client needs to log in (``base_url`` is the caller's: ASGI or loopback)."""
        return {
            "account_name": self.account.account_name,
            "account_id": self.account.account_id,
            "client_id": self.account.client_id,
            "client_secret": self.account.client_secret,
        }

    def base_url(self, root: str = "http://test") -> str:
        """The organization API root under ``root`` (``http://test`` suits ``ASGITransport``)."""
        return f"{root.rstrip('/')}/api-2.0/organizations/{self.account.account_id}/"


__all__ = [
    "ListingRules",
    "RequestLog",
    "RequestRecord",
    "UdemyAccount",
    "UdemyFaults",
    "UdemySandbox",
    "UdemyTenant",
    "create_app",
    "select_fields",
]
