from __future__ import annotations

from tests.e2e.conftest import make_env
from udemy360.mapping import path_external_id
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy.tenant import ID_BASE


class TestMultiDay:
    async def test_three_days_then_options(self, transport: str) -> None:
        """Day 1 syncs all, day 2 applies every kind of change, day 3 writes nothing."""
        env = await make_env(learning_paths_enabled=True, http=transport == "http")
        tenant = env.udemy_sb.tenant
        # day 1
        courses = await env.courses()
        stats = await env.stats()
        assert courses.status == "succeeded"
        assert stats.status in ("succeeded", "partial")
        assert courses.counts["created"] == len(env.course_ids()) > 30  # public paths too
        learner, course = 0, ID_BASE + 3
        tenant.advance_learner(learner, course, progress=10, at=env.today)
        tenant.advance_learner(1, course, progress=90, at=env.today)
        tenant.advance_learner(2, course, complete=True, at=env.today)
        await env.stats()

        # day 2: added, changed, retired; paths changed; progress, completion, retake
        env.next_day()
        added = tenant.add_course(title="Added on day 2")
        tenant.change_course(ID_BASE + 5, title="Changed on day 2")
        tenant.retire_course(ID_BASE + 6)
        tenant.change_learning_path(ID_BASE, title="Path changed")
        tenant.advance_learner(learner, course, progress=55, at=env.today)
        tenant.advance_learner(1, course, complete=True, at=env.today)
        tenant.advance_learner(2, course, retake=True, progress=5, at=env.today)
        courses = await env.courses()
        assert (courses.counts["created"], courses.counts["updated"]) == (1, 2)
        assert courses.counts["archived"] == 1
        assert env.course(str(added))["name"] == "Added on day 2"
        assert env.course(str(ID_BASE + 5))["name"] == "Changed on day 2"
        assert env.course(str(ID_BASE + 6))["_status"] == "archived"
        assert env.course(path_external_id(ID_BASE))["name"] == "[Learning Path] Path changed"
        await env.stats()
        assert [a["progress"] for a in env.attempts(learner_email(learner), str(course))] == [55]
        assert [a["progress"] for a in env.attempts(learner_email(1), str(course))] == [100]
        assert [a["progress"] for a in env.attempts(learner_email(2), str(course))] == [100]

        # day 3: nothing changed, nothing written
        env.next_day()
        writes = env.lms.write_count
        courses = await env.courses()
        stats = await env.stats(full=False)
        assert env.lms.write_count == writes
        assert courses.status == "succeeded"
        assert (
            courses.calls.get("360 PUT /api/v2/bulk/integrations/{integrationId}/courses") is None
        )

        # tags on, then off
        env.set_options(tags_enabled=True)
        env.next_day()
        courses = await env.courses()
        assert courses.counts["tagged"] == 30  # every active course (one retired, one added)
        env.set_options(tags_enabled=False)
        env.next_day()
        tags = dict(env.lms.world.course_tags)
        await env.courses()
        assert dict(env.lms.world.course_tags) == tags

        # learning paths off: paths stay as they are
        env.set_options(learning_paths_enabled=False)
        env.next_day()
        courses = await env.courses()
        assert courses.counts["archived"] == 0
        assert env.course(path_external_id(ID_BASE))["_status"] == "published"
        env.close()
