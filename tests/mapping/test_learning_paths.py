"""Learning-path mapping: one test (or table) per row of DESIGN.md's learning-path table."""

from __future__ import annotations

import dataclasses

import pytest

from tests.mapping.builders import IMAGES, item, learning_path
from udemy360.mapping import MappedCourse, MappingContext, MappingProblem, map_learning_path

THUMBS = {"size_480x270": "https://img/480.jpg", "size_240x135": "https://img/240.jpg"}


def mapped(ctx: MappingContext, **overrides: object) -> MappedCourse:
    """Map a learning path built with ``overrides`` and insist it maps."""
    result = map_learning_path(learning_path(**overrides), ctx)
    assert isinstance(result, MappedCourse), result
    return result


def sent(ctx: MappingContext, **overrides: object) -> dict[str, object]:
    """Return the JSON body item 360Learning would receive for the path."""
    return mapped(ctx, **overrides).payload.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


def section(order: int, *items: dict[str, object]) -> dict[str, object]:
    """Return one section as the API sends it."""
    return {"id": order, "title": f"Section {order}", "order": order, "items": list(items)}


class TestWholePayload:
    def test_complete_path_maps_to_expected_json(self, ctx: MappingContext) -> None:
        """A complete path produces the v2 fields of the table and nothing else."""
        assert sent(ctx) == {
            "externalId": "lp-4567",
            "name": "[Learning Path] Cloud Engineer Onboarding",
            "defaultLang": "en",
            "launchUrl": "https://acme.udemy.com/learning-paths/4567/",
            "sources": [{"name": "Ann Admin"}],
            "subjects": [],
            "description": (
                "<p>Path description</p><ul>"
                '<li><a href="https://acme.udemy.com/course/aws/">AWS Fundamentals</a></li>'
                '<li><a href="https://acme.udemy.com/course/linux/">Linux</a></li>'
                '<li><a href="https://acme.udemy.com/course/k8s/">Kubernetes</a></li>'
                "</ul>"
            ),
            "duration": 1260,
        }

    def test_result_fields(self, ctx: MappingContext) -> None:
        """A path result has kind learning_path, no tags and no video."""
        result = mapped(ctx)
        assert (result.kind, result.external_id, result.udemy_id) == (
            "learning_path",
            "lp-4567",
            4567,
        )
        assert (result.tag_names, result.video_url) == ((), None)

    def test_fields_not_sent_for_paths(self, ctx: MappingContext) -> None:
        """contentType, difficultyLevel and mobileLaunchUrl are never sent for paths."""
        body = sent(ctx)
        assert not {"contentType", "difficultyLevel", "mobileLaunchUrl"} & body.keys()


class TestIdAndName:
    def test_external_id_is_prefixed(self, ctx: MappingContext) -> None:
        """externalId is lp-{id}: course and path ids share one number space."""
        assert sent(ctx, id=900920)["externalId"] == "lp-900920"

    def test_name_is_prefixed_title(self, ctx: MappingContext) -> None:
        """name is "[Learning Path] {title}"."""
        assert sent(ctx, title=" Data 101 ")["name"] == "[Learning Path] Data 101"

    def test_empty_title_is_an_item_error(self, ctx: MappingContext) -> None:
        """A path without a title is a MappingProblem."""
        result = map_learning_path(learning_path(title="  "), ctx)
        assert isinstance(result, MappingProblem)
        assert (result.external_id, result.udemy_id) == ("lp-4567", 4567)


