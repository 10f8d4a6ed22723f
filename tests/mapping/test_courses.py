"""Course mapping: one test (or table) per row of DESIGN.md's course table."""

from __future__ import annotations

import dataclasses

import pytest

from tests.mapping.builders import IMAGES, course
from udemy360.mapping import (
    MappedCourse,
    MappingContext,
    MappingProblem,
    RejectedUrl,
    launch_url,
    map_course,
    map_difficulty,
    pick_image,
)


def mapped(ctx: MappingContext, **overrides: object) -> MappedCourse:
    """Map a course built with ``overrides`` and insist it maps."""
    result = map_course(course(**overrides), ctx)
    assert isinstance(result, MappedCourse), result
    return result


def sent(ctx: MappingContext, **overrides: object) -> dict[str, object]:
    """Return the JSON body item 360Learning would receive for the course."""
    return mapped(ctx, **overrides).payload.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


class TestWholePayload:
    def test_complete_course_maps_to_expected_json(self, ctx: MappingContext) -> None:
        """A complete course produces exactly the v2 fields of the table, camelCased."""
        assert sent(ctx) == {
            "externalId": "900920",
            "name": "Planning on one sheet of paper",
            "defaultLang": "en",
            "launchUrl": "https://acme.udemy.com/course/planning/",
            "sources": [{"name": "Ann Teacher"}],
            "subjects": ["Marketing Strategy", "Marketing"],
            "description": "<p>Learn to <strong>plan</strong>.</p>",
            "imageUrl": IMAGES["size_750x422"],
            "duration": 178,
            "difficultyLevel": "beginner",
        }

    def test_kind_and_ids(self, ctx: MappingContext) -> None:
        """The result says it is a course and carries both ids."""
        result = mapped(ctx)
        assert (result.kind, result.external_id, result.udemy_id) == ("course", "900920", 900920)

    def test_fields_v2_lacks_are_never_sent(self, ctx: MappingContext) -> None:
        """mobile_native_deeplink, promo video, contentType and v1 names are not in the body."""
        body = sent(ctx)
        for key in ("mobileLaunchUrl", "contentType", "videoUrl", "authors", "tagNames", "title"):
            assert key not in body


class TestExternalId:
    @pytest.mark.parametrize(("udemy_id", "expected"), [(1, "1"), (900920, "900920")])
    def test_external_id_is_str_of_id(
        self, ctx: MappingContext, udemy_id: int, expected: str
    ) -> None:
        """externalId is str(id), unchanged, so statistics can reference it."""
        assert sent(ctx, id=udemy_id)["externalId"] == expected


class TestName:
    def test_name_is_title(self, ctx: MappingContext) -> None:
        """name is the course title (surrounding blanks trimmed)."""
        assert sent(ctx, title="  Python 101 ")["name"] == "Python 101"

    @pytest.mark.parametrize("title", ["", "   "])
    def test_empty_title_is_an_item_error(self, ctx: MappingContext, title: str) -> None:
        """A course without a title cannot be sent: it is a MappingProblem."""
        result = map_course(course(title=title), ctx)
        assert isinstance(result, MappingProblem)
        assert (result.external_id, result.udemy_id) == ("900920", 900920)
        assert "title" in result.reason


class TestDescription:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("<p>Hi <b>there</b></p>", "<p>Hi <b>there</b></p>"),
            ('<p onclick="x">Hi</p><script>bad()</script>', "<p>Hi</p>"),
            ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
        ],
    )
    def test_description_is_sanitised_html(
        self, ctx: MappingContext, raw: str, expected: str
    ) -> None:
        """HTML is kept but sanitised to the allow-list."""
        assert sent(ctx, description=raw)["description"] == expected

    @pytest.mark.parametrize("raw", [None, "", "  ", "<p> </p>", "<script>x</script>"])
    def test_empty_description_is_omitted(self, ctx: MappingContext, raw: str | None) -> None:
        """No description key is sent when nothing visible is left."""
        assert "description" not in sent(ctx, description=raw)


