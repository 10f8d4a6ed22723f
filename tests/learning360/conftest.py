"""Fixtures of the 360Learning client tests; the sandbox-backed ones come from the plugin."""

from __future__ import annotations

import pytest

from tests.contract.plugin import (  # noqa: F401  (until tests/conftest.py registers the plugin)
    l360_client,
    l360_credentials,
    l360_sandbox,
    l360_time,
    l360_transport,
)
from tests.learning360.factories import settings
from udemy360.learning360 import Integration, Learning360Client
from udemy360.sandbox.learning360 import Learning360Sandbox


@pytest.fixture
async def integration(
    l360_client: Learning360Client,  # noqa: F811
    l360_sandbox: Learning360Sandbox,  # noqa: F811
) -> Integration:
    """The connector's integration in the sandbox's target group."""
    return await l360_client.create_integration(
        settings(l360_sandbox.group_id, l360_sandbox.owner_id)
    )
