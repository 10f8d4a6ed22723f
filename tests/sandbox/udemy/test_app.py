"""The sandbox HTTP surface: auth, pagination, fields, date windows, admin API, faults, log."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from udemy360.sandbox.faults import Faults
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy import UdemyFaults, UdemySandbox, UdemyTenant

ORG = "/api-2.0/organizations/123456/"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> UdemySandbox:
    faults = UdemyFaults(clock=clock, sleep=clock.sleep)
    return UdemySandbox(UdemyTenant(seed=7, courses=25), faults=faults, log_size=50)


@pytest.fixture
async def http(sandbox: UdemySandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://test:8123",
        auth=("sandbox-client", "sandbox-secret"),
    ) as client:
        yield client


class TestAuth:
    async def test_bad_credentials_get_401(self, http: httpx.AsyncClient) -> None:
        """Wrong Basic credentials are refused with 401."""
        response = await http.get(ORG + "courses/list/", auth=("sandbox-client", "nope"))
        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    async def test_other_account_gets_403(self, http: httpx.AsyncClient) -> None:
        """Valid credentials for another organization id are refused with 403."""
        response = await http.get("/api-2.0/organizations/999/courses/list/")
        assert response.status_code == 403


class TestPagination:
    async def test_next_is_absolute_and_keeps_params(self, http: httpx.AsyncClient) -> None:
        """next points at the request's own host and port, with the other params kept."""
        body = (
            await http.get(ORG + "courses/list/", params={"page_size": 10, "fields[course]": "id"})
        ).json()
        assert body["count"] == 25
        assert body["previous"] is None
        assert body["next"].startswith("http://test:8123" + ORG + "courses/list/?")
        follow = (await http.get(body["next"])).json()
        assert follow["results"][0] == {"_class": "course", "id": 1_000_010}

    async def test_past_the_end_is_invalid_page(self, http: httpx.AsyncClient) -> None:
        """A page after the last answers 404 {"detail": "Invalid page."}."""
        response = await http.get(ORG + "courses/list/", params={"page_size": 10, "page": 4})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    async def test_page_size_is_capped(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """A page_size above 100 is served as 100."""
        sandbox.tenant.__init__(seed=7, courses=150)  # type: ignore[misc]
        body = (await http.get(ORG + "courses/list/", params={"page_size": 1000})).json()
        assert len(body["results"]) == 100


class TestFields:
    async def test_explicit_all_default_and_minus(self, http: httpx.AsyncClient) -> None:
        """Explicit lists, @all, @default and -field select keys as on the real API."""

        async def keys(spec: str | None) -> set[str]:
            params = {"fields[course]": spec} if spec is not None else {}
            return set((await http.get(ORG + "courses/list/1000001/", params=params)).json())

        assert await keys("id,title") == {"_class", "id", "title"}
        default = await keys(None)
        assert "requirements" not in default
        assert "requirements" in await keys("@all")
        assert await keys("@default,-images") == default - {"images"}

    async def test_nested_learning_path_fields(self, http: httpx.AsyncClient) -> None:
        """fields[learning_path_section] and fields[user] shape sections and editors."""
        params = {
            "fields[learning_path]": "id,sections,editors",
            "fields[learning_path_section]": "order",
            "fields[user]": "display_name",
        }
        body = (await http.get(ORG + "learning-paths/list/", params=params)).json()
        for path in body["results"]:
            assert set(path) == {"_class", "id", "sections", "editors"}
            assert all(set(s) == {"_class", "order"} for s in path["sections"])
            assert all(set(e) <= {"_class", "display_name"} for e in path["editors"])


class TestContent:
    async def test_signed_urls_change_per_request(self, http: httpx.AsyncClient) -> None:
        """Two reads of a course give the same video files with different signatures."""
        urls = []
        for _ in range(2):
            body = (await http.get(ORG + "courses/list/1000001/")).json()
            urls.append([v["file"] for v in body["promo_video_url"]])
        assert urls[0] != urls[1]
        assert [u.split("?")[0] for u in urls[0]] == [u.split("?")[0] for u in urls[1]]
        assert all("Signature=" in u and "Key-Pair-Id=" in u for u in urls[0])

    async def test_activity_window_and_bad_date(self, http: httpx.AsyncClient) -> None:
        """The window filters on last access (else enrollment); a malformed date is a 400."""
        params = {"from_date": "2024-02-01", "to_date": "2024-02-29", "page_size": 100}
        body = (await http.get(ORG + "analytics/user-course-activity/", params=params)).json()
        assert 0 < body["count"] < 1_500
        for row in body["results"]:
            day = (row["course_last_accessed_date"] or row["course_enroll_date"])[:10]
            assert "2024-02-01" <= day <= "2024-02-29"
        bad = await http.get(ORG + "analytics/user-course-activity/", params={"from_date": "02/01"})
        assert bad.status_code == 400


class TestAdminApi:
    async def test_course_mutations_over_http(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """POST, PATCH and DELETE under /_sandbox/courses change what the API lists."""
        created = (await http.post("/_sandbox/courses", json={"title": "Added"})).json()
        assert (
            await http.patch(f"/_sandbox/courses/{created['id']}", json={"level": "Expert"})
        ).status_code == 204
        course = (await http.get(ORG + f"courses/list/{created['id']}/")).json()
        assert (course["title"], course["level"]) == ("Added", "Expert")
        assert (await http.delete(f"/_sandbox/courses/{created['id']}")).status_code == 204
        assert (await http.get(ORG + f"courses/list/{created['id']}/")).status_code == 404
        assert (await http.delete("/_sandbox/courses/1")).status_code == 404
        assert sandbox.tenant.course_count == 25

    async def test_advance_learner_over_http(self, http: httpx.AsyncClient) -> None:
        """POST /_sandbox/activity completes a learner's course."""
        body = {
            "learner": 3,
            "course_id": 1_000_004,
            "complete": True,
            "at": "2025-01-02T03:04:05+00:00",
        }
        row = (await http.post("/_sandbox/activity", json=body)).json()
        assert row["completion_ratio"] == 100.0
        assert row["course_completion_date"] == "2025-01-02T03:04:05Z"

    async def test_fault_plan_over_http(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """A plan posted to /_sandbox/faults is applied, shown, and cleared by DELETE."""
        plan = {"throttle": [{"path_prefix": "courses/", "times": 1, "retry_after": 9}]}
        shown = (await http.post("/_sandbox/faults", json=plan)).json()
        assert shown["throttle"] == [{"path_prefix": "courses/", "remaining": 1}]
        throttled = await http.get(ORG + "courses/list/")
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "9"
        assert (await http.post("/_sandbox/faults", json={"bogus": 1})).status_code == 400
        await http.delete("/_sandbox/faults")
        assert (await http.get(ORG + "courses/list/")).status_code == 200
        log = (await http.get("/_sandbox/requests")).json()
        assert [r["status"] for r in log] == [429, 200]


class TestFaults:
    async def test_truncate_then_recover(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """A truncated body is not JSON; the next answer is whole again."""
        sandbox.faults.truncate("courses/list/", times=1)
        cut = await http.get(ORG + "courses/list/")
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut.content)
        assert (await http.get(ORG + "courses/list/")).json()["count"] == 25

    async def test_server_errors_replay_with_seed(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """The same seed gives the same sequence of injected statuses."""
        runs = []
        for _ in range(2):
            sandbox.faults.clear().server_errors(0.5, seed=11)
            runs.append([(await http.get(ORG + "courses/list/")).status_code for _ in range(12)])
        assert runs[0] == runs[1]
        assert {500, 502, 503, 504, 524} & set(runs[0])
        assert 200 in runs[0]

    async def test_rate_budget_refills_with_clock(
        self, sandbox: UdemySandbox, clock: Clock, http: httpx.AsyncClient
    ) -> None:
        """Beyond the per-second budget the answer is 429; a second later it passes."""
        sandbox.faults.rate_limit(2)
        statuses = [(await http.get(ORG + "courses/list/")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        clock.now += 1.0
        assert (await http.get(ORG + "courses/list/")).status_code == 200

    async def test_latency_uses_injected_sleep(
        self, sandbox: UdemySandbox, clock: Clock, http: httpx.AsyncClient
    ) -> None:
        """Latency is waited through the injected sleep."""
        sandbox.faults.latency(0.25)
        await http.get(ORG + "courses/list/")
        assert clock.slept == [0.25]

    def test_configure_rejects_unknown_faults(self) -> None:
        """An unknown fault name is a ValueError, not silently ignored."""
        with pytest.raises(ValueError, match="unknown"):
            Faults().configure({"explode": True})


class TestHostileModes:
    async def test_trickle_sends_the_whole_body_slowly(
        self, sandbox: UdemySandbox, clock: Clock, http: httpx.AsyncClient
    ) -> None:
        """A trickled body arrives whole, after waits that add up to its size over the rate."""
        sandbox.faults.trickle("courses/list/", bytes_per_second=200, times=1)
        slow = await http.get(ORG + "courses/list/", params={"page_size": 2})
        assert slow.json()["count"] == 25
        assert sum(clock.slept) == pytest.approx(len(slow.content) / 200)
        clock.slept.clear()
        await http.get(ORG + "courses/list/")
        assert clock.slept == []

    async def test_nested_and_raw_bodies_over_the_admin_api(self, http: httpx.AsyncClient) -> None:
        """The plan can ask for a body nested deep, then for bytes that are not UTF-8."""
        plan = {
            "nested": [{"path_prefix": "courses/list/", "depth": 5000}],
            "replace_body": [{"path_prefix": "courses/list/", "body_base64": "/w=="}],
        }
        shown = (await http.post("/_sandbox/faults", json=plan)).json()
        assert [b["remaining"] for b in shown["replace_body"]] == [1, 1]
        deep = await http.get(ORG + "courses/list/")
        assert deep.content.count(b"[") == 5001
        with pytest.raises(RecursionError):
            json.loads(deep.content)
        assert (await http.get(ORG + "courses/list/")).content == b"\xff"
        assert (await http.get(ORG + "courses/list/")).json()["count"] == 25

    async def test_page_two_holds_raw_records(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """Injected raw values are page 2's results verbatim; count and other pages are kept."""
        raw = [{"id": 2**70, "title": "\ud800\x00"}, None, "x", -1.5, {"id": True}]
        sandbox.faults.page_records("courses/list/", 2, raw)
        params = {"page_size": 10}
        page2 = (await http.get(ORG + "courses/list/", params={**params, "page": 2})).json()
        assert page2["results"] == raw
        assert page2["count"] == 25
        page3 = (await http.get(ORG + "courses/list/", params={**params, "page": 3})).json()
        assert len(page3["results"]) == 5

    async def test_a_whole_listing_of_raw_records(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """A raw listing is paged as usual with count equal to its length."""
        raw = [{"id": i, "title": f"raw {i}"} for i in range(23)]
        sandbox.faults.listing("courses/list/", raw)
        first = (await http.get(ORG + "courses/list/", params={"page_size": 10})).json()
        assert (first["count"], first["results"]) == (23, raw[:10])
        last = (await http.get(first["next"].replace("page=2", "page=3"))).json()
        assert (last["results"], last["next"]) == (raw[20:], None)

    async def test_envelope_fields_and_page_bodies(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """Envelope fields take any raw value; a page's body can be any bytes."""
        sandbox.faults.envelope("courses/list/", 1, count="many", next=42, extra=[1])
        sandbox.faults.page_body("courses/list/", 2, b"\x00\xfe", status=200)
        first = (await http.get(ORG + "courses/list/")).json()
        assert (first["count"], first["next"], first["extra"]) == ("many", 42, [1])
        second = await http.get(ORG + "courses/list/", params={"page": 2})
        assert second.content == b"\x00\xfe"

    async def test_ignored_page_size_and_endless_links(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """The listing pages by its own size and links on past its end, empty or repeated."""
        sandbox.faults.ignore_page_size("courses/list/", 12).endless_next("courses/list/")
        first = (await http.get(ORG + "courses/list/", params={"page_size": 100})).json()
        assert len(first["results"]) == 12
        past = (await http.get(ORG + "courses/list/", params={"page": 9})).json()
        assert past["results"] == []
        assert "page=10" in past["next"]
        sandbox.faults.endless_next("courses/list/", repeat=True)
        again = (await http.get(ORG + "courses/list/", params={"page": 9})).json()
        last = (await http.get(ORG + "courses/list/", params={"page": 3})).json()
        assert [r["id"] for r in again["results"]] == [r["id"] for r in last["results"]] != []

    async def test_listing_plan_over_the_admin_api(
        self, sandbox: UdemySandbox, http: httpx.AsyncClient
    ) -> None:
        """Listing faults are set, shown and cleared through /_sandbox/faults."""
        plan = {
            "page_records": [
                {"path_prefix": "courses/list/", "page": 2, "records": [{"id": "\ud800"}]}
            ],
            "envelope": [{"path_prefix": "courses/list/", "page": 1, "fields": {"count": -1}}],
            "ignore_page_size": [{"path_prefix": "courses/list/", "page_size": 5}],
            "endless_next": [{"path_prefix": "learning-paths/list/", "repeat": True}],
            "page_body": [{"path_prefix": "courses/list/", "page": 3, "body_base64": "/w=="}],
            "listing": [{"path_prefix": "analytics/user-course-activity/", "records": [None]}],
        }
        # json.dumps escapes the lone surrogate as \\ud800, as any JSON client would have to
        response = await http.post("/_sandbox/faults", content=json.dumps(plan))
        assert response.status_code == 200
        listings = response.json()["listings"]
        assert listings["courses/list/"]["envelope_pages"] == [1, 2]
        assert listings["courses/list/"]["page_size"] == 5
        assert listings["learning-paths/list/"]["repeat_past_end"] is True
        assert listings["analytics/user-course-activity/"]["records"] == 1
        page2 = (await http.get(ORG + "courses/list/", params={"page": 2})).json()
        assert page2["results"] == [{"id": "\ud800"}]
        assert (await http.get(ORG + "courses/list/", params={"page": 3})).content == b"\xff"
        rows = (await http.get(ORG + "analytics/user-course-activity/")).json()
        assert (rows["count"], rows["results"]) == (1, [None])
        bad = await http.post("/_sandbox/faults", json={"page_records": [{"page": 2}]})
        assert bad.status_code == 400
        await http.delete("/_sandbox/faults")
        assert (await http.get(ORG + "courses/list/")).json()["count"] == 25


class TestRequestLog:
    async def test_log_is_bounded(self, sandbox: UdemySandbox, http: httpx.AsyncClient) -> None:
        """The log keeps only the most recent requests."""
        for _ in range(60):
            await http.get(ORG + "courses/list/")
        assert len(sandbox.requests) == 50
        assert sandbox.requests.count("courses/list/", status=200) == 50


@pytest.mark.e2e
class TestServeInThread:
    def test_serves_any_asgi_app_and_stops(self) -> None:
        """serve_in_thread serves on a free loopback port and releases it on exit."""

        async def hello(request: object) -> PlainTextResponse:
            return PlainTextResponse("hi")

        app = Starlette(routes=[Route("/", hello)])
        with serve_in_thread(app) as root:
            assert root.startswith("http://127.0.0.1:")
            assert httpx.get(root + "/").text == "hi"
        with pytest.raises(httpx.ConnectError):
            httpx.get(root + "/")

    def test_sandbox_over_loopback_checks_auth(self) -> None:
        """The Udemy sandbox served on loopback refuses bad credentials and pages with its port."""
        sb = UdemySandbox(UdemyTenant(courses=30))
        with serve_in_thread(sb.app) as root:
            token = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
            ok = httpx.get(
                sb.base_url(root) + "courses/list/", headers={"Authorization": f"Basic {token}"}
            )
            refused = httpx.get(sb.base_url(root) + "courses/list/")
        assert ok.json()["next"].startswith(root)
        assert refused.status_code == 401
