from __future__ import annotations

from dataclasses import dataclass

from tests.e2e.conftest import Env, make_env
from tests.store.tables import rows
from udemy360.mapping import path_external_id
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.store import RunStatus, Store
from udemy360.store.records import StatRecord


def _tag_reads(env: Env) -> list[str]:
    """Paths of GET /api/v2/courses/{courseId}/tags calls the sandbox answered."""
    return [
        r.path
        for r in env.lms.requests
        if r.method == "GET" and r.path.startswith("/api/v2/courses/") and r.path.endswith("/tags")
    ]


def _store_snapshot(store: Store) -> dict[str, object]:
    """Everything a later run reads from the store, except the run history."""
    return {
        "items": sorted(store.items.iter("acme"), key=lambda r: r.external_id),
        "stats": rows(store, StatRecord, connection_id="acme"),
        "tags": store.tags.ids("acme"),
        "pending": store.bulk.pending("acme"),
        "connection": store.connections.get("acme"),
    }


# A course whose every mapped field is known (DESIGN.md, course table).
PROMO = [
    {
        "type": "video/mp4",
        "label": "360",
        "file": "https://cdn.example.com/v360.mp4?Expires=1&Signature=a",
    },
    {
        "type": "video/mp4",
        "label": "720",
        "file": "https://cdn.example.com/v720.mp4?Expires=1&Signature=b",
    },
]
COURSE = {
    "title": "Python for Teams",
    "description": "<p>Learn <strong>Python</strong></p><script>alert(1)</script>",
    "url": "/course/python-for-teams/",
    "images": {
        "size_480x270": "https://img.example.com/480.jpg",
        "size_240x135": "https://img.example.com/240.jpg",
    },
    "estimated_content_length": 250_000,
    "instructors": [" Ada Lovelace ", "Grace Hopper", "", "Ada Lovelace"],
    "locale": {"_class": "locale", "locale": "zh_TW"},
    "categories": ["Development", "development"],
    "primary_category": {"_class": "course_category", "id": 1, "title": "Development", "url": None},
    "primary_subcategory": {
        "_class": "course_subcategory",
        "id": 2,
        "title": "Python",
        "url": None,
    },
    "level": "Expert",
    "promo_video_url": PROMO,
    "mobile_native_deeplink": "udemyufb://discover?x=1",
}


class TestCourseMapping:
    """Over the ASGI transport and over real loopback HTTP (fixture ``any_env``)."""

    async def test_course_fields_land_as_the_design_says(self, any_env: Env) -> None:
        """Every row of the course table lands with its exact value in 360Learning."""
        env = any_env
        course_id = env.udemy_sb.tenant.add_course(**COURSE)
        report = await env.courses()
        assert report.status == "succeeded"
        held = env.course(str(course_id))
        assert held["externalId"] == str(course_id)
        assert held["name"] == "Python for Teams"
        assert held["description"] == "<p>Learn <strong>Python</strong></p>"
        assert held["launchUrl"] == "https://acme.udemy.com/course/python-for-teams/"
        assert held["imageUrl"] == "https://img.example.com/480.jpg"
        assert held["duration"] == 100_000
        assert held["sources"] == [{"name": "Ada Lovelace"}, {"name": "Grace Hopper"}]
        assert held["defaultLang"] == "zh_tw"
        assert held["subjects"] == ["Development", "Python"]
        assert held["difficultyLevel"] == "advanced"
        assert "mobileLaunchUrl" not in held
        assert "contentType" not in held
        row = env.store.items.get("acme", [str(course_id)])[str(course_id)]
        assert row.video_url is not None
        assert "720" in row.video_url  # the highest quality, kept in the store only

    async def test_defaults_and_fallbacks(self, any_env: Env) -> None:
        """No instructors → "Udemy"; no locale → owner's language; empty values are omitted."""
        env = any_env
        course_id = env.udemy_sb.tenant.add_course(
            instructors=[],
            locale=None,
            level="All Levels",
            estimated_content_length=0,
            description="",
            images={},
            url="http://acme.udemy.com/course/x/",
        )
        await env.courses()
        held = env.course(str(course_id))
        assert held["sources"] == [{"name": "Udemy"}]
        assert held["defaultLang"] == "fr"  # the sandbox owner's language
        assert held["launchUrl"] == "https://acme.udemy.com/course/x/"
        for absent in ("difficultyLevel", "duration", "description", "imageUrl"):
            assert absent not in held

    async def test_signed_video_query_is_not_a_change(self, any_env: Env) -> None:
        """Promo videos signed anew on every listing do not re-send the course."""
        env = any_env
        course_id = env.udemy_sb.tenant.add_course(**COURSE)
        await env.courses()
        writes = env.lms.write_count
        first = env.udemy_sb.tenant.get_course(course_id)
        second = env.udemy_sb.tenant.get_course(course_id)
        assert first is not None
        assert second is not None
        env.next_day()
        report = await env.courses()
        assert report.counts["updated"] == 0
        assert env.lms.write_count == writes

    async def test_bad_launch_url_is_an_item_error(self, any_env: Env) -> None:
        """A course whose URL cannot be launched fails alone; the run is partial."""
        env = any_env
        course_id = env.udemy_sb.tenant.add_course(url="ftp://nope/")
        report = await env.courses()
        assert report.status == "partial"
        assert report.counts["failed"] == 1
        assert any(str(course_id) in e for e in report.errors)
        assert str(course_id) not in env.course_ids()


