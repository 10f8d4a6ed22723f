"""Set-up of the 360Learning integration against the sandbox: create, adopt, reconcile, refuse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from udemy360.learning360 import IntegrationSettings, Learning360Client
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.store import Store
from udemy360.sync.admin.setup import (
    SetupError,
    SetupRequest,
    delete_integration,
    ensure_integration,
    setup_integration,
)

UNKNOWN_ID = "aaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def store() -> Iterator[Store]:
    """An in-memory store."""
    with Store.open("sqlite://") as opened:
        yield opened


def request_for(sb: Learning360Sandbox, **changes: str | None) -> SetupRequest:
    values: dict[str, str | None] = {
        "connection_id": "acme",
        "udemy_account": "acme",
        "platform_name": "Udemy",
        "group_id": sb.group_id,
        "owner_id": sb.owner_id,
        "integration_id": None,
    }
    values.update(changes)
    return SetupRequest(**values)  # type: ignore[arg-type]


class TestSetupIntegration:
    async def test_creates_integration_with_spec_launch_behaviour(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """A first set-up creates one integration completing at 0% on launch, propagated."""
        result = await setup_integration(l360_client, store, request_for(l360_sandbox))
        assert result.action == "created"
        [integration] = l360_sandbox.world.integrations.values()
        assert integration.id == result.integration_id
        assert integration.external_platform == "Udemy"
        assert integration.group_id == l360_sandbox.group_id
        assert integration.author_id == l360_sandbox.owner_id
        assert integration.settings.get("defaultCompletion") is True
        assert integration.settings.get("defaultProgress") == 0
        assert integration.settings.get("noGroupPropagation") is False

    async def test_records_id_and_activates_connection(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """The integration id lands on the store's connection row, which is active."""
        result = await setup_integration(l360_client, store, request_for(l360_sandbox))
        row = store.connections.get("acme")
        assert row is not None
        assert row.integration_id == result.integration_id
        assert row.active is True

    async def test_twice_gives_one_integration(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """Running set-up twice keeps one integration and sends no write the second time."""
        first = await setup_integration(l360_client, store, request_for(l360_sandbox))
        writes = l360_sandbox.write_count
        second = await setup_integration(l360_client, store, request_for(l360_sandbox))
        assert second.integration_id == first.integration_id
        assert second.action == "unchanged"
        assert len(l360_sandbox.world.integrations) == 1
        assert l360_sandbox.write_count == writes

    async def test_adopts_and_reconciles_existing_integration(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """An integration made by hand with other launch settings is adopted and PATCHed."""
        existing = await l360_client.create_integration(
            IntegrationSettings(
                external_platform="Udemy",
                group_id=l360_sandbox.group_id,
                author_id=l360_sandbox.owner_id,
                default_completion=False,
                default_progress=10,
            )
        )
        result = await ensure_integration(l360_client, request_for(l360_sandbox))
        assert result.integration_id == existing.id
        assert result.action == "adopted"
        assert set(result.changes) >= {"defaultCompletion", "defaultProgress"}
        stored = l360_sandbox.world.integrations[existing.id]
        assert stored.settings.get("defaultCompletion") is True
        assert stored.settings.get("defaultProgress") == 0
        assert len(l360_sandbox.world.integrations) == 1

    async def test_recorded_id_renames_platform(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """With the id recorded, a new platform_name renames the same integration."""
        first = await setup_integration(l360_client, store, request_for(l360_sandbox))
        renamed = request_for(
            l360_sandbox, platform_name="Udemy Business", integration_id=first.integration_id
        )
        result = await setup_integration(l360_client, store, renamed)
        assert result.integration_id == first.integration_id
        assert "externalPlatform" in result.changes
        assert len(l360_sandbox.world.integrations) == 1
        assert l360_sandbox.world.integrations[first.integration_id].external_platform == (
            "Udemy Business"
        )

    async def test_deactivated_connection_is_reactivated(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """Set-up on a deactivated connection turns it back on and says so."""
        await setup_integration(l360_client, store, request_for(l360_sandbox))
        store.connections.set_active("acme", False)
        result = await setup_integration(l360_client, store, request_for(l360_sandbox))
        assert result.reactivated is True
        row = store.connections.get("acme")
        assert row is not None
        assert row.active


class TestSetupRefusals:
    async def test_reserved_platform_name_explains_the_setting(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """A reserved name fails with a message pointing at learning360.platform_name."""
        reserved = l360_sandbox.world.reserved_platforms[0]
        with pytest.raises(SetupError) as caught:
            await setup_integration(
                l360_client, store, request_for(l360_sandbox, platform_name=reserved)
            )
        assert caught.value.code == "reservedPlatformName"
        assert caught.value.setting == "learning360.platform_name"
        assert "platform_name" in caught.value.message
        assert store.connections.get("acme") is None

    async def test_unknown_group(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """An unknown group fails naming learning360.group_id."""
        with pytest.raises(SetupError) as caught:
            await setup_integration(
                l360_client, store, request_for(l360_sandbox, group_id=UNKNOWN_ID)
            )
        assert caught.value.setting == "learning360.group_id"
        assert not l360_sandbox.world.integrations

    async def test_unknown_owner(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """An unknown owner fails naming learning360.owner_id."""
        with pytest.raises(SetupError) as caught:
            await setup_integration(
                l360_client, store, request_for(l360_sandbox, owner_id=UNKNOWN_ID)
            )
        assert caught.value.setting == "learning360.owner_id"


class TestDeleteIntegration:
    async def test_deletes_and_forgets_integration(
        self, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox, store: Store
    ) -> None:
        """Deleting removes the integration on 360Learning and clears the recorded id."""
        result = await setup_integration(l360_client, store, request_for(l360_sandbox))
        deleted = await delete_integration(l360_client, store, "acme")
        assert deleted == result.integration_id
        assert result.integration_id not in l360_sandbox.world.integrations or not (
            l360_sandbox.world.integrations[result.integration_id].active
        )
        row = store.connections.get("acme")
        assert row is not None
        assert row.integration_id is None
