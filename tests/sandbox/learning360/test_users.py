"""The sandbox's user directory: listing with filters and pages, and its administration."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.learning360.conftest import FakeClock
from udemy360.sandbox.learning360 import ApiError, Learning360Sandbox
from udemy360.sandbox.seed import learner_email


async def listing(
    api: httpx.AsyncClient, params: dict[str, str] | None = None
) -> list[dict[str, object]]:
    """Every user the listing returns, following Link headers."""
    users: list[dict[str, object]] = []
    response = await api.get("/api/v2/users", params=params)
    while True:
        assert response.status_code == 200, response.text
        users.extend(response.json())
        link = response.links.get("next", {}).get("url")
        if not link:
            return users
        response = await api.get(link)


class TestListing:
    async def test_pages_of_500_with_link(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """The listing comes 500 users a page; the last page has no Link header."""
        for i in range(480):
            sb.add_user(f"extra{i}@example.org")
        first = await api.get("/api/v2/users")
        assert len(first.json()) == 500
        assert "next" in first.links
        users = await listing(api)
        assert len(users) == len(sb.world.users) > 500
        assert len({u["_id"] for u in users}) == len(users)

    async def test_status_filter(self, api: httpx.AsyncClient, sb: Learning360Sandbox) -> None:
        """status[eq] and status[ne] select by status."""
        sb.add_user("invited@example.org", status="invited")
        sb.delete_user(learner_email(2))
        invited = await listing(api, {"status[eq]": "invited"})
        deleted = await listing(api, {"status[eq]": "deleted"})
        others = await listing(api, {"status[ne]": "active"})
        assert [u["mail"] for u in invited] == ["invited@example.org"]
        assert [u["mail"] for u in deleted] == [learner_email(2)]
        assert {u["mail"] for u in others} == {"invited@example.org", learner_email(2)}

    async def test_mail_filter(self, api: httpx.AsyncClient, sb: Learning360Sandbox) -> None:
        """mail[eq] finds one user (deleted ones too); mail[in] several."""
        sb.delete_user(learner_email(2))
        found = await listing(api, {"mail[eq]": learner_email(2)})
        assert [(u["mail"], u["status"]) for u in found] == [(learner_email(2), "deleted")]
        both = await listing(
            api, {"mail[in][0]": learner_email(3), "mail[in][1]": learner_email(4)}
        )
        assert sorted(str(u["mail"]) for u in both) == [learner_email(3), learner_email(4)]
        assert await listing(api, {"mail[eq]": learner_email(24)}) == []

    async def test_mail_and_status_combine(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """Filters combine: a deleted user is not found among the active ones."""
        sb.delete_user(learner_email(2))
        assert await listing(api, {"mail[eq]": learner_email(2), "status[eq]": "active"}) == []

    async def test_unknown_status_is_invalid(self, api: httpx.AsyncClient) -> None:
        """A status outside the contract's enum is refused with invalidInput."""
        response = await api.get("/api/v2/users", params={"status[eq]": "suspended"})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalidInput")

    async def test_needs_users_read(self, api: httpx.AsyncClient, sb: Learning360Sandbox) -> None:
        """Without users:read the listing is 403 invalid_scope."""
        sb.set_scopes(set(sb.world.credential.scopes) - {"users:read"})
        response = await api.get("/api/v2/users")
        assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_scope")


class TestAdministration:
    def test_add_user(self, sb: Learning360Sandbox) -> None:
        """add_user puts a user in the directory, active unless told otherwise."""
        added = sb.add_user("New.Hire@Example.org", first_name="Nia", lang="fr")
        assert (added["mail"], added["status"], added["firstName"], added["lang"]) == (
            "New.Hire@Example.org",
            "active",
            "Nia",
            "fr",
        )
        assert sb.world.user_by("mail", "new.hire@example.org") is not None

    def test_mail_already_used(self, sb: Learning360Sandbox) -> None:
        """A mail of a user who is not deleted cannot be added twice."""
        with pytest.raises(ApiError) as info:
            sb.add_user(learner_email(1).upper())
        assert info.value.code == "mailAlreadyUsed"

    def test_delete_then_restore_keeps_the_id(
        self, sb: Learning360Sandbox, clock: FakeClock
    ) -> None:
        """Deleting dates the deletion; adding the mail again restores the same user."""
        user = sb.world.user_by("mail", learner_email(1))
        assert user is not None
        user_id = user.id
        deleted = sb.delete_user(learner_email(1))
        assert (deleted["status"], deleted["deletedAt"]) == (
            "deleted",
            ["2025-06-15T15:06:40.000Z"],
        )
        clock.advance(60)
        restored = sb.add_user(learner_email(1), status="invited")
        assert (restored["_id"], restored["status"]) == (user_id, "invited")
        assert restored["reactivatedAt"] == ["2025-06-15T15:07:40.000Z"]

    def test_set_status(self, sb: Learning360Sandbox) -> None:
        """set_user_status changes the status; a status outside the enum is refused."""
        assert sb.set_user_status(learner_email(1), "invited")["status"] == "invited"
        with pytest.raises(ApiError):
            sb.set_user_status(learner_email(1), "suspended")
        with pytest.raises(ApiError) as info:
            sb.set_user_status(learner_email(24), "active")
        assert info.value.code == "userNotFound"

    async def test_http_administration(
        self, raw: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """POST and PATCH /_sandbox/users add a user and change its status, unlogged."""
        added = await raw.post("/_sandbox/users", json={"mail": "x@example.org"})
        assert (added.status_code, added.json()["status"]) == (201, "active")
        again = await raw.post("/_sandbox/users", json={"mail": "x@example.org"})
        assert (again.status_code, again.json()["error"]["code"]) == (400, "mailAlreadyUsed")
        changed = await raw.patch(
            "/_sandbox/users", json={"mail": "x@example.org", "status": "deleted"}
        )
        assert changed.json()["status"] == "deleted"
        unknown = await raw.patch(
            "/_sandbox/users", json={"mail": "nobody@x.io", "status": "active"}
        )
        assert unknown.status_code == 404
        listed = (await raw.get("/_sandbox/users")).json()
        assert {"mail": "x@example.org", "status": "deleted"}.items() <= next(
            u for u in listed if u["mail"] == "x@example.org"
        ).items()
        assert sb.requests == []