class TestLaunchUrl:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://acme.udemy.com/course/x/", "https://acme.udemy.com/course/x/"),
            ("http://acme.udemy.com/course/x/", "https://acme.udemy.com/course/x/"),
            ("HTTP://acme.udemy.com/course/x/?a=1", "https://acme.udemy.com/course/x/?a=1"),
            ("/course/x/", "https://acme.udemy.com/course/x/"),
            ("course/x/", "https://acme.udemy.com/course/x/"),
            ("//acme.udemy.com/course/x/", "https://acme.udemy.com/course/x/"),
            ("  https://acme.udemy.com/course/x/ ", "https://acme.udemy.com/course/x/"),
            ("https://www.udemy.com/course/x/", "https://www.udemy.com/course/x/"),
        ],
    )
    def test_usable_urls_become_https(self, ctx: MappingContext, url: str, expected: str) -> None:
        """http is upgraded and a relative URL is joined to https://{account}.udemy.com."""
        assert sent(ctx, url=url)["launchUrl"] == expected

    @pytest.mark.parametrize(
        "url",
        [
            None,
            "",
            "udemyufb://discover?coursePublishedTitle=x",
            "javascript:alert(1)",
            "ftp://acme.udemy.com/x",
            "https:///no-host",
            "https://evil.example/course/x/",
            "https://other-tenant.udemy.com/course/x/",
            "https://user:pass@acme.udemy.com/course/x/",
            "http://127.0.0.1:8361/course/x/",
        ],
    )
    def test_other_urls_are_item_errors(self, ctx: MappingContext, url: str | None) -> None:
        """A URL that is not https on a Udemy host is a MappingProblem about the launch URL."""
        result = map_course(course(url=url), ctx)
        assert isinstance(result, MappingProblem)
        assert (result.external_id, result.udemy_id) == ("900920", 900920)
        assert "launch URL" in result.reason

    def test_foreign_host_is_named(self, ctx: MappingContext) -> None:
        """The problem names the host that was refused."""
        result = map_course(course(url="https://evil.example/course/x/"), ctx)
        assert isinstance(result, MappingProblem)
        assert "evil.example" in result.reason

    def test_configured_base_host_is_allowed(self, ctx: MappingContext) -> None:
        """A launch URL on a host of ``launch_hosts`` (the sandbox, a proxy) is sent."""
        ctx = dataclasses.replace(ctx, launch_hosts=frozenset({"127.0.0.1"}))
        url = "http://127.0.0.1:8361/course/x/"
        assert sent(ctx, url=url)["launchUrl"] == url

    @pytest.mark.parametrize("account", ["", "  ", "acme.evil.com", "acme/x", "-acme"])
    def test_relative_url_needs_a_valid_account_name(self, account: str) -> None:
        """A relative URL is joined only to a single DNS-label account name."""
        assert isinstance(launch_url("/course/x/", account), RejectedUrl)

    @pytest.mark.parametrize("url", ["http://[abc/x", "https://acme.udemy.com:99999/x"])
    def test_malformed_urls_are_unusable(self, url: str) -> None:
        """A URL the parser rejects gives a reason instead of an exception."""
        assert isinstance(launch_url(url, "acme"), RejectedUrl)


class TestMobileDeeplink:
    def test_mobile_deeplink_is_not_sent(self, ctx: MappingContext) -> None:
        """mobile_native_deeplink is an app link: no mobileLaunchUrl is sent."""
        body = sent(ctx, mobile_native_deeplink="udemyufb://discover?x=1")
        assert "mobileLaunchUrl" not in body
        assert "udemyufb" not in str(body)


class TestImage:
    @pytest.mark.parametrize(
        ("keys", "expected"),
        [
            (["size_750x422", "size_480x270", "size_304x171", "size_240x135"], "size_750x422"),
            (["size_480x270", "size_304x171", "size_240x135"], "size_480x270"),
            (["size_304x171", "size_240x135"], "size_304x171"),
            (["size_240x135"], "size_240x135"),
        ],
    )
    def test_image_preference(self, ctx: MappingContext, keys: list[str], expected: str) -> None:
        """imageUrl is the first present of 750x422, 480x270, 304x171, 240x135."""
        images = {k: IMAGES[k] for k in keys} | {"size_100x100": "https://img/100.jpg"}
        assert sent(ctx, images=images)["imageUrl"] == IMAGES[expected]

    @pytest.mark.parametrize(
        "images", [{}, {"size_100x100": "https://img/100.jpg"}, {"size_750x422": "  "}]
    )
    def test_no_preferred_image_is_omitted(
        self, ctx: MappingContext, images: dict[str, str]
    ) -> None:
        """imageUrl is omitted when none of the preferred sizes is present."""
        assert "imageUrl" not in sent(ctx, images=images)

    @pytest.mark.parametrize(
        "bad",
        [
            "javascript:alert(1)",
            "http://img-c.udemycdn.com/750.jpg",
            "data:image/png;base64,AAAA",
            "https://user:pass@img.example/750.jpg",
        ],
    )
    def test_unsafe_image_falls_through(self, ctx: MappingContext, bad: str) -> None:
        """An image that is not https (loopback http aside) is skipped for the next size."""
        images = dict(IMAGES) | {"size_750x422": bad}
        assert sent(ctx, images=images)["imageUrl"] == IMAGES["size_480x270"]

    @pytest.mark.parametrize("bad", ["javascript:alert(1)", "http://img-c.udemycdn.com/a.jpg"])
    def test_course_with_only_unsafe_images_is_sent_without_one(
        self, ctx: MappingContext, bad: str
    ) -> None:
        """With no sendable image, the course is still mapped and imageUrl is omitted."""
        body = sent(ctx, images=dict.fromkeys(IMAGES, bad))
        assert "imageUrl" not in body
        assert bad not in str(body)

    def test_loopback_http_image_is_kept(self, ctx: MappingContext) -> None:
        """Plain http is accepted for a loopback image (the sandboxes)."""
        url = "http://127.0.0.1:8361/img/750.jpg"
        assert sent(ctx, images={"size_750x422": url})["imageUrl"] == url

    def test_pick_image_skips_blank_entries(self) -> None:
        """A blank preferred size falls through to the next one."""
        assert pick_image({"size_750x422": "", "size_480x270": "https://i/480.jpg"}) == (
            "https://i/480.jpg"
        )


