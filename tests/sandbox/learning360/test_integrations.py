"""Integration configurations: create, list, edit, delete, and their documented rules."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.learning360.conftest import course, run_bulk
from udemy360.sandbox.learning360 import Learning360Sandbox


def _body(sb: Learning360Sandbox, name: str, **extra: object) -> dict[str, object]:
    return {"externalPlatform": name, "groupId": sb.group_id, "authorId": sb.owner_id, **extra}


class TestCreate:
    async def test_created_integration_is_listed_with_its_settings(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """A created integration is returned with an _id and found by externalPlatform[eq]."""
        created = await api.post(
            "/api/v2/integrations", json=_body(sb, "Udemy", defaultCompletion=True)
        )
        assert created.status_code == 201
        listed = await api.get("/api/v2/integrations", params={"externalPlatform[eq]": "Udemy"})
        assert listed.json() == [created.json()]
        assert listed.json()[0]["defaultCompletion"] is True

    async def test_same_name_in_the_same_group_is_duplicate(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """The same externalPlatform twice in one group gets 400; another group is fine."""
        await api.post("/api/v2/integrations", json=_body(sb, "Udemy"))
        again = await api.post("/api/v2/integrations", json=_body(sb, "Udemy"))
        assert (again.status_code, again.json()["error"]["code"]) == (
            400,
            "duplicateExternalPlatform",
        )
        other = await api.post(
            "/api/v2/integrations", json={**_body(sb, "Udemy"), "groupId": sb.other_group_id}
        )
        assert other.status_code == 201

    async def test_reserved_name_is_refused(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """A reserved platform name gets 400 reservedPlatformName."""
        response = await api.post("/api/v2/integrations", json=_body(sb, "Coursera"))
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "reservedPlatformName",
        )

    @pytest.mark.parametrize(
        ("field", "code"), [("groupId", "groupNotFound"), ("authorId", "userNotFound")]
    )
    async def test_unknown_group_or_author_is_not_found(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, field: str, code: str
    ) -> None:
        """An unknown groupId or authorId gets the documented 404."""
        response = await api.post(
            "/api/v2/integrations", json={**_body(sb, "Udemy"), field: "a" * 24}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (404, code)

    async def test_list_pages_by_one_hundred(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """101 integrations come back as 100 + 1 through the Link header."""
        sb.world.integrations_limit = 200
        for index in range(101):
            await api.post("/api/v2/integrations", json=_body(sb, f"P{index}"))
        first = await api.get("/api/v2/integrations")
        second = await api.get(first.links["next"]["url"])
        assert (len(first.json()), len(second.json())) == (100, 1)


class TestEditAndDelete:
    async def test_patch_changes_only_given_fields(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """PATCH keeps the fields it was not given."""
        response = await api.patch(
            f"/api/v2/integrations/{integration_id}", json={"defaultProgress": 5}
        )
        assert response.status_code == 200
        assert response.json()["defaultProgress"] == 5
        assert response.json()["externalPlatform"] == "Udemy"
        assert response.json()["defaultCompletion"] is True

    async def test_delete_archives_courses_and_blocks_restore(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """Deleting an integration archives its courses; restoring then gets integrationInactive."""
        results = await run_bulk(
            api, sb, "PUT", f"/api/v2/bulk/integrations/{integration_id}/courses", [course("1")]
        )
        course_id = results[0]["resourceId"]
        assert (await api.delete(f"/api/v2/integrations/{integration_id}")).status_code == 204
        assert sb.world.courses[str(course_id)].status == "archived"
        restore = await api.put(f"/api/v2/courses/{course_id}/archive", json={"archived": False})
        assert (restore.status_code, restore.json()["error"]["code"]) == (
            400,
            "integrationInactive",
        )
        gone = await api.put(
            f"/api/v2/bulk/integrations/{integration_id}/courses", json={"input": [course("2")]}
        )
        assert (gone.status_code, gone.json()["error"]["code"]) == (404, "integrationNotFound")