class TestLearningPaths:
    async def test_paths_land_and_turning_them_off_leaves_them(self, env: Env) -> None:
        """Paths sync as lp- ids; with the option off they are neither updated nor archived."""
        env.set_options(learning_paths_enabled=True)
        await env.courses()
        path_id = ID_BASE
        record = env.udemy_sb.tenant.get_learning_path(path_id)
        assert record is not None
        held = env.course(path_external_id(path_id))
        assert held["name"] == f"[Learning Path] {record['title']}"
        assert held["defaultLang"] == "en"
        assert held["subjects"] == []
        assert "<ul><li><a href=" in str(held["description"])
        paths_before = {e for e in env.active_external_ids() if e.startswith("lp-")}
        assert paths_before
        env.set_options(learning_paths_enabled=False)
        env.next_day()
        env.udemy_sb.tenant.change_learning_path(path_id, title="Renamed")
        report = await env.courses()
        assert report.counts["archived"] == 0
        assert {e for e in env.active_external_ids() if e.startswith("lp-")} == paths_before
        assert env.course(path_external_id(path_id))["name"] == held["name"]


class TestIncremental:
    async def test_second_run_sends_nothing(self, env: Env) -> None:
        """With unchanged Udemy data, a second run writes nothing to 360Learning."""
        await env.courses()
        writes = env.lms.write_count
        env.next_day()
        report = await env.courses()
        assert report.counts["unchanged"] == 30
        assert env.lms.write_count == writes

    async def test_changed_course_is_updated(self, env: Env) -> None:
        """Only the changed course is re-sent."""
        await env.courses()
        env.next_day()
        env.udemy_sb.tenant.change_course(ID_BASE + 3, title="New title")
        report = await env.courses()
        assert report.counts["updated"] == 1
        assert env.course(str(ID_BASE + 3))["name"] == "New title"

    async def test_options_change_resends_affected_items(self, env: Env) -> None:
        """Turning tags on changes every course's hash, so every course is re-sent."""
        await env.courses()
        env.set_options(tags_enabled=True)
        env.next_day()
        report = await env.courses()
        assert report.counts["updated"] == 30


class TestArchive:
    async def test_retired_course_is_archived_and_restored(self, env: Env) -> None:
        """A course that leaves Udemy is archived; when it comes back it is restored."""
        await env.courses()
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        env.next_day()
        report = await env.courses()
        assert report.counts["archived"] == 1
        assert env.course(str(ID_BASE + 1))["_status"] == "archived"
        env.udemy_sb.tenant._courses.retired.remove(1)  # the course comes back
        env.next_day()
        report = await env.courses()
        assert report.counts["restored"] == 1
        assert env.course(str(ID_BASE + 1))["_status"] == "published"
        assert len(env.course_ids()) == 30  # no duplicate

    async def test_mass_archive_guard_refuses_then_override(self, env: Env) -> None:
        """Archiving more than 10% refuses and archives nothing; the override archives."""
        await env.courses()
        for i in range(5):
            env.udemy_sb.tenant.retire_course(ID_BASE + i)
        env.next_day()
        report = await env.courses()
        assert report.status == "refused"

        assert "5 of 30" in report.errors[0]
        row = env.store.runs.get(report.run_id or 0)
        assert row is not None
        assert row.status == RunStatus.REFUSED
        assert len(env.active_external_ids()) == 30
        env.next_day()
        report = await env.courses(allow_mass_archive=True)
        assert report.status == "succeeded"
        assert report.counts["archived"] == 5
        assert len(env.active_external_ids()) == 25