class TestDescription:
    def test_items_follow_section_then_item_order(self, ctx: MappingContext) -> None:
        """Items are listed section by section, each in item order, whatever the API order."""
        sections = [
            section(2, item(21, "B1", "/b1/", 1)),
            section(1, item(12, "A2", "/a2/", 2), item(11, "A1", "/a1/", 1)),
        ]
        description = str(sent(ctx, description=None, sections=sections)["description"])
        assert description.index("A1") < description.index("A2") < description.index("B1")

    @pytest.mark.parametrize(
        ("url", "expected_li"),
        [
            ("/course/x/", '<li><a href="https://acme.udemy.com/course/x/">Item</a></li>'),
            ("http://blog.example.com/p", '<li><a href="https://blog.example.com/p">Item</a></li>'),
            (None, "<li>Item</li>"),
            ("javascript:alert(1)", "<li>Item</li>"),
            ("https://user:pass@blog.example.com/p", "<li>Item</li>"),
        ],
    )
    def test_item_urls(self, ctx: MappingContext, url: str | None, expected_li: str) -> None:
        """Item URLs follow the launch-URL rules; an item without a usable URL is plain text."""
        sections = [section(1, item(1, "Item", url, 1))]
        description = sent(ctx, description=None, sections=sections)["description"]
        assert description == f"<ul>{expected_li}</ul>"

    def test_item_titles_are_escaped(self, ctx: MappingContext) -> None:
        """An item title with markup is shown as text, never interpreted."""
        sections = [section(1, item(1, "<script>x</script> & co", "/c/", 1))]
        description = str(sent(ctx, description=None, sections=sections)["description"])
        assert "<script>" not in description
        assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in description

    def test_items_without_title_are_skipped(self, ctx: MappingContext) -> None:
        """An item with a blank title is left out of the list."""
        sections = [section(1, item(1, "  ", "/a/", 1), item(2, "Kept", "/b/", 2))]
        description = sent(ctx, description=None, sections=sections)["description"]
        assert description == '<ul><li><a href="https://acme.udemy.com/b/">Kept</a></li></ul>'

    def test_path_description_is_sanitised(self, ctx: MappingContext) -> None:
        """The path's own description goes through the same allow-list as courses."""
        body = sent(ctx, description='<p onclick="x">Intro</p><script>y</script>', sections=[])
        assert body["description"] == "<p>Intro</p>"

    def test_no_description_and_no_items_is_omitted(self, ctx: MappingContext) -> None:
        """With no description and no items, no description is sent."""
        assert "description" not in sent(ctx, description="<p> </p>", sections=[])


class TestLaunchUrl:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("/learning-paths/1/", "https://acme.udemy.com/learning-paths/1/"),
            ("http://acme.udemy.com/learning-paths/1/", "https://acme.udemy.com/learning-paths/1/"),
        ],
    )
    def test_launch_url_rules_as_courses(
        self, ctx: MappingContext, url: str, expected: str
    ) -> None:
        """Path URLs follow the course launch-URL rules."""
        assert sent(ctx, url=url)["launchUrl"] == expected

    @pytest.mark.parametrize(
        "url",
        [
            None,
            "udemyufb://path/1",
            "javascript:alert(1)",
            "https://evil.example/learning-paths/1/",
            "https://user:pass@acme.udemy.com/learning-paths/1/",
            "http://127.0.0.1:8361/learning-paths/1/",
        ],
    )
    def test_unusable_url_is_an_item_error(self, ctx: MappingContext, url: str | None) -> None:
        """A path whose URL is not https on a Udemy host is a MappingProblem."""
        result = map_learning_path(learning_path(url=url), ctx)
        assert isinstance(result, MappingProblem)
        assert result.external_id == "lp-4567"
        assert "launch URL" in result.reason

    def test_configured_base_host_is_allowed(self, ctx: MappingContext) -> None:
        """A path URL on a host of ``launch_hosts`` is sent, as for courses."""
        ctx = dataclasses.replace(ctx, launch_hosts=frozenset({"127.0.0.1"}))
        url = "http://127.0.0.1:8361/learning-paths/1/"
        assert sent(ctx, url=url)["launchUrl"] == url


