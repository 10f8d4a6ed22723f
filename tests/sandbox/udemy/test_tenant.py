"""The lazy tenant generator: laziness, determinism, variety and admin changes."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import pytest

from udemy360.sandbox.udemy import UdemyTenant
from udemy360.sandbox.udemy.tenant import ID_BASE, RETIRED_ID_BASE

LARGE = {
    "courses": 30_000,
    "learning_paths": 1_000,
    "learners": 100_000,
    "activity_rows": 1_000_000,
}


class TestLaziness:
    def test_large_tenant_builds_without_memory(self) -> None:
        """Building the large tenant allocates almost nothing: no record exists up front."""
        tracemalloc.start()
        tenant = UdemyTenant(seed=1, **LARGE)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 50_000
        assert tenant.course_count == 30_000
        assert tenant.activity_count() == 1_000_000

    def test_far_page_costs_one_page(self) -> None:
        """Page 3000 of the activity report is computed from its indices alone."""
        tenant = UdemyTenant(seed=1, **LARGE)
        tracemalloc.start()
        rows = tenant.activity_page(299_900, 300_000)
        courses = tenant.course_page(29_990, 30_000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(rows) == 100
        assert [c["id"] for c in courses] == list(range(ID_BASE + 29_990, ID_BASE + 30_000))
        assert peak < 2_000_000


class TestDeterminism:
    def test_same_seed_same_records(self) -> None:
        """Two tenants with one seed produce identical pages."""
        a, b = UdemyTenant(seed=5), UdemyTenant(seed=5)
        assert a.course_page(0, 50) == b.course_page(0, 50)
        assert a.activity_page(100, 200) == b.activity_page(100, 200)
        assert a.learning_path_page(0, 12) == b.learning_path_page(0, 12)

    def test_other_seed_or_version_other_records(self) -> None:
        """Changing the seed or the version changes the data."""
        base = UdemyTenant(seed=5).course_page(0, 20)
        assert UdemyTenant(seed=6).course_page(0, 20) != base
        assert UdemyTenant(seed=5, version=1).course_page(0, 20) != base

    def test_signature_changes_with_nonce_only(self) -> None:
        """Promo URLs are re-signed per request while the rest of the course is stable."""
        tenant = UdemyTenant(seed=5)
        first, second = (
            tenant.get_course(ID_BASE + 1, nonce=1),
            tenant.get_course(ID_BASE + 1, nonce=2),
        )
        assert first is not None
        assert second is not None
        assert first["promo_video_url"] != second["promo_video_url"]
        assert {k: v for k, v in first.items() if k != "promo_video_url"} == {
            k: v for k, v in second.items() if k != "promo_video_url"
        }


class TestVariety:
    def test_courses_cover_the_awkward_cases(self) -> None:
        """Locales, URL shapes, instructor quirks, levels and image keys all occur."""
        courses = UdemyTenant(seed=7).course_page(0, 200)
        locales = {c["locale"]["locale"] if c["locale"] else None for c in courses}  # type: ignore[index]
        assert {None, "zh_TW", "pt_BR", "en_GB", "en_US", "ja_JP", "fr_FR"} <= locales
        urls = [str(c["url"]) for c in courses]
        assert any(u.startswith("http://") for u in urls)
        assert any(u.startswith("/course/") for u in urls)
        instructors = [c["instructors"] for c in courses]
        assert any(len(i) == 0 for i in instructors)  # type: ignore[arg-type]
        assert any("  " in i for i in instructors)  # type: ignore[operator]
        assert any(len(set(i)) < len(i) for i in instructors)  # type: ignore[arg-type]
        assert {c["level"] for c in courses} == {"All Levels", "Beginner", "Intermediate", "Expert"}
        assert all(len(c["images"]) == 11 for c in courses)  # type: ignore[arg-type]

    def test_activity_covers_the_awkward_cases(self) -> None:
        """The report holds every learner state and every email and date quirk."""
        tenant = UdemyTenant(seed=7)
        rows = tenant.activity_page(0, 1_500)
        assert any(r["completion_ratio"] == 0 and r["course_start_date"] is None for r in rows)
        assert any(
            0 < r["completion_ratio"] < 100 and not r["course_completion_date"] for r in rows
        )  # type: ignore[operator]
        assert any(r["completion_ratio"] == 100 and r["course_completion_date"] for r in rows)
        assert any(r["completion_ratio"] < 100 and r["course_completion_date"] for r in rows)  # type: ignore[operator]
        emails = [str(r["user_email"]) for r in rows]
        assert "Anonymized User" in emails
        assert any(
            e != e.strip()
            and e.strip().lower().startswith("learner")
            and e.strip() != e.strip().lower()
            for e in emails
        )
        stamps = [str(r["course_enroll_date"]) for r in rows]
        assert any("." in s for s in stamps)
        assert any("." not in s for s in stamps)
        live = set(tenant.course_ids())
        course_ids = {r["course_id"] for r in rows}
        assert any(isinstance(c, int) and c >= RETIRED_ID_BASE and c < ID_BASE for c in course_ids)
        assert all(c in live or (isinstance(c, int) and c < ID_BASE) for c in course_ids)

    def test_learning_paths_mix_items_and_visibility(self) -> None:
        """Paths include private and pro ones, and sections mix courses, links and lectures."""
        paths = UdemyTenant(seed=7).learning_path_page(0, 12)
        assert any(p.get("is_public") is False for p in paths)
        assert any("is_public" not in p for p in paths)
        assert any(p["is_pro_path"] for p in paths)
        types = {i["type"] for p in paths for s in p["sections"] for i in s["items"]}  # type: ignore[attr-defined, index]
        assert {"course", "link", "lecture"} <= types


class TestAdmin:
    def test_add_change_retire_course(self) -> None:
        """Added courses are listed last, changes show, retired courses disappear."""
        tenant = UdemyTenant(seed=7, courses=10)
        new_id = tenant.add_course(title="Brand new")
        assert tenant.course_count == 11
        assert tenant.course_page(10, 11)[0]["title"] == "Brand new"
        first = next(tenant.course_ids())
        tenant.change_course(first, title="Renamed")
        assert tenant.course_page(0, 1)[0]["title"] == "Renamed"
        tenant.retire_course(first)
        tenant.retire_course(new_id)
        assert tenant.course_count == 9
        assert first not in set(tenant.course_ids())
        assert tenant.get_course(first) is None
        with pytest.raises(KeyError):
            tenant.retire_course(first)

    def test_retired_courses_are_skipped_in_pages(self) -> None:
        """Listing positions skip retired courses without gaps or repeats."""
        tenant = UdemyTenant(seed=7, courses=20)
        for index in (0, 3, 4, 19):
            tenant.retire_course(ID_BASE + index)
        ids = [c["id"] for c in tenant.course_page(0, 100)]
        assert ids == [ID_BASE + i for i in range(20) if i not in (0, 3, 4, 19)]

    def test_learning_path_admin(self) -> None:
        """Paths can be added, changed and retired."""
        tenant = UdemyTenant(seed=7, learning_paths=3)
        path_id = tenant.add_learning_path(title="New path", is_public=True)
        tenant.change_learning_path(ID_BASE, title="Changed")
        tenant.retire_learning_path(ID_BASE + 1)
        titles = [p["title"] for p in tenant.learning_path_page(0, 10)]
        assert titles == ["Changed", "Learning path 2", "New path"]
        assert tenant.get_learning_path(path_id) is not None

    def test_advance_existing_enrollment(self) -> None:
        """Advancing a learner rewrites their existing row, completing it."""
        tenant = UdemyTenant(seed=7)
        row = tenant.activity_page(0, 1)[0]
        at = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
        tenant.advance_learner(0, int(row["course_id"]), complete=True, at=at)  # type: ignore[call-overload]
        updated = tenant.activity_page(0, 1)[0]
        assert updated["completion_ratio"] == 100.0
        assert updated["course_completion_date"] == "2025-05-01T08:00:00Z"
        assert tenant.activity_count() == 1_500

    def test_advance_new_enrollment_and_retake(self) -> None:
        """A new enrollment is appended; a retake lowers the ratio but keeps completion dates."""
        tenant = UdemyTenant(seed=7, courses=5, learners=2, activity_rows=2)
        course_id = ID_BASE + 4
        at = datetime(2025, 5, 1, tzinfo=UTC)
        tenant.advance_learner("LEARNER000001@example.com ", course_id, progress=30, at=at)
        assert tenant.activity_count() == 3
        tenant.advance_learner(1, course_id, complete=True, at=at)
        row = tenant.advance_learner(1, course_id, retake=True, progress=10, at=at)
        assert row["completion_ratio"] == 10.0
        assert row["course_first_completion_date"] == "2025-05-01T00:00:00Z"
        assert tenant.activity_count() == 3