class TestDryRunAndLock:
    async def test_dry_run_sends_no_write(self, env: Env) -> None:
        """A dry run reports what it would create and sends no write at all."""
        writes = env.lms.write_count
        report = await env.courses(dry_run=True)
        assert report.counts["would_create"] == 30
        assert report.dry_run
        assert env.lms.write_count == writes
        assert env.course_ids() == {}

    async def test_held_lock_gives_locked_report(self, env: Env) -> None:
        """A run while another holds the lock reports "locked" and sends nothing."""
        writes = env.lms.write_count
        with env.store.locks.acquire("acme", owner="someone else"):
            report = await env.courses()
        assert report.status == "locked"

        assert env.lms.write_count == writes
        # recorded as a short run, so `udemy360 runs` shows it
        row = env.store.runs.get(report.run_id or 0)
        assert row is not None
        assert (row.status, row.job, row.errors) == (
            RunStatus.LOCKED,
            "courses",
            list(report.errors),
        )
        assert "someone else" in report.errors[0]

    async def test_dry_run_leaves_the_store_as_it_found_it(self, env: Env) -> None:
        """Dry catalog and statistics runs change nothing a later run reads from the store."""
        env.set_options(tags_enabled=True)
        await env.courses()
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        env.udemy_sb.tenant.change_course(ID_BASE + 2, title="Changed")
        env.next_day()
        before = _store_snapshot(env.store)
        writes = env.lms.write_count
        report = await env.courses(dry_run=True)
        assert (report.counts["would_update"], report.counts["would_archive"]) == (1, 1)
        await env.stats(dry_run=True)
        assert _store_snapshot(env.store) == before
        assert env.lms.write_count == writes

    async def test_dry_run_seen_marks_do_not_spare_a_vanished_course(self, env: Env) -> None:
        """A course a dry run saw is still archived by the real run that no longer sees it."""
        await env.courses()
        env.next_day()
        await env.stats()  # any run of the day: runs of one day share a timestamp here
        await env.courses(dry_run=True)
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        report = await env.courses()
        assert report.counts["archived"] == 1
        assert env.course(str(ID_BASE + 1))["_status"] == "archived"


class TestTags:
    async def test_tags_created_merged_and_left_alone_when_off(self) -> None:
        """Categories become tags merged with foreign ones; turning tags off stops tag writes."""
        env = await make_env(courses=10, tags_enabled=True)
        course_ext = str(ID_BASE + 2)
        report = await env.courses()
        assert report.counts["tagged"] == 10
        assert _tag_reads(env) == []  # courses created by this run carry no tags yet
        tags = {t.id: t.name for t in env.lms.world.tags.values()}
        held = env.course(course_ext)
        course_id = str(held["_id"])
        names = {tags[t].casefold() for t in env.lms.world.course_tags[course_id]}
        subjects = held["subjects"]
        assert isinstance(subjects, list)
        assert names == {str(s).casefold() for s in subjects}
        # someone adds a tag by hand; a category changes
        human = env.lms.world.create_tag({"name": "Hand picked", "isMain": False})
        env.lms.world.course_tags[course_id].append(human.id)
        env.udemy_sb.tenant.change_course(
            int(course_ext),
            categories=["Leadership"],
            primary_category=None,
            primary_subcategory=None,
        )
        env.next_day()
        await env.courses()
        assert _tag_reads(env) == [f"/api/v2/courses/{course_id}/tags"]  # existing: read first
        now_names = {
            tags.get(t) or env.lms.world.tags[t].name for t in env.lms.world.course_tags[course_id]
        }
        assert now_names == {"Hand picked", "Leadership"}
        tag_count = len(env.lms.world.tags)
        env.set_options(tags_enabled=False)
        env.next_day()
        writes_before = [r for r in env.lms.requests if "/tags" in r.path and r.method != "GET"]
        await env.courses()
        writes_after = [r for r in env.lms.requests if "/tags" in r.path and r.method != "GET"]
        assert writes_after == writes_before
        assert len(env.lms.world.tags) == tag_count
        env.store.close()


