"""Bulk results paired with the keys sent: by position, each echo checked, nothing dropped."""

from __future__ import annotations

import logging

import httpx
import pytest

from udemy360.learning360 import (
    BulkOutcome,
    ItemErrorKind,
    Learning360Client,
    Learning360Credentials,
    Learning360ResponseError,
    StatisticKey,
    UnpairedResult,
)

CREDS = Learning360Credentials(client_id="client", client_secret="s3cret-value")
OP = "6650ab00bb11cc22dd33ef01"


def _client(results: object) -> Learning360Client:
    """A client whose operation results are ``results``, as hand-built JSON."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        assert request.url.path == f"/api/v2/bulk/operations/{OP}/results"
        if isinstance(results, bytes):
            return httpx.Response(200, content=results)
        return httpx.Response(200, json=results)

    return Learning360Client(CREDS, transport=httpx.MockTransport(route))


def ok(external_id: str, resource_id: str | None = None) -> dict[str, object]:
    return {
        "input": {"externalId": external_id, "name": f"Course {external_id}"},
        "status": "success",
        "resourceId": resource_id or f"c{external_id}",
    }


def err(external_id: str, message: str, **extra: object) -> dict[str, object]:
    return {
        "input": {"externalId": external_id},
        "status": "error",
        "errorMessage": message,
        **extra,
    }


def stat(course: str, user: str, *, kind: str = "mail", **result: object) -> dict[str, object]:
    echo = {
        "courseIdentifier": {"type": "externalId", "value": course},
        "userIdentifier": {"type": kind, "value": user},
        "progress": 40,
    }
    return {"input": echo, "status": "success", "resourceId": "a1", **result}


async def courses(results: object, sent: list[str]) -> BulkOutcome[str]:
    async with _client(results) as client:
        return await client.get_course_results(OP, sent)


async def statistics(results: object, sent: list[StatisticKey]) -> BulkOutcome[StatisticKey]:
    async with _client(results) as client:
        return await client.get_statistic_results(OP, sent)


class TestCoursePairing:
    async def test_right_order_pairs_every_key(self):
        """Results in input order give each externalId its course id or its error."""
        outcome = await courses([ok("1"), err("2", "Bad launchUrl."), ok("3")], ["1", "2", "3"])
        assert outcome.complete
        assert [(r.key, r.ok, r.resource_id) for r in outcome] == [
            ("1", True, "c1"),
            ("2", False, None),
            ("3", True, "c3"),
        ]
        assert outcome["3"].resource_id == "c3"
        failed = outcome["2"].error
        assert failed is not None
        assert (failed.kind, failed.message, failed.code) == (
            ItemErrorKind.OTHER,
            "Bad launchUrl.",
            None,
        )
        assert [r.key for r in outcome.succeeded] == ["1", "3"]
        assert [r.key for r in outcome.failed] == ["2"]

    async def test_shuffled_echo_is_not_trusted(self):
        """Results whose echo names another item are unpaired; their items get no result."""
        outcome = await courses([ok("2"), ok("1")], ["1", "2"])
        assert not outcome.complete
        assert outcome.unpaired == (
            UnpairedResult(0, "other_item", expected="1", echoed="2"),
            UnpairedResult(1, "other_item", expected="2", echoed="1"),
        )
        assert [r.ok for r in outcome] == [False, False]
        assert {r.error.kind for r in outcome.failed if r.error} == {ItemErrorKind.NO_RESULT}
        assert all(r.resource_id is None for r in outcome)

    async def test_duplicate_echo_is_unpaired(self):
        """A result repeating its neighbour's echo is unpaired; the neighbour keeps its own."""
        outcome = await courses([ok("1"), ok("1", "dup")], ["1", "2"])
        assert outcome.unpaired == (UnpairedResult(1, "other_item", expected="2", echoed="1"),)
        assert outcome["1"].resource_id == "c1"
        assert outcome["2"].error is not None
        assert outcome["2"].error.kind is ItemErrorKind.NO_RESULT

    async def test_missing_results_fail_their_items(self):
        """Sent keys beyond the last result fail with 'no result for this item'."""
        outcome = await courses([ok("1")], ["1", "2", "3"])
        assert not outcome.complete
        assert outcome.unpaired == ()
        assert outcome.result_count == 1
        assert [r.ok for r in outcome] == [True, False, False]
        missing = outcome["3"].error
        assert missing is not None
        assert (missing.kind, missing.message) == (
            ItemErrorKind.NO_RESULT,
            "no result for this item",
        )

    async def test_extra_results_are_reported(self):
        """Results past the end are unpaired with their echo; the sent items are kept."""
        outcome = await courses([ok("1"), ok("9"), {"bogus": True}], ["1"])
        assert not outcome.complete
        assert outcome["1"].ok
        assert outcome.unpaired == (
            UnpairedResult(1, "extra", expected=None, echoed="9"),
            UnpairedResult(2, "extra", expected=None, echoed=None),
        )

    @pytest.mark.parametrize(
        "result",
        [
            {"status": "success", "resourceId": "x"},  # no input echoed
            {"input": {"externalId": "1"}, "status": "success"},  # success without resourceId
            {"input": {"externalId": "1"}, "status": "pending"},
            ["not", "an", "object"],
        ],
    )
    async def test_unreadable_result_is_unpaired(self, result):
        """A result unlike the contract's is unpaired, and its item has no result."""
        outcome = await courses([result, ok("2")], ["1", "2"])
        assert outcome.unpaired == (UnpairedResult(0, "unreadable", expected="1", echoed=None),)
        assert not outcome["1"].ok
        assert outcome["2"].ok

    async def test_a_failure_wins_for_a_key_sent_twice(self):
        """When one externalId was sent twice, looking it up shows the failed one."""
        outcome = await courses([ok("1"), err("1", "Conflict.")], ["1", "1"])
        assert outcome.complete
        assert len(outcome) == 2
        assert not outcome["1"].ok
        assert outcome.get("404") is None

    async def test_body_that_is_not_an_array_is_an_operation_error(self):
        """A results body that is no JSON array raises Learning360ResponseError."""
        with pytest.raises(Learning360ResponseError):
            await courses({"results": []}, ["1"])

    async def test_deep_nesting_is_an_operation_error(self):
        """A results body nested absurdly deep is refused, not a crash."""
        with pytest.raises(Learning360ResponseError):
            await courses(b"[" * 100_000 + b"]" * 100_000, ["1"])

    async def test_incomplete_outcome_is_logged(self, caplog):
        """An outcome that does not line up leaves a warning naming the operation."""
        with caplog.at_level(logging.WARNING, logger="udemy360.learning360.client"):
            await courses([], ["1"])
        assert OP in caplog.text


