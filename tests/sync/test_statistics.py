"""The statistics job, through the engine's entry point against the sandboxes."""

from __future__ import annotations

from tests.e2e.conftest import Env, make_env
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.udemy.tenant import ID_BASE


class TestUnpairableResults:
    async def test_a_missing_result_is_a_failure_retried_later(self) -> None:
        """Results shifted by a missing one are not trusted: the batch is retried, not lost."""
        env = await make_env(courses=5, learning_paths=0, learners=10, activity_rows=20)
        await env.courses()
        env.lms.faults.unpairable_results("missing", index=0)
        report = await env.stats()
        assert report.status == "partial"
        failed = report.counts["failed"]
        assert failed >= 1
        assert any("did not match what was sent" in e for e in report.errors)
        env.next_day()
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["created"] + report.counts["updated"] == failed


COURSE = ID_BASE + 4
EXT = str(COURSE)


async def _env() -> Env:
    """No generated activity: each test writes the rows it needs."""
    env = await make_env(courses=10, activity_rows=0)
    await env.courses()
    return env


def _stat_posts(env: Env) -> int:
    return sum(1 for r in env.lms.requests if r.method == "POST" and r.path.endswith("/stats"))


class TestLearnerDirectory:
    async def test_an_unknown_learner_is_not_sent_and_is_sent_once_they_appear(self) -> None:
        """A learner missing from 360Learning waits; once created there, their row is sent."""
        env = await _env()
        mail = "newcomer@example.com"
        env.udemy_sb.tenant.advance_learner(mail, COURSE, progress=40, at=env.today)
        report = await env.stats()
        assert report.status == "succeeded"
        assert report.counts["unmatched"] == 1
        assert report.unmatched == ((mail, 1),)
        assert _stat_posts(env) == 0  # nothing was sent for them
        [waiting] = env.store.stats.unmatched_learners("acme")
        assert (waiting.mail, waiting.courses) == (mail, 1)
        env.lms.add_user(mail)
        env.next_day()
        report = await env.stats(full=False)
        assert report.counts["created"] == 1
        assert report.counts["unmatched"] == 0
        assert env.attempts(mail, EXT)[0]["progress"] == 40

    async def test_no_decision_depends_on_the_error_wording(self) -> None:
        """With the directory, 360Learning's wording for an unknown user never matters."""
        env = await _env()
        env.lms.unknown_learner_error("User '{value}' not found.")
        env.udemy_sb.tenant.advance_learner("ghost@example.com", COURSE, progress=5, at=env.today)
        report = await env.stats()
        assert (report.status, report.counts["unmatched"], report.counts["failed"]) == (
            "succeeded",
            1,
            0,
        )

    async def test_a_deleted_user_is_not_sent(self) -> None:
        """Rows of a learner deleted in 360Learning are kept waiting, not sent."""
        env = await _env()
        mail = learner_email(3)
        env.lms.delete_user(mail)
        env.udemy_sb.tenant.advance_learner(3, COURSE, progress=10, at=env.today)
        report = await env.stats()
        assert report.counts["unmatched"] == 1
        assert _stat_posts(env) == 0
        [outcome] = env.store.runs.iter_outcomes(report.run_id or 0, outcome="unmatched")
        assert "deleted" in (outcome.message or "")

    async def test_alias_by_table_sends_by_user_id(self) -> None:
        """An explicit alias matches a Udemy email to another 360Learning user, sent by id."""
        env = await _env()
        user = env.lms.add_user("joanna@corp.com")
        env.store.learners.add_alias("acme", "mail", "jo@udemy-only.com", "joanna@corp.com")
        env.udemy_sb.tenant.advance_learner("jo@udemy-only.com", COURSE, progress=70, at=env.today)
        report = await env.stats()
        assert (report.counts["created"], report.counts["unmatched"]) == (1, 0)
        assert env.attempts("joanna@corp.com", EXT)[0]["progress"] == 70
        sent = [r for r in env.lms.requests if r.method == "POST" and r.path.endswith("/stats")]
        [item] = sent[-1].json["input"]  # type: ignore[index]
        assert item["userIdentifier"] == {"type": "internalId", "value": user["_id"]}
        env.next_day()
        report = await env.stats(full=True)
        assert report.counts["unchanged"] == 1  # the hash compared is that of what was sent

    async def test_alias_by_domain(self) -> None:
        """A domain rewrite matches every learner of the old domain to the new one."""
        env = await _env()
        env.lms.add_user("ann@corp.com")
        env.store.learners.add_alias("acme", "domain", "corp-old.com", "corp.com")
        env.udemy_sb.tenant.advance_learner("Ann@Corp-Old.com", COURSE, progress=20, at=env.today)
        report = await env.stats()
        assert report.counts["created"] == 1
        assert env.attempts("ann@corp.com", EXT)[0]["progress"] == 20

    async def test_without_users_read_unknown_learners_come_from_per_item_errors(self) -> None:
        """Without users:read the run says what it costs and classifies per-item errors."""
        env = await _env()
        env.lms.set_scopes(set(env.lms.world.credential.scopes) - {"users:read"})
        env.lms.unknown_learner_error("User '{value}' not found.")
        env.udemy_sb.tenant.advance_learner("ghost@example.com", COURSE, progress=5, at=env.today)
        env.udemy_sb.tenant.advance_learner(2, COURSE, progress=5, at=env.today)
        report = await env.stats()
        assert report.status == "succeeded"
        assert (report.counts["created"], report.counts["unmatched"]) == (1, 1)
        assert any("users:read" in e for e in report.errors)

    async def test_unclassifiable_item_error_is_a_failure(self) -> None:
        """An unknown learner error in no documented form is a failure, never a silent skip."""
        env = await _env()
        env.lms.set_scopes(set(env.lms.world.credential.scopes) - {"users:read"})
        env.lms.unknown_learner_error("Something odd happened to {value}")
        env.udemy_sb.tenant.advance_learner("ghost@example.com", COURSE, progress=5, at=env.today)
        report = await env.stats()
        assert report.status == "partial"
        assert (report.counts["failed"], report.counts["unmatched"]) == (1, 0)
