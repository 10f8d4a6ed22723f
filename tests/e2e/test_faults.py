from __future__ import annotations

from dataclasses import dataclass

from tests.e2e.conftest import Env
from udemy360.sandbox.udemy.tenant import ID_BASE


@dataclass
class ExpireTokensOnce:
    """A progress sink that invalidates every 360Learning token as the listing starts."""

    env: Env
    done: bool = False

    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, n: int = 1) -> None:
        if not self.done:
            self.env.lms.faults.expire_tokens()
            self.done = True

    def finish(self, task: str) -> None:
        pass


class TestFaults:
    async def test_bulk_error_fails_run_archives_nothing_then_converges(self, env: Env) -> None:
        """A bulk operation ending in error fails the run, archives nothing; the next converges."""
        await env.courses()
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        env.udemy_sb.tenant.change_course(ID_BASE + 2, title="Changed")
        env.lms.faults.bulk_error(1)
        env.next_day()
        report = await env.courses()
        assert report.status == "failed"
        assert "failed" in report.errors[-1]
        assert len(env.active_external_ids()) == 30
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert env.course(str(ID_BASE + 2))["name"] == "Changed"
        assert str(ID_BASE + 1) not in env.active_external_ids()

    async def test_token_expiry_mid_run_is_transparent(self, env: Env) -> None:
        """Tokens invalidated mid-run are renewed and the run succeeds."""
        report = await env.courses(progress=ExpireTokensOnce(env))
        assert report.status == "succeeded"
        assert len(env.course_ids()) == 30

    async def test_rate_limit_storms_and_server_errors_converge(self, env: Env) -> None:
        """429 storms and 5xx answers on both sides are retried to the same end state."""
        env.udemy_sb.faults.throttle("courses/list/", times=3, retry_after=2)
        env.lms.faults.fail_next("PUT", "/api/v2/bulk", 503, "bulkAPIDisabled", times=2)
        env.lms.faults.fail_next("GET", "/api/v2/bulk/operations", 429, "tooManyRequests", times=3)
        report = await env.courses()
        assert report.status == "succeeded"
        assert len(env.active_external_ids()) == 30
        assert len(env.course_ids()) == 30

    async def test_udemy_failure_fails_cleanly(self, env: Env) -> None:
        """Udemy refusing past the retry budget ends the run as failed, with a message."""
        await env.courses()
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        env.udemy_sb.faults.throttle("courses/list/", times=50, retry_after=1)
        env.next_day()
        report = await env.courses()
        assert report.status == "failed"
        assert report.errors
        assert "sandbox-secret" not in " ".join(report.errors)
        assert len(env.active_external_ids()) == 30
        env.udemy_sb.faults.clear()
        env.next_day()
        report = await env.courses()
        assert report.counts["archived"] == 1

    async def test_truncated_page_never_archives(self, env: Env) -> None:
        """A truncated Udemy page never leads to archiving; the run after converges."""
        await env.courses()
        env.udemy_sb.tenant.retire_course(ID_BASE + 1)
        env.udemy_sb.faults.truncate("courses/list/", times=10)
        env.next_day()
        report = await env.courses()
        assert report.status == "failed"
        assert len(env.active_external_ids()) == 30
        env.udemy_sb.faults.clear()
        env.next_day()
        report = await env.courses()
        assert report.status == "succeeded"
        assert report.counts["archived"] == 1