class TestStatisticPairing:
    async def test_echo_with_other_mail_case_pairs(self):
        """An echoed mail in another case names the same learner."""
        sent = [StatisticKey("7", "mail", "jane@acme.com")]
        outcome = await statistics([stat("7", "Jane@ACME.com")], sent)
        assert outcome.complete
        assert outcome[sent[0]].ok

    async def test_echo_of_another_learner_or_course_is_unpaired(self):
        """An echo naming another learner, course or identifier type is unpaired."""
        sent = [
            StatisticKey("7", "mail", "a@x.io"),
            StatisticKey("7", "mail", "b@x.io"),
            StatisticKey("8", "internalId", "u1"),
        ]
        results = [stat("7", "b@x.io"), stat("9", "b@x.io"), stat("8", "u1", kind="mail")]
        outcome = await statistics(results, sent)
        assert [u.echoed for u in outcome.unpaired] == [
            StatisticKey("7", "mail", "b@x.io"),
            StatisticKey("9", "mail", "b@x.io"),
            StatisticKey("8", "mail", "u1"),
        ]
        assert [u.index for u in outcome.unpaired] == [0, 1, 2]
        assert not outcome.succeeded

    async def test_unknown_learner_is_classified(self):
        """A per-item error in a known wording is classified against the sent learner."""
        sent = [StatisticKey("7", "mail", "x@y.com"), StatisticKey("7", "mail", "z@y.com")]
        results = [
            stat("7", "x@y.com", status="error", errorMessage="User 'x@y.com' not found."),
            stat("7", "z@y.com", status="error", errorMessage="User 'x@y.com' not found."),
        ]
        outcome = await statistics(results, sent)
        kinds = [r.error.kind for r in outcome if r.error]
        assert kinds == [ItemErrorKind.UNKNOWN_LEARNER, ItemErrorKind.OTHER]

    async def test_code_sent_with_the_item_is_kept_and_decides(self):
        """An errorCode with the item is read, and it classifies whatever the wording."""
        sent = [StatisticKey("7", "mail", "x@y.com")]
        results = [
            stat("7", "x@y.com", status="error", errorMessage="Nope.", errorCode="userNotFound")
        ]
        outcome = await statistics(results, sent)
        error = outcome[sent[0]].error
        assert error is not None
        assert (error.kind, error.code, error.message) == (
            ItemErrorKind.UNKNOWN_LEARNER,
            "userNotFound",
            "Nope.",
        )

    async def test_echo_naming_course_by_internal_id_is_unpaired(self):
        """An echo that names its course by 360Learning id names no key we sent."""
        result = {
            "input": {
                "courseIdentifier": {"type": "internalId", "value": "7"},
                "userIdentifier": {"type": "mail", "value": "x@y.com"},
            },
            "status": "success",
            "resourceId": "a1",
        }
        outcome = await statistics([result], [StatisticKey("7", "mail", "x@y.com")])
        assert outcome.unpaired == (
            UnpairedResult(
                0, "other_item", expected=StatisticKey("7", "mail", "x@y.com"), echoed=None
            ),
        )
