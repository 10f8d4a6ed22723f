"""``check`` against both sandboxes: one verdict per item, each failure kind reported with a fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.contract.plugin import SANDBOX_BASE_URL, FakeTime
from udemy360.learning360 import IntegrationSettings, Learning360Client, Learning360Credentials
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.udemy import UdemySandbox, UdemyTenant
from udemy360.sync.admin.check import USERS_READ_MISSING, CheckReport, CheckRequest, run_checks
from udemy360.udemy import UdemyClient, UdemyCredentials

UNKNOWN_ID = "aaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def udemy_sandbox() -> UdemySandbox:
    """A small Udemy tenant."""
    return UdemySandbox(UdemyTenant(courses=12, learning_paths=1, learners=10, activity_rows=20))


def udemy_client(sb: UdemySandbox, *, secret: str | None = None) -> UdemyClient:
    creds = sb.credentials_dict()
    if secret is not None:
        creds["client_secret"] = secret
    return UdemyClient(
        UdemyCredentials(**creds, base_url=sb.base_url()),
        transport=httpx.ASGITransport(app=sb.app),
    )


@pytest.fixture
async def udemy(udemy_sandbox: UdemySandbox) -> AsyncIterator[UdemyClient]:
    """A Udemy client with valid credentials."""
    async with udemy_client(udemy_sandbox) as client:
        yield client


@pytest.fixture
async def integration_id(l360_client: Learning360Client, l360_sandbox: Learning360Sandbox) -> str:
    """The id of a correctly configured integration in the target group."""
    created = await l360_client.create_integration(
        IntegrationSettings(
            external_platform="Udemy",
            group_id=l360_sandbox.group_id,
            author_id=l360_sandbox.owner_id,
            default_completion=True,
            default_progress=0,
            no_group_propagation=False,
        )
    )
    return created.id


def request_for(
    sb: Learning360Sandbox, integration_id: str | None, **changes: object
) -> CheckRequest:
    values: dict[str, object] = {
        "platform_name": "Udemy",
        "group_id": sb.group_id,
        "owner_id": sb.owner_id,
        "integration_id": integration_id,
        "tags_enabled": True,
    }
    values.update(changes)
    return CheckRequest(**values)  # type: ignore[arg-type]


async def check(
    udemy: UdemyClient | None, l360: Learning360Client | None, request: CheckRequest
) -> CheckReport:
    return await run_checks(udemy, l360, request)


class TestAllGood:
    async def test_everything_passes(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """With valid settings every verdict passes and the exit code is 0."""
        report = await check(udemy, l360_client, request_for(l360_sandbox, integration_id))
        assert [r.key for r in report.results if r.status != "pass"] == []
        assert report.ok
        assert "12 courses" in report.get("udemy.credentials").detail

    async def test_probes_write_nothing(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """Scope probes change nothing: no course, tag or operation appears in the sandbox."""
        tags_before = len(l360_sandbox.world.tags)
        await check(udemy, l360_client, request_for(l360_sandbox, integration_id))
        assert len(l360_sandbox.world.tags) == tags_before
        assert not l360_sandbox.world.courses
        assert len(l360_sandbox.world.integrations) == 1


class TestFailures:
    async def test_bad_udemy_credentials(
        self,
        udemy_sandbox: UdemySandbox,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """A wrong Udemy secret fails the Udemy item with a fix naming the settings."""
        async with udemy_client(udemy_sandbox, secret="wrong-secret") as bad:
            report = await check(bad, l360_client, request_for(l360_sandbox, integration_id))
        verdict = report.get("udemy.credentials")
        assert verdict.status == "fail"
        assert verdict.fix is not None
        assert "udemy.client_secret" in verdict.fix
        assert "wrong-secret" not in repr(report)
        assert not report.ok

    async def test_bad_360_credentials(
        self,
        udemy: UdemyClient,
        l360_sandbox: Learning360Sandbox,
        l360_time: FakeTime,
        integration_id: str,
    ) -> None:
        """A wrong 360Learning secret fails the credentials item and skips the rest of 360."""
        creds = Learning360Credentials(
            client_id=l360_sandbox.client_id,
            client_secret="not-the-secret",
            base_url=SANDBOX_BASE_URL,
        )
        async with Learning360Client(
            creds,
            transport=httpx.ASGITransport(app=l360_sandbox.app),
            clock=l360_time.time,
            sleep=l360_time.sleep,
        ) as bad:
            report = await check(udemy, bad, request_for(l360_sandbox, integration_id))
        verdict = report.get("360.credentials")
        assert verdict.status == "fail"
        assert verdict.fix is not None
        assert "learning360.client_secret" in verdict.fix
        assert not [r for r in report.results if r.key.startswith("360.scope")]
        assert "not-the-secret" not in repr(report)

    @pytest.mark.parametrize(
        "scope", ["integrations:bulk", "bulkOperations:read", "tags:write", "courses:write"]
    )
    async def test_missing_scope(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
        scope: str,
    ) -> None:
        """A scope taken away from the credentials fails exactly its own item."""
        granted = set(l360_sandbox.world.credential.scopes)
        l360_sandbox.set_scopes(granted - {scope})
        report = await check(udemy, l360_client, request_for(l360_sandbox, integration_id))
        assert [r.key for r in report.failed()] == [f"360.scope.{scope}"]
        assert report.get(f"360.scope.{scope}").fix is not None

    async def test_unknown_group(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """A configured group the integration does not belong to fails the group item."""
        request = request_for(l360_sandbox, integration_id, group_id=UNKNOWN_ID)
        report = await check(udemy, l360_client, request)
        verdict = report.get("360.group")
        assert verdict.status == "fail"
        assert verdict.fix is not None
        assert "learning360.group_id" in verdict.fix

    async def test_unknown_owner(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """An owner id with no user behind it fails the owner item."""
        request = request_for(l360_sandbox, integration_id, owner_id=UNKNOWN_ID)
        report = await check(udemy, l360_client, request)
        verdict = report.get("360.owner")
        assert verdict.status == "fail"
        assert verdict.fix is not None
        assert "learning360.owner_id" in verdict.fix

    async def test_missing_integration(
        self, udemy: UdemyClient, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox
    ) -> None:
        """Before set-up the integration item fails and says to run setup."""
        report = await check(udemy, l360_client, request_for(l360_sandbox, None))
        verdict = report.get("360.integration")
        assert verdict.status == "fail"
        assert verdict.fix is not None
        assert "udemy360 setup" in verdict.fix

    async def test_recorded_integration_gone(
        self, udemy: UdemyClient, l360_client: Learning360Client, l360_sandbox: Learning360Sandbox
    ) -> None:
        """A recorded integration id that 360Learning does not know fails the item."""
        report = await check(udemy, l360_client, request_for(l360_sandbox, UNKNOWN_ID))
        assert report.get("360.integration").status == "fail"

    async def test_unconfigured_sides(self) -> None:
        """Without credentials each side gets one failed verdict naming the missing settings."""
        request = CheckRequest(
            platform_name="Udemy",
            group_id=None,
            owner_id=None,
            integration_id=None,
            missing_udemy=("udemy.client_secret",),
            missing_l360=("learning360.client_id",),
        )
        report = await check(None, None, request)
        assert "udemy.client_secret" in report.get("udemy.credentials").detail
        assert "learning360.client_id" in report.get("360.credentials").detail
        assert not report.ok


class TestUsersRead:
    async def test_missing_users_read_is_a_warning_that_says_what_it_costs(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """Without users:read the verdict warns (no failure) and names every cost."""
        l360_sandbox.set_scopes(set(l360_sandbox.world.credential.scopes) - {"users:read"})
        report = await check(udemy, l360_client, request_for(l360_sandbox, integration_id))
        verdict = report.get("360.scope.users:read")
        assert verdict.status == "warn"
        assert report.ok
        assert verdict.detail == USERS_READ_MISSING
        for cost in (
            "cannot read the learner directory",
            "only from 360Learning's per-item errors, after their statistics were sent",
            "every day",
            "as a failure when the error is in a form udemy360 does not know",
            "alias rules ('udemy360 learners alias') match nobody",
            "the owner's language cannot be read",
        ):
            assert cost in verdict.detail
        assert verdict.fix is not None
        assert "users:read" in verdict.fix
        assert "learner directory" in verdict.fix
        assert report.get("360.owner").status == "warn"

    async def test_users_read_is_probed_without_an_owner(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """The scope is checked through the users listing, so a missing owner id hides nothing."""
        l360_sandbox.set_scopes(set(l360_sandbox.world.credential.scopes) - {"users:read"})
        request = request_for(l360_sandbox, integration_id, owner_id=None)
        report = await check(udemy, l360_client, request)
        assert report.get("360.scope.users:read").status == "warn"
        assert report.get("360.owner").status == "fail"

    async def test_granted_users_read_passes_once(
        self,
        udemy: UdemyClient,
        l360_client: Learning360Client,
        l360_sandbox: Learning360Sandbox,
        integration_id: str,
    ) -> None:
        """With users:read granted, one verdict passes for it and mentions the directory."""
        report = await check(udemy, l360_client, request_for(l360_sandbox, integration_id))
        verdicts = [r for r in report.results if r.key == "360.scope.users:read"]
        assert [v.status for v in verdicts] == ["pass"]
        assert "learner directory" in verdicts[0].detail