def _tag_names(env: Env, external_id: str) -> set[str]:
    """Names of the tags the course of ``external_id`` carries in 360Learning."""
    course_id = str(env.course(external_id)["_id"])
    world = env.lms.world
    return {world.tags[t].name.casefold() for t in world.course_tags.get(course_id, [])}


def _delete_tag(env: Env, name: str) -> str:
    """Delete a tag in 360Learning as an admin would (also from every course); return its id."""
    world = env.lms.world
    tag_id = next(t.id for t in world.tags.values() if t.name.casefold() == name.casefold())
    del world.tags[tag_id]
    for tags in world.course_tags.values():
        if tag_id in tags:
            tags.remove(tag_id)
    return tag_id


@dataclass
class DeleteTagAsListingStarts:
    """A progress sink that deletes a tag once the run has listed the tags."""

    env: Env
    name: str
    deleted: str | None = None

    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, n: int = 1) -> None:
        if self.deleted is None:
            self.deleted = _delete_tag(self.env, self.name)

    def finish(self, task: str) -> None:
        pass


class TestTagFailures:
    async def test_transient_tag_failure_fails_the_item_then_retries(self) -> None:
        """Tag writes failing past the retries fail that course only; a later run tags it."""
        env = await make_env(courses=5, tags_enabled=True)
        # the client tries 6 times: the first course's tag PUT fails for good, the rest pass
        env.lms.faults.fail_next("PUT", "/api/v2/courses/", 503, "serviceUnavailable", times=6)
        report = await env.courses()
        assert report.status == "partial"
        assert report.counts["failed"] == 1
        assert report.counts["tagged"] == 4
        [failed] = [e for e in env.store.items.iter("acme") if e.last_error]
        assert failed.payload_hash is None  # not "unchanged" next time
        assert _tag_names(env, failed.external_id) == set()
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert (report.counts["updated"], report.counts["tagged"]) == (1, 1)
        subjects = env.course(failed.external_id)["subjects"]
        assert isinstance(subjects, list)
        assert _tag_names(env, failed.external_id) == {str(s).casefold() for s in subjects}
        env.close()

    async def test_tag_deleted_in_360learning_is_recreated(self) -> None:
        """A tag an admin deleted is forgotten at the next run and created again when needed."""
        env = await make_env(courses=3, tags_enabled=True)
        ext = str(ID_BASE + 1)
        await env.courses()
        name = sorted(_tag_names(env, ext))[0]
        old_id = _delete_tag(env, name)
        env.udemy_sb.tenant.change_course(int(ext), title="Changed")
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert report.counts["tagged"] == 1
        assert name in _tag_names(env, ext)
        assert old_id not in env.store.tags.ids("acme").values()
        env.close()

    async def test_tag_deleted_during_the_run_is_recreated(self) -> None:
        """A tagNotFound answer makes the run list the tags again and create the missing one."""
        env = await make_env(courses=3, tags_enabled=True)
        ext = str(ID_BASE + 1)
        await env.courses()
        name = sorted(_tag_names(env, ext))[0]
        env.udemy_sb.tenant.change_course(int(ext), title="Changed")
        env.next_day()
        sink = DeleteTagAsListingStarts(env, name)
        report = await env.courses(progress=sink)
        assert sink.deleted is not None
        assert report.status == "succeeded"
        assert name in _tag_names(env, ext)
        assert sink.deleted not in env.store.tags.ids("acme").values()
        env.close()


class TestOwnerLanguage:
    async def test_missing_users_scope_is_a_warning_not_a_failure(self) -> None:
        """Without users:read the run goes on in English and says why in its errors."""
        env = await make_env(courses=3)
        env.lms.set_scopes(set(env.lms.world.credential.scopes) - {"users:read"})
        course_id = env.udemy_sb.tenant.add_course(locale=None)
        report = await env.courses()
        assert report.status == "succeeded"
        assert report.counts["created"] == 4
        assert any("owner's language" in e for e in report.errors)
        assert env.course(str(course_id))["defaultLang"] == "en"
        env.close()