class TestImage:
    def test_path_image_wins(self, ctx: MappingContext) -> None:
        """A path-level image is used when the API has one."""
        sections = [section(1, item(1, "A", "/a/", 1, thumbnail=THUMBS))]
        assert sent(ctx, images=IMAGES, sections=sections)["imageUrl"] == IMAGES["size_750x422"]

    def test_first_item_thumbnail_otherwise(self, ctx: MappingContext) -> None:
        """Without a path image, the first item's thumbnail is used with the size preference."""
        sections = [
            section(2, item(3, "C", "/c/", 1, thumbnail={"size_750x422": "https://img/other.jpg"})),
            section(
                1, item(1, "A", "/a/", 1, thumbnail={}), item(2, "B", "/b/", 2, thumbnail=THUMBS)
            ),
        ]
        assert sent(ctx, images={}, sections=sections)["imageUrl"] == "https://img/480.jpg"

    @pytest.mark.parametrize("bad", ["javascript:alert(1)", "http://img.example/a.jpg"])
    def test_unsafe_path_image_falls_back_to_thumbnails(
        self, ctx: MappingContext, bad: str
    ) -> None:
        """An unsendable path image is skipped like a missing one; the thumbnail is used."""
        sections = [section(1, item(1, "A", "/a/", 1, thumbnail=THUMBS))]
        images = {"size_750x422": bad}
        assert sent(ctx, images=images, sections=sections)["imageUrl"] == "https://img/480.jpg"

    def test_unsafe_thumbnails_are_omitted(self, ctx: MappingContext) -> None:
        """With only unsendable images anywhere, the path is sent without imageUrl."""
        bad = {"size_480x270": "javascript:alert(1)"}
        sections = [section(1, item(1, "A", "/a/", 1, thumbnail=bad))]
        assert "imageUrl" not in sent(ctx, images=bad, sections=sections)

    def test_no_image_is_omitted(self, ctx: MappingContext) -> None:
        """No path image and no item thumbnail: imageUrl is omitted."""
        assert "imageUrl" not in sent(ctx, images={})


class TestLanguageSourcesDurationSubjects:
    def test_default_lang_is_en(self, ctx: MappingContext) -> None:
        """defaultLang is en whatever the owner's language (the API returns none)."""
        assert ctx.owner_lang == "fr"
        assert sent(ctx)["defaultLang"] == "en"

    @pytest.mark.parametrize(
        ("names", "expected"),
        [([" Ann ", "Bob", "Ann", ""], ["Ann", "Bob"]), ([], ["Udemy"]), (["  "], ["Udemy"])],
    )
    def test_sources_from_editors(
        self, ctx: MappingContext, names: list[str], expected: list[str]
    ) -> None:
        """Editors' display names become sources with the instructor rules."""
        editors = [{"display_name": n, "email": None} for n in names]
        assert sent(ctx, editors=editors)["sources"] == [{"name": n} for n in expected]

    @pytest.mark.parametrize(("minutes", "expected"), [(1260, 1260), (999_999, 100_000)])
    def test_duration_clamped(self, ctx: MappingContext, minutes: int, expected: int) -> None:
        """duration is estimated_content_length in minutes, clamped like courses."""
        assert sent(ctx, estimated_content_length=minutes)["duration"] == expected

    @pytest.mark.parametrize("minutes", [0, None])
    def test_duration_omitted(self, ctx: MappingContext, minutes: int | None) -> None:
        """duration is omitted when 0 or missing."""
        assert "duration" not in sent(ctx, estimated_content_length=minutes)

    def test_subjects_empty(self, ctx: MappingContext) -> None:
        """subjects is always []."""
        assert sent(ctx)["subjects"] == []


class TestVisibilityAndChanges:
    def test_private_path_is_skipped(self, ctx: MappingContext) -> None:
        """A path whose is_public is false is a MappingProblem, never a payload."""
        result = map_learning_path(learning_path(is_public=False), ctx)
        assert isinstance(result, MappingProblem)
        assert result.external_id == "lp-4567"
        assert "not public" in result.reason

    def test_missing_visibility_is_synced(self, ctx: MappingContext) -> None:
        """is_public absent (None) is not a reason to skip."""
        assert isinstance(map_learning_path(learning_path(is_public=None), ctx), MappedCourse)

    def test_last_modified_is_informational(self, ctx: MappingContext) -> None:
        """A new last_modified alone changes neither payload nor hash."""
        first = mapped(ctx, last_modified="2023-06-12T16:40:03Z")
        second = mapped(ctx, last_modified="2024-01-01T00:00:00Z")
        assert first.hash == second.hash

    def test_item_change_changes_hash(self, ctx: MappingContext) -> None:
        """A renamed item changes the description, hence the hash."""
        renamed = [section(1, item(1, "Renamed", "/a/", 1))]
        original = [section(1, item(1, "Original", "/a/", 1))]
        assert mapped(ctx, sections=renamed).hash != mapped(ctx, sections=original).hash
