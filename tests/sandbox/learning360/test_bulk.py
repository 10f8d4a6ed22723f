"""Bulk operations: lifecycle by the sandbox clock, results, concurrency, faults, rate limits."""

from __future__ import annotations

from typing import cast

import httpx
import pytest

from tests.sandbox.learning360.conftest import FakeClock, course, run_bulk, stat
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.learning360._faults import ResultsFaultKind
from udemy360.sandbox.seed import learner_email


def _echoed(results: list[dict[str, object]], field: str) -> list[object]:
    """The ``field`` of each result's echoed input."""
    return [cast(dict[str, object], r["input"]).get(field) for r in results]


class TestLifecycle:
    async def test_operation_moves_through_its_stages_by_the_clock(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, clock: FakeClock, integration_id: str
    ) -> None:
        """An upsert is pending, queued, running, then completed as the sandbox clock moves."""
        sb.faults.bulk_delays(pending=1.0, queued=1.0, per_item=0.5)
        response = await api.put(
            f"/api/v2/bulk/integrations/{integration_id}/courses",
            json={"input": [course("1"), course("2")]},
        )
        assert response.status_code == 202
        assert response.content == b""
        location = response.headers["Location"]
        assert location.startswith("http://test/api/v2/bulk/operations/")
        seen = []
        for _ in range(4):
            seen.append((await api.get(location)).json()["status"])
            clock.advance(1.0)
        assert seen == ["pending", "queued", "running", "completed"]
        assert len(sb.world.courses) == 2

    async def test_results_before_the_end_are_bulk_operation_not_run(
        self, api: httpx.AsyncClient, integration_id: str
    ) -> None:
        """Asking for results of an unfinished operation gets 400 bulkOperationNotRun."""
        response = await api.put(
            f"/api/v2/bulk/integrations/{integration_id}/courses", json={"input": [course("1")]}
        )
        results = await api.get(response.headers["Location"] + "/results")
        assert (results.status_code, results.json()["error"]["code"]) == (
            400,
            "bulkOperationNotRun",
        )

    async def test_results_pair_each_input_with_its_course_id(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """Each result echoes its input, in order, with the 360Learning courseId as resourceId."""
        results = await run_bulk(
            api,
            sb,
            "PUT",
            f"/api/v2/bulk/integrations/{integration_id}/courses",
            [course("a"), course("b")],
        )
        assert [r["input"]["externalId"] for r in results] == ["a", "b"]  # type: ignore[index]
        assert [r["resourceId"] for r in results] == [
            sb.world.external_index[(integration_id, "a")],
            sb.world.external_index[(integration_id, "b")],
        ]

    async def test_unknown_operation_is_not_found(self, api: httpx.AsyncClient) -> None:
        """An unknown operation id gets 404 bulkOperationNotFound."""
        response = await api.get("/api/v2/bulk/operations/" + "0" * 24)
        assert (response.status_code, response.json()["error"]["code"]) == (
            404,
            "bulkOperationNotFound",
        )

    async def test_list_is_paginated_by_twenty_with_link(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """Twenty-five operations come back as 20 + 5, following the Link header."""
        for index in range(25):
            await run_bulk(
                api,
                sb,
                "PUT",
                f"/api/v2/bulk/integrations/{integration_id}/courses",
                [course(str(index))],
            )
        first = await api.get(
            "/api/v2/bulk/operations", params={"type[eq]": "importExternalCourses"}
        )
        second = await api.get(first.links["next"]["url"])
        assert (len(first.json()), len(second.json())) == (20, 5)
        assert "link" not in second.headers


class TestConcurrencyLimit:
    async def test_fourth_unfinished_operation_gets_429(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """With three operations unfinished, a fourth gets 429 (concurrency limit)."""
        path = f"/api/v2/bulk/integrations/{integration_id}/courses"
        for index in range(3):
            assert (await api.put(path, json={"input": [course(str(index))]})).status_code == 202
        response = await api.put(path, json={"input": [course("9")]})
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "bulkOperationsConcurrencyLimitReached"
        sb.process_bulk()
        assert (await api.put(path, json={"input": [course("9")]})).status_code == 202


class TestFaults:
    async def test_bulk_error_fault_ends_the_operation_in_error(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """With bulk_error(), the next operation ends in status error and applies nothing."""
        sb.faults.bulk_error()
        response = await api.put(
            f"/api/v2/bulk/integrations/{integration_id}/courses", json={"input": [course("1")]}
        )
        sb.process_bulk()
        body = (await api.get(response.headers["Location"])).json()
        assert body["status"] == "error"
        assert body["errorMessage"]
        assert sb.world.courses == {}

    @pytest.mark.parametrize(
        ("kind", "index", "echoed"),
        [
            ("echo_other", 0, ["2", "2", "3"]),
            ("echo_other", 2, ["1", "2", "1"]),
            ("missing", 1, ["1", "3"]),
            ("extra", 0, ["1", "2", "3", "1"]),
            ("shuffled", 0, ["3", "2", "1"]),
        ],
    )
    async def test_unpairable_results(
        self,
        api: httpx.AsyncClient,
        sb: Learning360Sandbox,
        integration_id: str,
        kind: ResultsFaultKind,
        index: int,
        echoed: list[str],
    ) -> None:
        """unpairable_results() spoils the next operation's results; the operation still applies."""
        sb.faults.unpairable_results(kind, index=index)
        path = f"/api/v2/bulk/integrations/{integration_id}/courses"
        spoiled = await run_bulk(api, sb, "PUT", path, [course("1"), course("2"), course("3")])
        assert _echoed(spoiled, "externalId") == echoed
        assert sorted(c.external_id for c in sb.world.courses.values()) == ["1", "2", "3"]
        fine = await run_bulk(api, sb, "PUT", path, [course("1"), course("2")])
        assert _echoed(fine, "externalId") == ["1", "2"]

    async def test_echo_other_of_a_single_item_names_an_unsent_one(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str
    ) -> None:
        """With one item, echo_other echoes an item that was never sent."""
        sb.faults.unpairable_results("echo_other")
        [result] = await run_bulk(
            api,
            sb,
            "POST",
            f"/api/v2/bulk/integrations/{integration_id}/stats",
            [stat("1", learner_email(1))],
        )
        [user] = _echoed([result], "userIdentifier")
        assert user == {"type": "mail", "value": f"other.{learner_email(1)}"}

    async def test_unpairable_results_over_http_and_clear(
        self, api: httpx.AsyncClient, raw: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """POST /_sandbox/faults plans unpairable results; clear() forgets them."""
        await raw.post(
            "/_sandbox/faults", json={"unpairableResults": {"kind": "missing", "times": 2}}
        )
        assert [f.kind for f in sb.faults.results_faults] == ["missing", "missing"]
        sb.faults.clear()
        assert sb.faults.results_faults == []

    async def test_fail_next_answers_once_with_the_injected_status(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """fail_next() answers one matching request with the injected status, then stops."""
        sb.faults.fail_next("GET", "/api/v2/integrations", 503, "serviceUnavailable")
        first = await api.get("/api/v2/integrations")
        assert (first.status_code, first.json()["error"]["code"]) == (503, "serviceUnavailable")
        assert (await api.get("/api/v2/integrations")).status_code == 200

    async def test_latency_awaits_the_injected_sleep(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, fake_sleep: object
    ) -> None:
        """latency(2.5) makes each API call await sleep(2.5)."""
        sb.faults.latency(2.5)
        await api.get("/api/v2/integrations")
        assert fake_sleep.calls == [2.5]  # type: ignore[attr-defined]


class TestRateLimit:
    async def test_eleventh_write_in_a_second_gets_429(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, clock: FakeClock
    ) -> None:
        """With default limits, the 11th write within one sandbox second gets 429."""
        sb.faults.rate_limit()
        statuses = [
            (await api.post("/api/v2/tags", json={"name": f"t{i}", "isMain": False})).status_code
            for i in range(11)
        ]
        assert statuses == [201] * 10 + [429]
        assert (await api.post("/api/v2/tags", json={"name": "x", "isMain": False})).json() == {
            "error": "tooManyRequests"
        }
        clock.advance(1.0)
        assert (
            await api.post("/api/v2/tags", json={"name": "later", "isMain": False})
        ).status_code == 201

    async def test_fifty_one_reads_in_a_second_get_429(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox
    ) -> None:
        """The 51st GET within one sandbox second gets 429."""
        sb.faults.rate_limit()
        statuses = [(await api.get("/api/v2/tags")).status_code for _ in range(51)]
        assert statuses.count(200) == 50
        assert statuses[-1] == 429
