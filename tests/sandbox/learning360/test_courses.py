"""External courses, archive/restore, tags and course tags, users."""

from __future__ import annotations

import httpx

from tests.sandbox.learning360.conftest import course, run_bulk
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.seed import learner_email


async def _upsert(
    api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str, *items: dict[str, object]
) -> list[str]:
    results = await run_bulk(
        api, sb, "PUT", f"/api/v2/bulk/integrations/{integration_id}/courses", list(items)
    )
    return [str(r.get("resourceId")) for r in results]


class TestExternalCourses:
    async def test_upsert_replaces_the_whole_course_and_keeps_its_id(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """Re-upserting keeps the courseId and drops fields the new data leaves out."""
        [first] = await _upsert(
            api, sb, integration_id, course("1", description="Old", duration=30)
        )
        [second] = await _upsert(api, sb, integration_id, course("1", name="New name"))
        fetched = (await api.get(f"/api/v2/integrations/{integration_id}/courses/1")).json()
        assert first == second == fetched["courseId"]
        assert fetched["name"] == "New name"
        assert "description" not in fetched
        assert fetched["authorId"] == sb.owner_id

    async def test_new_course_lands_in_catalog_and_library(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """A new external course is added to the group's catalog and library."""
        [course_id] = await _upsert(api, sb, integration_id, course("1"))
        assert course_id in sb.world.catalogs[sb.group_id]
        assert course_id in sb.world.libraries[sb.group_id]

    async def test_unknown_external_id_does_not_belong(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """Retrieving an externalId never upserted gets 400 courseNotBelongToIntegration."""
        response = await api.get(f"/api/v2/integrations/{integration_id}/courses/nope")
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "courseNotBelongToIntegration",
        )

    async def test_archive_bulk_then_upsert_keeps_it_archived_until_restored(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """An archived course stays archived when upserted; PUT archive false restores it."""
        [course_id] = await _upsert(api, sb, integration_id, course("1"))
        path = f"/api/v2/bulk/integrations/{integration_id}/courses"
        archived = await run_bulk(
            api, sb, "DELETE", path, [{"externalId": "1"}, {"externalId": "zzz"}]
        )
        assert [r["status"] for r in archived] == ["success", "error"]
        await _upsert(api, sb, integration_id, course("1"))
        assert (await api.get(f"/api/v2/courses/{course_id}")).json()["status"] == "archived"
        restored = await api.put(f"/api/v2/courses/{course_id}/archive", json={"archived": False})
        assert (restored.status_code, restored.json()["status"]) == (200, "published")

    async def test_archive_unknown_course_is_not_found(self, api: httpx.AsyncClient) -> None:
        """PUT archive on an unknown courseId gets 404 courseNotFound."""
        response = await api.put(f"/api/v2/courses/{'b' * 24}/archive", json={"archived": True})
        assert (response.status_code, response.json()["error"]["code"]) == (404, "courseNotFound")


class TestTags:
    async def test_tag_names_are_unique_case_insensitively(self, api: httpx.AsyncClient) -> None:
        """Creating a tag whose name another tag has (any case) gets 400 tagNameNotAvailable."""
        created = await api.post("/api/v2/tags", json={"name": "Python", "isMain": False})
        assert created.status_code == 201
        again = await api.post("/api/v2/tags", json={"name": "python", "isMain": False})
        assert (again.status_code, again.json()["error"]["code"]) == (400, "tagNameNotAvailable")
        listed = await api.get("/api/v2/tags")
        assert {
            "_id": created.json()["_id"],
            "name": "Python",
            "isMain": False,
            "source": "native",
        } in listed.json()

    async def test_course_tags_are_replaced_whole(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """PUT course tags replaces the set; GET returns the new set with sources."""
        [course_id] = await _upsert(api, sb, integration_id, course("1"))
        a = (await api.post("/api/v2/tags", json={"name": "A", "isMain": False})).json()["_id"]
        b = (await api.post("/api/v2/tags", json={"name": "B", "isMain": False})).json()["_id"]
        assert (
            await api.put(f"/api/v2/courses/{course_id}/tags", json={"tagIds": [a, b]})
        ).json() == [a, b]
        assert (
            await api.put(f"/api/v2/courses/{course_id}/tags", json={"tagIds": [b]})
        ).json() == [b]
        listed = await api.get(f"/api/v2/courses/{course_id}/tags")
        assert listed.json() == [{"tagId": b, "source": "native"}]

    async def test_unknown_tag_or_course_is_not_found(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """An unknown tag id gets 404 tagNotFound; an unknown course 404 courseNotFound."""
        [course_id] = await _upsert(api, sb, integration_id, course("1"))
        bad_tag = await api.put(f"/api/v2/courses/{course_id}/tags", json={"tagIds": ["c" * 24]})
        assert (bad_tag.status_code, bad_tag.json()["error"]["code"]) == (404, "tagNotFound")
        bad_course = await api.get(f"/api/v2/courses/{'d' * 24}/tags")
        assert (bad_course.status_code, bad_course.json()["error"]["code"]) == (
            404,
            "courseNotFound",
        )

    async def test_more_than_100_tags_is_invalid(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """A course takes at most 100 tag ids per PUT."""
        [course_id] = await _upsert(api, sb, integration_id, course("1"))
        response = await api.put(
            f"/api/v2/courses/{course_id}/tags", json={"tagIds": ["e" * 24] * 101}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalidInput")


class TestUsers:
    async def test_owner_speaks_french(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """The owner is found by id with lang fr."""
        response = await api.get(f"/api/v2/users/{sb.owner_id}")
        assert response.json()["lang"] == "fr"

    async def test_find_by_mail_matches_the_seed(self, api: httpx.AsyncClient) -> None:
        """mail[eq] finds a seeded learner; an unmatched learner (index 24) is absent."""
        found = await api.get("/api/v2/users", params={"mail[eq]": learner_email(3)})
        missing = await api.get("/api/v2/users", params={"mail[eq]": learner_email(24)})
        assert [u["mail"] for u in found.json()] == [learner_email(3)]
        assert missing.json() == []
