"""Properties that hold for every input: ranges, ordering, no empty strings, determinism."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mapping.builders import IMAGES, course, learning_path
from tests.mapping.builders import activity as activity_row
from udemy360.mapping import (
    MappedCourse,
    MappedStatistic,
    MappingContext,
    RejectedUrl,
    image_url,
    launch_url,
    map_activity,
    map_course,
    map_learning_path,
    payload_hash,
)
from udemy360.udemy.models import UdemyCourseActivity

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

texts = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["", "  ", "<p> </p>"]))
names = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "Ann", "ann"])), max_size=5
)
urls = st.one_of(
    st.none(),
    st.sampled_from(
        ["https://acme.udemy.com/c/", "http://acme.udemy.com/c/", "/c/", "c/", "udemyufb://x", ""]
    ),
    st.text(max_size=20),
)
datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
ratios = st.one_of(
    st.none(), st.floats(min_value=-1e3, max_value=1e3), st.sampled_from([math.nan, math.inf])
)
minutes = st.one_of(st.none(), st.floats(min_value=-1e3, max_value=1e7))
contexts = st.builds(
    MappingContext,
    account_name=st.sampled_from(["acme", "", "Big-Co"]),
    owner_lang=st.one_of(st.none(), st.sampled_from(["fr", "en_US", "xx", "zh_TW"])),
    tags_enabled=st.booleans(),
)


@st.composite
def courses(draw: st.DrawFn) -> dict[str, object]:
    """Raw course fields, including blanks and odd values."""
    return {
        "id": draw(st.integers(min_value=1, max_value=10**9)),
        "title": draw(st.text(max_size=20)),
        "description": draw(texts),
        "url": draw(urls),
        "estimated_content_length": draw(st.one_of(st.none(), st.integers(-10, 10**7))),
        "categories": draw(names),
        "instructors": draw(names),
        "locale": draw(st.one_of(st.none(), st.sampled_from(["en_US", "zh_TW", "xx_YY", ""]))),
        "images": draw(
            st.dictionaries(
                st.sampled_from(sorted(IMAGES)), st.sampled_from(["", " ", "https://i/x.jpg"])
            )
        ),
        "level": draw(
            st.one_of(st.none(), st.sampled_from(["Beginner", "All Levels", "Expert", ""]))
        ),
    }


def _strings(value: object) -> list[str]:
    """Return every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class TestCourseProperties:
    @settings(max_examples=100)
    @given(fields=courses(), ctx=contexts)
    def test_payload_has_no_empty_strings(
        self, fields: dict[str, object], ctx: MappingContext
    ) -> None:
        """Every produced ExternalCourse dumps to JSON with no empty (or blank) string."""
        result = map_course(course(**fields), ctx)
        if isinstance(result, MappedCourse):
            body = result.payload.model_dump(mode="json", by_alias=True, exclude_none=True)
            assert all(s.strip() for s in _strings(body)), body
            assert str(body["launchUrl"]).startswith("https://")
            duration = body.get("duration")
            assert duration is None or 1 <= int(str(duration)) <= 100_000

    @settings(max_examples=50)
    @given(fields=courses(), ctx=contexts)
    def test_mapping_is_deterministic(self, fields: dict[str, object], ctx: MappingContext) -> None:
        """Mapping the same course twice gives equal results, hash included."""
        assert map_course(course(**fields), ctx) == map_course(course(**fields), ctx)

    @settings(max_examples=100)
    @given(
        title=st.text(max_size=20),
        description=texts,
        editors=names,
        item_titles=st.lists(st.text(max_size=10), max_size=4),
        item_url=urls,
        ctx=contexts,
    )
    def test_path_payload_has_no_empty_strings(
        self,
        title: str,
        description: str | None,
        editors: list[str],
        item_titles: list[str],
        item_url: str | None,
        ctx: MappingContext,
    ) -> None:
        """Every produced learning-path ExternalCourse dumps to JSON with no blank string."""
        items: list[dict[str, object]] = [
            {"id": i, "title": t, "url": item_url, "type": "link", "order": i, "thumbnail": {}}
            for i, t in enumerate(item_titles)
        ]
        path = learning_path(
            title=title,
            description=description,
            editors=[{"display_name": e, "email": None} for e in editors],
            sections=[{"id": 1, "title": "S", "order": 1, "items": items}],
        )
        result = map_learning_path(path, ctx)
        assert result == map_learning_path(path, ctx)
        if isinstance(result, MappedCourse):
            body = result.payload.model_dump(mode="json", by_alias=True, exclude_none=True)
            assert all(s.strip() for s in _strings(body)), body


