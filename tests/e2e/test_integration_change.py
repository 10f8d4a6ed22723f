from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import make_env
from tests.store.tables import rows
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.store import StatState
from udemy360.store.records import StatRecord
from udemy360.sync.admin.setup import SetupRequest, delete_integration, setup_integration

COURSE = ID_BASE + 4


class TestNewIntegration:
    async def test_delete_then_setup_recreates_everything_in_the_new_integration(self) -> None:
        """After deactivate --delete-integration and setup, the next runs fill the new one."""
        env = await make_env(courses=10, learning_paths=2, activity_rows=0)
        env.set_options(learning_paths_enabled=True, tags_enabled=True)
        tenant = env.udemy_sb.tenant
        tenant.advance_learner(0, COURSE, progress=10, at=env.today - timedelta(days=20))
        tenant.advance_learner(1, COURSE, complete=True, at=env.today - timedelta(days=15))
        await env.courses()
        await env.stats()
        old_id = env.options.integration_id
        synced = set(env.course_ids())
        assert len(synced) == 12
        request = SetupRequest(
            connection_id="acme",
            udemy_account="acme",
            platform_name="Udemy",
            group_id=env.lms.group_id,
            owner_id=env.lms.owner_id,
        )
        async with env.lms_client() as l360:
            assert await delete_integration(l360, env.store, "acme") == old_id
            result = await setup_integration(l360, env.store, request)
        assert result.integration_id != old_id
        env.set_options(integration_id=result.integration_id)

        env.next_day()
        courses = await env.courses()
        assert courses.status == "succeeded"
        assert courses.counts["created"] == 12
        assert courses.counts["tagged"] == 10
        assert set(env.course_ids()) == synced  # now keyed by the new integration
        assert env.active_external_ids() == synced
        env.next_day()  # the activity is outside the incremental window by now
        stats = await env.stats(full=False)
        assert stats.status == "succeeded"
        assert stats.counts["created"] == 2
        assert [a["progress"] for a in env.attempts(learner_email(0), str(COURSE))] == [10]
        assert [a["progress"] for a in env.attempts(learner_email(1), str(COURSE))] == [100]
        states = {row["state"] for row in rows(env.store, StatRecord, connection_id="acme")}
        assert states == {StatState.SENT}
        env.close()
