"""Page envelopes, per-record problems and the guard that ends a listing a server will not end."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from udemy360.udemy import UdemyCourse, safe_text
from udemy360.udemy.pagination import (
    Envelope,
    ListingGuard,
    describe_validation_error,
    max_pages,
    page_count,
    parse_records,
)


def envelope(count: int, records: int, *, more: bool = True) -> Envelope:
    results = [{"id": i + 1, "title": "t"} for i in range(records)]
    nxt = "https://acme.udemy.com/api-2.0/organizations/1/courses/list/?page=9" if more else None
    return Envelope.model_validate({"count": count, "next": nxt, "results": results})


class TestListingGuard:
    def test_natural_end_is_not_a_stop(self) -> None:
        """A page without a next link ends the listing without any stop."""
        guard = ListingGuard(10, 10)
        assert guard.stop_after(1, envelope(10, 10, more=False)) is None

    def test_count_reached_ends_the_listing(self) -> None:
        """Once count records are read, a further next link is not followed."""
        guard = ListingGuard(25, 10)
        assert guard.stop_after(1, envelope(25, 10)) is None
        assert guard.stop_after(2, envelope(25, 10)) is None
        stop = guard.stop_after(3, envelope(25, 5))
        assert stop is not None
        assert (stop.kind, stop.page) == ("count_reached", 3)

    def test_empty_page_with_next_ends_the_listing(self) -> None:
        """A page with no records that links further ends the listing."""
        guard = ListingGuard(1_000, 10)
        assert guard.stop_after(1, envelope(1_000, 10)) is None
        stop = guard.stop_after(2, envelope(1_000, 0))
        assert stop is not None
        assert stop.kind == "empty_page"

    def test_page_cap_ends_a_listing_that_trickles_records(self) -> None:
        """One record per page after a full first page stops at the cap count allows."""
        guard = ListingGuard(30, 10)
        stops = [guard.stop_after(1, envelope(30, 10))]
        number = 1
        while stops[-1] is None:
            number += 1
            stops.append(guard.stop_after(number, envelope(30, 1)))
        stop = stops[-1]
        assert stop is not None
        assert stop.kind == "page_cap"
        assert number == max_pages(30, 10) == 5
        assert "14 of 30" in stop.reason

    @pytest.mark.parametrize(
        ("count", "size", "pages", "cap"),
        [
            (0, 100, 1, 3),
            (1, 100, 1, 3),
            (100, 100, 1, 3),
            (101, 100, 2, 4),
            (30_000, 100, 300, 305),
        ],
    )
    def test_page_arithmetic(self, count: int, size: int, pages: int, cap: int) -> None:
        """The cap is the page count plus two pages and 1% of slack."""
        assert page_count(count, size) == pages
        assert max_pages(count, size) == cap

    def test_page_count_is_exact_for_huge_counts(self) -> None:
        """Integer arithmetic: no float rounding near 2**63."""
        assert page_count(2**63 - 1, 1) == 2**63 - 1


class TestEnvelope:
    @pytest.mark.parametrize(
        "body",
        [
            {"count": 2**63, "next": None, "results": []},
            {"count": -1, "next": None, "results": []},
            {"count": "3", "next": None, "results": []},
            {"count": 1, "next": 42, "results": []},
            {"count": 1, "next": None, "results": None},
            {"count": 1, "next": None},
        ],
    )
    def test_hostile_envelopes_are_refused(self, body: dict[str, object]) -> None:
        """Out-of-range counts, wrong types and missing keys fail the envelope."""
        with pytest.raises(ValidationError):
            Envelope.model_validate(body)

    def test_any_record_value_passes_the_envelope(self) -> None:
        """Records are not looked into here: a deep or odd one fails alone, later."""
        deep: object = []
        for _ in range(500):
            deep = [deep]
        page = Envelope.model_validate({"count": 3, "next": None, "results": [deep, None, 7]})
        assert len(page.results) == 3


class TestProblems:
    def test_hostile_records_become_problems_with_safe_reasons(self) -> None:
        """Bad records are problems with safe, short reasons and ids; good ones are kept."""
        raw = [
            {"id": 1, "title": "good"},
            {"id": 2**70, "title": "huge id"},
            {"id": -3, "title": "negative id"},
            {"id": "12\x00\ud800", "title": "string id"},
            {"id": 4, "title": None},
            {"id": 5, "title": "t", "last_update_date": "2024-13-01\x00\ud800" * 100},
            None,
            "a string",
        ]
        env = Envelope.model_validate({"count": len(raw), "next": None, "results": raw})
        page = parse_records(2, env, UdemyCourse.model_validate)
        assert [c.id for c in page.items] == [1]
        assert [p.index for p in page.problems] == [1, 2, 3, 4, 5, 6, 7]
        ids = [p.record_id for p in page.problems]
        assert ids == [str(2**70), "-3", "12\ufffd", "4", "5", None, None]
        for problem in page.problems:
            assert problem.page == 2
            assert problem.reason
            assert safe_text(problem.reason) == problem.reason
            assert len(problem.reason) <= 300
        assert "id" in page.problems[0].reason

    def test_summary_never_echoes_input(self) -> None:
        """The reason names the field and the rule, not the value (it may hold a signed URL)."""
        with pytest.raises(ValidationError) as info:
            UdemyCourse.model_validate({"id": "Signature=abc", "title": 5})
        summary = describe_validation_error(info.value)
        assert "abc" not in summary
        assert "id" in summary
        assert "title" in summary