class TestDuration:
    @pytest.mark.parametrize(
        ("minutes", "expected"), [(178, 178), (1, 1), (100_000, 100_000), (250_000, 100_000)]
    )
    def test_duration_is_clamped_minutes(
        self, ctx: MappingContext, minutes: int, expected: int
    ) -> None:
        """duration is estimated_content_length in minutes, at most 100000."""
        assert sent(ctx, estimated_content_length=minutes)["duration"] == expected

    @pytest.mark.parametrize("minutes", [0, None, -5])
    def test_missing_duration_is_omitted(self, ctx: MappingContext, minutes: int | None) -> None:
        """duration is omitted when 0 or missing."""
        assert "duration" not in sent(ctx, estimated_content_length=minutes)


class TestSources:
    @pytest.mark.parametrize(
        ("instructors", "expected"),
        [
            (["Ann"], ["Ann"]),
            ([" Ann ", "", "Bob", "Ann", "   ", "Cleo"], ["Ann", "Bob", "Cleo"]),
            (["大森 剛"], ["大森 剛"]),
            ([], ["Udemy"]),
            (["", "  "], ["Udemy"]),
        ],
    )
    def test_sources_from_instructors(
        self, ctx: MappingContext, instructors: list[str], expected: list[str]
    ) -> None:
        """One source per instructor (trimmed, blanks and duplicates dropped); Udemy when none."""
        assert sent(ctx, instructors=instructors)["sources"] == [{"name": n} for n in expected]


class TestDefaultLang:
    @pytest.mark.parametrize(
        ("locale", "owner", "expected"),
        [
            ("en_US", "fr", "en"),
            ("zh_TW", None, "zh_tw"),
            ("pt_BR", None, "pt_BR"),
            (None, "fr", "fr"),
            ("xx_YY", "de", "de"),
            (None, None, "en"),
        ],
    )
    def test_default_lang(
        self, ctx: MappingContext, locale: str | None, owner: str | None, expected: str
    ) -> None:
        """defaultLang: v2 code, else language part, else the owner's language, else en."""
        ctx = dataclasses.replace(ctx, owner_lang=owner)
        assert sent(ctx, locale=locale)["defaultLang"] == expected


class TestSubjects:
    @pytest.mark.parametrize(
        ("categories", "primary", "sub", "expected"),
        [
            (
                ["Marketing Strategy"],
                "Marketing",
                "Marketing Strategy",
                ["Marketing Strategy", "Marketing"],
            ),
            (["python"], "Development", "Python", ["python", "Development"]),
            ([" IT ", "", "it"], None, None, ["IT"]),
            ([], "Business", None, ["Business"]),
            ([], None, None, []),
        ],
    )
    def test_subjects(
        self,
        ctx: MappingContext,
        categories: list[str],
        primary: str | None,
        sub: str | None,
        expected: list[str],
    ) -> None:
        """Categories then primary and subcategory titles, trimmed, de-duplicated ignoring case."""
        body = sent(
            ctx,
            categories=categories,
            primary_category={"id": 1, "title": primary, "url": None} if primary else None,
            primary_subcategory={"id": 2, "title": sub, "url": None} if sub else None,
        )
        assert body["subjects"] == expected