@st.composite
def activities(draw: st.DrawFn) -> UdemyCourseActivity:
    """Activity rows with any mix of dates, ratios and minutes."""

    def date() -> str | None:
        value = draw(st.one_of(st.none(), datetimes))
        return None if value is None else value.isoformat()

    return activity_row(
        user_email=draw(st.sampled_from(["ada@acme.com", "Anonymized User", None])),
        completion_ratio=draw(ratios),
        num_video_consumed_minutes=draw(minutes),
        course_enroll_date=date(),
        course_start_date=date(),
        course_completion_date=date(),
        course_first_completion_date=date(),
        course_last_accessed_date=date(),
    )


class TestStatisticProperties:
    @settings(max_examples=150)
    @given(row=activities(), stored=st.one_of(st.none(), datetimes))
    def test_statistic_invariants(self, row: UdemyCourseActivity, stored: datetime | None) -> None:
        """progress is an int in 0..100, timeSpent ≥ 1, first ≤ last, dates in ms Z format."""
        result = map_activity(row, course_lang="en", first_activity_at=stored)
        assert result == map_activity(row, course_lang="en", first_activity_at=stored)
        if isinstance(result, MappedStatistic):
            stat = result.statistic
            assert isinstance(stat.progress, int)
            assert 0 <= stat.progress <= 100
            assert stat.time_spent >= 1
            assert stat.first_activity_at <= stat.last_activity_at
            assert result.completed == (stat.progress == 100)
            body = stat.model_dump(mode="json", by_alias=True, exclude_none=True)
            assert ISO_MS_Z.match(str(body["firstActivityAt"]))
            assert ISO_MS_Z.match(str(body["lastActivityAt"]))
            if stored is not None:
                assert stat.first_activity_at == stored

    @settings(max_examples=150)
    @given(
        row=activities(),
        course_id=st.integers(min_value=0, max_value=2**70),
        mail=st.emails(),
        lang=st.sampled_from([None, "en", "fr", "pt-BR", "zz"]),
        stored=st.one_of(st.none(), datetimes),
    )
    def test_hash_is_the_payload_hash_of_the_statistic(
        self,
        row: UdemyCourseActivity,
        course_id: int,
        mail: str,
        lang: str | None,
        stored: datetime | None,
    ) -> None:
        """The hash built from the wire form equals payload_hash of the statistic sent."""
        row = row.model_copy(update={"course_id": course_id, "user_email": mail})
        result = map_activity(row, course_lang=lang, first_activity_at=stored)
        if isinstance(result, MappedStatistic):
            assert result.hash == payload_hash(result.statistic)


class TestLaunchUrlProperties:
    @settings(max_examples=150)
    @given(url=st.one_of(st.none(), st.text(max_size=40)), account=st.text(max_size=10))
    def test_launch_url_is_https_on_udemy_or_rejected(self, url: str | None, account: str) -> None:
        """launch_url never raises; what it returns is an https URL on a Udemy host."""
        result = launch_url(url, account)
        if not isinstance(result, RejectedUrl):
            host = urlsplit(result).hostname or ""
            assert result.startswith("https://")
            assert host in {"udemy.com", "www.udemy.com"} or host.endswith(".udemy.com")

    @settings(max_examples=150)
    @given(url=st.one_of(st.none(), st.text(max_size=40), st.from_regex(r"\Ahttps?://.{0,20}")))
    def test_image_url_is_https_or_loopback(self, url: str | None) -> None:
        """image_url never raises; what it returns is https, or http on a loopback host."""
        result = image_url(url)
        if result is not None:
            parts = urlsplit(result)
            assert parts.scheme == "https" or parts.hostname in {"localhost", "127.0.0.1", "::1"}
