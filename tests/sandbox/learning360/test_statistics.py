"""Statistics imports follow the documented attempt rules; launches use the defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from tests.sandbox.learning360.conftest import FakeClock, course, run_bulk, stat
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.learning360._world import parse_time
from udemy360.sandbox.seed import learner_email

MAIL = learner_email(1)
D1_08, D1_09, D1_07 = (
    "2025-07-01T08:00:00.000Z",
    "2025-07-01T09:00:00.000Z",
    "2025-07-01T07:00:00.000Z",
)
D2_10, D2_12, D3_12 = (
    "2025-07-02T10:00:00.000Z",
    "2025-07-02T12:00:00.000Z",
    "2025-07-03T12:00:00.000Z",
)
D5, D10, D10_09 = "2025-07-05T12:00:00.000Z", "2025-07-10T08:00:00.000Z", "2025-07-10T09:00:00.000Z"

Row = tuple[int, float, str, str, str | None]  # progress, timeSpent, first, last, completedAt


@dataclass(frozen=True)
class Step:
    """One sync of a statistic (fields over the default item), or a launch at ``launch_at``."""

    fields: dict[str, object] = field(default_factory=dict)
    launch_at: str | None = None


def sync(**fields: object) -> Step:
    return Step(fields=fields)


def launch(at: str) -> Step:
    return Step(launch_at=at)


SCENARIOS: dict[str, tuple[list[Step], list[Row]]] = {
    # No attempt exists: the first sync creates one.
    "first sync creates": ([sync()], [(10, 60_000, D1_08, D1_09, None)]),
    # Same enrollment (same firstActivityAt) sent again: updated in place, never duplicated.
    "daily re-sync updates": (
        [sync(), sync(lastActivityAt=D2_10, timeSpent=90_000)],
        [(10, 90_000, D1_08, D2_10, None)],
    ),
    "progress increase": (
        [sync(), sync(progress=40, lastActivityAt=D2_10)],
        [(40, 60_000, D1_08, D2_10, None)],
    ),
    # progress 100 completes the attempt at lastActivityAt.
    "completion at 100": (
        [sync(), sync(progress=100, lastActivityAt=D3_12)],
        [(100, 60_000, D1_08, D3_12, D3_12)],
    ),
    # A completed attempt is never modified; the same enrollment re-sent changes nothing.
    "completed re-sent changes nothing": (
        [
            sync(progress=100, lastActivityAt=D3_12),
            sync(progress=100, lastActivityAt=D5, timeSpent=999_999),
        ],
        [(100, 60_000, D1_08, D3_12, D3_12)],
    ),
    # firstActivityAt later than every attempt's end opens a second attempt;
    # time spent stays on the first.
    "retake after completion": (
        [
            sync(progress=100, lastActivityAt=D3_12),
            sync(firstActivityAt=D10, lastActivityAt=D10_09, progress=20),
        ],
        [(100, 60_000, D1_08, D3_12, D3_12), (20, 0, D10, D10_09, None)],
    ),
    "forceNew opens a second attempt": (
        [sync(), sync(forceNew=True, progress=20)],
        [(10, 60_000, D1_08, D1_09, None), (20, 0, D1_08, D1_09, None)],
    ),
    # Launch (defaultCompletion) creates a completed 0% attempt at the launch time. A later
    # sync whose firstActivityAt is earlier than that attempt's end is "not later than all
    # attempts", so no new attempt; the only overlapping attempt is completed, so nothing is
    # updated: the Udemy progress is lost.
    "launch then sync starting before the launch": (
        [launch(D2_12), sync(lastActivityAt=D3_12, progress=50)],
        [(0, 0, D2_12, D2_12, D2_12)],
    ),
    # Enrolling on Udemy after pressing START: firstActivityAt is later than the launch
    # attempt's end, so a second attempt is created; it is not the first recorded attempt,
    # so its time spent stays 0.
    "launch then sync starting after the launch": (
        [launch(D1_07), sync()],
        [(0, 0, D1_07, D1_07, D1_07), (10, 0, D1_08, D1_09, None)],
    ),
}


@pytest.fixture
async def course_id(api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str) -> str:
    results = await run_bulk(
        api, sb, "PUT", f"/api/v2/bulk/integrations/{integration_id}/courses", [course("c1")]
    )
    return str(results[0]["resourceId"])


def _rows(sb: Learning360Sandbox, course_id: str) -> list[Row]:
    rows: list[Row] = []
    for a in sb.attempts_for(MAIL, course_id):
        completed = a.get("completedAt")
        rows.append(
            (
                int(str(a["progress"])),
                float(str(a["timeSpent"])),
                str(a["firstActivityAt"]),
                str(a["lastActivityAt"]),
                None if completed is None else str(completed),
            )
        )
    return rows


class TestAttemptRules:
    @pytest.mark.parametrize(("steps", "expected"), list(SCENARIOS.values()), ids=list(SCENARIOS))
    async def test_attempt_rules(
        self,
        api: httpx.AsyncClient,
        sb: Learning360Sandbox,
        clock: FakeClock,
        integration_id: str,
        course_id: str,
        steps: list[Step],
        expected: list[Row],
    ) -> None:
        """Each scenario leaves exactly the documented attempts, and every item reports success."""
        for step in steps:
            if step.launch_at is not None:
                # Launch at a given time, then put the clock back so the bearer token stays valid.
                saved, clock.now = clock.now, parse_time(step.launch_at)
                sb.launch(course_id=course_id, mail=MAIL)
                clock.now = saved
                continue
            path = f"/api/v2/bulk/integrations/{integration_id}/stats"
            results = await run_bulk(api, sb, "POST", path, [stat("c1", MAIL, **step.fields)])
            assert results[0]["status"] == "success"
        assert _rows(sb, course_id) == expected

    async def test_resource_id_is_the_attempt_id(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str, course_id: str
    ) -> None:
        """A statistic's resourceId is the id of the attempt it created."""
        results = await run_bulk(
            api, sb, "POST", f"/api/v2/bulk/integrations/{integration_id}/stats", [stat("c1", MAIL)]
        )
        assert results[0]["resourceId"] == sb.attempts_for(MAIL, course_id)[0]["_id"]

    async def test_unknown_learner_and_course_are_item_errors(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str, course_id: str
    ) -> None:
        """Unknown emails and unknown courses fail per item; other items still succeed."""
        items = [stat("c1", learner_email(24)), stat("never", MAIL), stat("c1", MAIL.upper())]
        results = await run_bulk(
            api, sb, "POST", f"/api/v2/bulk/integrations/{integration_id}/stats", items
        )
        assert [r["status"] for r in results] == ["error", "error", "success"]
        assert "userNotFound" in str(results[0]["errorMessage"])
        assert "courseNotFound" in str(results[1]["errorMessage"])

    @pytest.mark.parametrize(
        ("message", "code", "expected"),
        [
            (
                "User '{value}' not found.",
                None,
                {"errorMessage": f"User '{learner_email(24)}' not found."},
            ),
            (
                "Learner {value} is unknown",
                "userNotFound",
                {
                    "errorMessage": f"Learner {learner_email(24)} is unknown",
                    "errorCode": "userNotFound",
                },
            ),
        ],
    )
    async def test_unknown_learner_wording_is_configurable(
        self,
        api: httpx.AsyncClient,
        sb: Learning360Sandbox,
        integration_id: str,
        course_id: str,
        message: str,
        code: str | None,
        expected: dict[str, str],
    ) -> None:
        """The unknown learner's error takes the configured wording, with or without a code."""
        sb.unknown_learner_error(message, code=code)
        results = await run_bulk(
            api,
            sb,
            "POST",
            f"/api/v2/bulk/integrations/{integration_id}/stats",
            [stat("c1", learner_email(24))],
        )
        assert results[0] == {
            "input": stat("c1", learner_email(24)),
            "status": "error",
            **expected,
        }

    async def test_unknown_learner_wording_over_http(
        self,
        api: httpx.AsyncClient,
        raw: httpx.AsyncClient,
        sb: Learning360Sandbox,
        integration_id: str,
        course_id: str,
    ) -> None:
        """POST /_sandbox/faults sets the wording; an empty setting restores the default."""
        await raw.post(
            "/_sandbox/faults",
            json={"unknownLearnerError": {"message": "User '{value}' not found.", "code": "x"}},
        )
        assert (sb.world.unknown_learner_message, sb.world.unknown_learner_code) == (
            "User '{value}' not found.",
            "x",
        )
        await raw.post("/_sandbox/faults", json={"unknownLearnerError": {}})
        assert sb.world.unknown_learner_code is None
        assert sb.world.unknown_learner_message.startswith("userNotFound: ")

    async def test_deleted_learner_is_unknown(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str, course_id: str
    ) -> None:
        """A deleted user's statistic fails like an unknown learner's and creates no attempt."""
        sb.delete_user(MAIL)
        results = await run_bulk(
            api, sb, "POST", f"/api/v2/bulk/integrations/{integration_id}/stats", [stat("c1", MAIL)]
        )
        assert results[0]["errorMessage"] == f"userNotFound: no 360Learning user matches '{MAIL}'."
        assert sb.attempts_for(MAIL, course_id) == []

    async def test_course_stats_lists_attempts(
        self, api: httpx.AsyncClient, sb: Learning360Sandbox, integration_id: str, course_id: str
    ) -> None:
        """GET /courses/stats returns one row per attempt, filterable by courseId."""
        await run_bulk(
            api, sb, "POST", f"/api/v2/bulk/integrations/{integration_id}/stats", [stat("c1", MAIL)]
        )
        response = await api.get("/api/v2/courses/stats", params={"courseId[eq]": course_id})
        rows = response.json()
        assert response.status_code == 200, rows
        assert [(r["courseId"], r["progress"], r["timeSpent"]) for r in rows] == [
            (course_id, 10, 60_000)
        ]


class TestLaunch:
    async def test_launch_endpoint_uses_integration_defaults(
        self,
        raw: httpx.AsyncClient,
        sb: Learning360Sandbox,
        clock: FakeClock,
        integration_id: str,
        course_id: str,
    ) -> None:
        """POST /_sandbox/launch creates a completed 0% attempt at the sandbox time."""
        response = await raw.post(
            "/_sandbox/launch",
            json={"externalId": "c1", "integrationId": integration_id, "mail": MAIL},
        )
        assert response.status_code == 201
        [row] = sb.attempts_for(MAIL, course_id)
        assert row["progress"] == 0
        assert row["completedAt"] == row["firstActivityAt"] == row["lastActivityAt"]
        assert parse_time(str(row["completedAt"])) == clock.now