class TestTags:
    def test_tag_names_are_the_subjects_when_tags_are_on(self, ctx: MappingContext) -> None:
        """With tag sync on, tag_names are the same titles as subjects."""
        result = mapped(dataclasses.replace(ctx, tags_enabled=True))
        assert result.tag_names == ("Marketing Strategy", "Marketing")
        assert list(result.tag_names) == result.payload.subjects

    def test_no_tag_names_when_tags_are_off(self, ctx: MappingContext) -> None:
        """With tag sync off, no tag names are produced."""
        assert mapped(ctx).tag_names == ()


class TestDifficulty:
    @pytest.mark.parametrize(
        ("level", "expected"),
        [
            ("Beginner", "beginner"),
            ("Intermediate", "intermediate"),
            ("Expert", "advanced"),
            ("Beginner Level", "beginner"),
            ("expert level", "advanced"),
            ("All Levels", None),
            ("Wizard", None),
            (None, None),
        ],
    )
    def test_map_difficulty(self, level: str | None, expected: str | None) -> None:
        """Beginner/Intermediate/Expert map to beginner/intermediate/advanced; others to None."""
        assert map_difficulty(level) == expected

    def test_all_levels_is_omitted(self, ctx: MappingContext) -> None:
        """ "All Levels" sends no difficultyLevel at all."""
        assert "difficultyLevel" not in sent(ctx, level="All Levels")


class TestPromoVideo:
    def test_highest_quality_video_is_kept_not_sent(self, ctx: MappingContext) -> None:
        """The highest-quality promo video is kept on the result and absent from the payload."""
        result = mapped(ctx)
        assert result.video_url == "https://mp4.udemycdn.com/720.mp4?Expires=1"
        assert "mp4" not in str(result.payload.model_dump(mode="json", by_alias=True))

    def test_no_video(self, ctx: MappingContext) -> None:
        """A course without promo videos has no video URL."""
        assert mapped(ctx, promo_video_url=[]).video_url is None


def _videos(query: str, name: str = "720") -> list[dict[str, str]]:
    """Return one promo video whose signed file has the given name and query string."""
    return [
        {
            "type": "video/mp4",
            "label": "720",
            "file": f"https://mp4.udemycdn.com/{name}.mp4?{query}",
        }
    ]


class TestHash:
    def test_signed_query_string_never_counts(self, ctx: MappingContext) -> None:
        """Two courses differing only in the promo video's signature hash equal."""
        first = mapped(ctx, promo_video_url=_videos("Expires=1&Signature=aaa&Key-Pair-Id=k"))
        second = mapped(ctx, promo_video_url=_videos("Expires=2&Signature=bbb&Key-Pair-Id=k"))
        assert first.hash == second.hash

    def test_new_video_file_counts(self, ctx: MappingContext) -> None:
        """A different video file (path) is a change."""
        first = mapped(ctx, promo_video_url=_videos("Expires=1", "a"))
        second = mapped(ctx, promo_video_url=_videos("Expires=1", "b"))
        assert first.hash != second.hash

    def test_hash_is_stable(self, ctx: MappingContext) -> None:
        """Mapping the same course twice gives the same 64-hex-digit hash."""
        assert mapped(ctx).hash == mapped(ctx).hash
        assert len(mapped(ctx).hash) == 64

    def test_payload_change_changes_hash(self, ctx: MappingContext) -> None:
        """Any change of a sent field changes the hash."""
        assert mapped(ctx).hash != mapped(ctx, title="Another title").hash

    def test_tag_toggle_changes_hash(self, ctx: MappingContext) -> None:
        """Turning tag sync on re-sends courses (tags are part of the hash)."""
        on = mapped(dataclasses.replace(ctx, tags_enabled=True))
        assert on.hash != mapped(ctx).hash
        assert on.payload == mapped(ctx).payload

    def test_tag_toggle_counts_even_without_categories(self, ctx: MappingContext) -> None:
        """A course with no category still re-hashes when tag sync is toggled."""
        bare: dict[str, object] = {
            "categories": [],
            "primary_category": None,
            "primary_subcategory": None,
        }
        on = mapped(dataclasses.replace(ctx, tags_enabled=True), **bare)
        assert on.hash != mapped(ctx, **bare).hash

    def test_owner_language_counts_only_where_used(self, ctx: MappingContext) -> None:
        """Changing the owner's language re-hashes only courses that fall back to it."""
        german = dataclasses.replace(ctx, owner_lang="de")
        assert mapped(ctx).hash == mapped(german).hash
        assert mapped(ctx, locale=None).hash != mapped(german, locale=None).hash
