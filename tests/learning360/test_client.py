"""The 360Learning client against the sandbox: endpoints, auth, throttles, faults, bulk ops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.contract.plugin import FakeTime, RecordingTransport
from tests.learning360.factories import course, settings, statistic
from udemy360.learning360 import (
    BulkOperationFailed,
    BulkOperationTimeout,
    ItemErrorKind,
    Learning360AuthError,
    Learning360Client,
    Learning360Credentials,
    Learning360NotFound,
    Learning360RateLimited,
    Learning360RequestError,
    Learning360ScopeError,
    StatisticKey,
    UnpairedResult,
    statistic_key,
)
from udemy360.sandbox.seed import learner_email

TOKEN = "POST /api/v2/oauth2/token"


def _client(
    creds: Learning360Credentials, transport: RecordingTransport, time: FakeTime, **kw: object
) -> Learning360Client:
    return Learning360Client(
        creds,
        transport=transport,
        clock=time.time,
        sleep=time.sleep,
        **kw,  # type: ignore[arg-type]
    )


class TestAuth:
    async def test_token_is_fetched_once_and_reused(self, l360_client, l360_sandbox):
        """Several calls share one token request."""
        await l360_client.list_integrations()
        await l360_client.get_user(l360_sandbox.owner_id)
        assert l360_client.call_counts[TOKEN] == 1

    async def test_token_renewed_shortly_before_expiry(self, l360_client, l360_time):
        """Within 60 s of expiry the token is renewed before the call, with no 401 seen."""
        await l360_client.list_integrations()
        l360_time.advance(3600 - 59)
        await l360_client.list_integrations()
        assert l360_client.call_counts[TOKEN] == 2
        assert l360_client.call_counts["GET /api/v2/integrations"] == 2

    async def test_expired_token_mid_run_renews_once(self, l360_client, l360_sandbox):
        """A 401 invalid_token makes the client renew once and replay the call."""
        await l360_client.list_integrations()
        l360_sandbox.faults.expire_tokens()
        assert await l360_client.list_integrations() == []
        assert l360_client.call_counts[TOKEN] == 2
        assert [r.status for r in l360_sandbox.requests if r.path == "/api/v2/integrations"] == [
            200,
            401,
            200,
        ]

    async def test_token_refused_after_renewal_raises(self, l360_client, l360_sandbox):
        """When the fresh token is refused too, Learning360AuthError is raised (no loop)."""
        await l360_client.list_integrations()
        l360_sandbox.faults.fail_next("GET", "/api/v2/integrations", 401, "invalid_token", times=2)
        with pytest.raises(Learning360AuthError) as info:
            await l360_client.list_integrations()
        assert info.value.status == 401
        assert info.value.code == "invalid_token"
        assert l360_client.call_counts[TOKEN] == 2

    async def test_bad_secret_raises_auth_error_without_the_secret(
        self, l360_sandbox, l360_transport, l360_time, caplog
    ):
        """Wrong credentials give Learning360AuthError; the secret is in no message or log."""
        caplog.set_level(logging.DEBUG)
        secret = "wrong-secret-0123456789"
        creds = Learning360Credentials(
            client_id=l360_sandbox.client_id, client_secret=secret, base_url="http://127.0.0.1"
        )
        async with _client(creds, l360_transport, l360_time) as client:
            with pytest.raises(Learning360AuthError) as info:
                await client.check_token()
        err = info.value
        assert err.status == 401
        assert err.code == "invalid_client"
        text = " ".join([str(err), repr(err), err.body_excerpt or "", caplog.text, repr(creds)])
        assert secret not in text

    async def test_missing_scope_names_it(self, l360_client, l360_sandbox, integration):
        """A 403 invalid_scope becomes Learning360ScopeError naming the scope the call needs."""
        l360_sandbox.set_scopes(["integrations:read", "integrations:write"])
        with pytest.raises(Learning360ScopeError) as info:
            await l360_client.submit_courses(integration.id, [course(1)])
        assert info.value.scope == "integrations:bulk"
        assert "integrations:bulk" in str(info.value)
        assert info.value.status == 403
        assert info.value.code == "invalid_scope"

    async def test_check_token_always_requests_a_token(self, l360_client):
        """check_token sends a token request even with a cached token."""
        await l360_client.check_token()
        await l360_client.check_token()
        assert l360_client.call_counts[TOKEN] == 2

    async def test_secrets_absent_from_logs_and_reprs(self, l360_client, l360_sandbox, caplog):
        """Neither the client secret nor the access token reaches a log line or a repr."""
        caplog.set_level(logging.DEBUG)
        await l360_client.list_integrations()
        tokens = list(l360_sandbox.world.tokens)
        assert tokens
        text = caplog.text + repr(l360_client) + repr(l360_client._auth)
        for secret in [l360_sandbox.client_secret, *tokens]:
            assert secret not in text


class TestRetries:
    async def test_too_many_requests_backs_off_then_succeeds(
        self, l360_client, l360_sandbox, l360_time
    ):
        """A 429 tooManyRequests is waited out (about 1–2 s, no Retry-After) and retried."""
        await l360_client.list_integrations()
        l360_time.sleeps.clear()
        l360_sandbox.faults.fail_next("GET", "/api/v2/integrations", 429, "tooManyRequests")
        assert await l360_client.list_integrations() == []
        backoffs = [s for s in l360_time.sleeps if s > 0.1]  # the rest is the limiter's spacing
        assert len(backoffs) == 1
        assert 1.0 <= backoffs[0] <= 2.0
        assert l360_client.call_counts["GET /api/v2/integrations"] == 3

    async def test_rate_limit_budget_spent_raises(self, l360_client, l360_sandbox):
        """A 429 that never ends gives Learning360RateLimited after the bounded attempts."""
        l360_sandbox.faults.fail_next("GET", "/api/v2/tags", 429, "tooManyRequests", times=50)
        with pytest.raises(Learning360RateLimited) as info:
            await anext(l360_client.iter_tags())
        assert info.value.status == 429
        assert l360_client.call_counts["GET /api/v2/tags"] == 6

    async def test_server_error_retried(self, l360_client, l360_sandbox):
        """An idempotent call survives two 502s."""
        l360_sandbox.faults.fail_next("GET", "/api/v2/users/", 502, "badGateway", times=2)
        user = await l360_client.get_user(l360_sandbox.owner_id)
        assert user.lang == "fr"
        assert l360_client.call_counts["GET /api/v2/users/{userId}"] == 3

    async def test_bulk_api_disabled_retried(self, l360_client, l360_sandbox, integration):
        """503 bulkAPIDisabled on submit is retried and the operation is then created."""
        l360_sandbox.faults.fail_next("PUT", "/api/v2/bulk/", 503, "bulkAPIDisabled")
        op = await l360_client.submit_courses(integration.id, [course(1)])
        assert op.id in l360_sandbox.world.operations

    async def test_create_integration_not_blindly_retried(self, l360_client, l360_sandbox):
        """After a 500 on POST /integrations the client lists first, then creates exactly once."""
        l360_sandbox.faults.fail_next("POST", "/api/v2/integrations", 500, "internalError")
        created = await l360_client.create_integration(
            settings(l360_sandbox.group_id, l360_sandbox.owner_id)
        )
        calls = [
            (r.method, r.status) for r in l360_sandbox.requests if r.path == "/api/v2/integrations"
        ]
        assert calls == [("POST", 500), ("GET", 200), ("POST", 201)]
        assert list(l360_sandbox.world.integrations) == [created.id]


class TestIntegrations:
    async def test_create_find_patch_delete(self, l360_client, l360_sandbox, integration):
        """An integration can be found by platform and group, patched and deleted."""
        found = await l360_client.find_integration("Acme Udemy", l360_sandbox.group_id)
        assert found == integration
        assert await l360_client.find_integration("Acme Udemy", l360_sandbox.other_group_id) is None
        patched = await l360_client.patch_integration(integration.id, default_progress=10)
        assert patched.default_progress == 10
        await l360_client.delete_integration(integration.id)
        assert not l360_sandbox.world.integrations[integration.id].active

    async def test_reserved_platform_name_says_how_to_fix(self, l360_client, l360_sandbox):
        """reservedPlatformName is a request error telling the admin to pick another name."""
        with pytest.raises(Learning360RequestError) as info:
            await l360_client.create_integration(
                settings(l360_sandbox.group_id, l360_sandbox.owner_id, name="Coursera")
            )
        assert info.value.code == "reservedPlatformName"
        assert "choose another platform name" in str(info.value)

    async def test_duplicate_platform_is_a_request_error(
        self, l360_client, l360_sandbox, integration
    ):
        """A second integration with the same name in the group is refused with its code."""
        with pytest.raises(Learning360RequestError) as info:
            await l360_client.create_integration(
                settings(l360_sandbox.group_id, l360_sandbox.owner_id)
            )
        assert info.value.code == "duplicateExternalPlatform"

    async def test_unknown_external_course_is_none(self, l360_client, integration):
        """An externalId never upserted gives None, not an error."""
        assert await l360_client.get_external_course(integration.id, "404404") is None

    async def test_unknown_integration_raises_not_found(self, l360_client):
        """A vanished integration is reported, not mistaken for a missing course."""
        with pytest.raises(Learning360NotFound) as info:
            await l360_client.get_external_course("0" * 24, "1")
        assert info.value.code == "integrationNotFound"


class TestBulk:
    async def test_upsert_wait_results_and_retrieve(self, l360_client, l360_sandbox, integration):
        """Submitted courses end up in the sandbox; results pair by position and externalId."""
        op = await l360_client.submit_courses(integration.id, [course(i) for i in range(5)])
        assert op.status == "pending"
        assert op.type == "importExternalCourses"
        done = await l360_client.wait_for_operation(op.id)
        assert done.status == "completed"
        results = await l360_client.get_results(op.id)
        assert results.complete
        assert len(results.succeeded) == 5
        assert [item.key for item in results.items] == ["0", "1", "2", "3", "4"]
        info = await l360_client.get_external_course(integration.id, "3")
        assert info is not None
        assert info.course_id == results.items[3].resource_id
        assert l360_sandbox.world.courses[info.course_id].data["name"] == "Course 3"
        assert l360_client.bulk_in_flight == frozenset()

    async def test_submitted_keys_are_forgotten_once_results_are_in(self, l360_client, integration):
        """Memory stays flat over a long run: the keys kept for pairing go with the results."""
        op = await l360_client.submit_courses(integration.id, [course(i) for i in range(3)])
        await l360_client.wait_for_operation(op.id)
        assert op.id in l360_client._sent_keys
        results = await l360_client.get_results(op.id)
        assert results.complete
        assert op.id not in l360_client._sent_keys

    async def test_results_mismatch_reported(self, l360_client, integration, l360_sandbox):
        """Results that do not echo the submitted keys at their positions are flagged."""
        op = await l360_client.submit_courses(integration.id, [course(1), course(2)])
        await l360_client.wait_for_operation(op.id)
        results = await l360_client.get_results(op.id, sent_keys=["2", "1"])
        assert [m.index for m in results.mismatches] == [0, 1]
        assert not results.complete
        assert not results.items[0].matched

    async def test_statistics_and_archive(self, l360_client, l360_sandbox, integration):
        """Statistics create attempts; archiving marks the course archived."""
        op = await l360_client.submit_courses(integration.id, [course(7)])
        await l360_client.wait_for_operation(op.id)
        course_id = (await l360_client.get_external_course(integration.id, "7")).course_id
        mail = learner_email(1)
        stats = await l360_client.submit_statistics(
            integration.id, [statistic("7", mail), statistic("7", learner_email(24))]
        )
        await l360_client.wait_for_operation(stats.id)
        items = await l360_client.get_operation_results(stats.id)
        assert [item.ok for item in items] == [True, False]  # learner 24 is unknown to 360
        assert items[1].error_message
        assert items[1].matched
        assert l360_sandbox.attempts_for(mail, course_id)[0]["progress"] == 40
        archive = await l360_client.submit_archive(integration.id, ["7"])
        await l360_client.wait_for_operation(archive.id)
        assert l360_sandbox.world.courses[course_id].status == "archived"

    async def test_operation_error_raises_with_message(
        self, l360_client, l360_sandbox, integration
    ):
        """A bulk operation ending in status error raises BulkOperationFailed with its message."""
        l360_sandbox.faults.bulk_error()
        op = await l360_client.submit_courses(integration.id, [course(1)])
        with pytest.raises(BulkOperationFailed) as info:
            await l360_client.wait_for_operation(op.id)
        assert info.value.operation_id == op.id
        assert info.value.error_message
        assert info.value.error_message in str(info.value)
        assert l360_client.bulk_in_flight == frozenset()

    async def test_timeout_keeps_running_operation(
        self, l360_sandbox, l360_transport, l360_time, l360_credentials
    ):
        """An operation outlasting bulk_timeout raises BulkOperationTimeout with its id."""
        l360_sandbox.faults.bulk_delays(pending=10_000)
        async with _client(l360_credentials, l360_transport, l360_time, bulk_timeout=30.0) as lms:
            integ = await lms.create_integration(
                settings(l360_sandbox.group_id, l360_sandbox.owner_id)
            )
            op = await lms.submit_courses(integ.id, [course(1)])
            with pytest.raises(BulkOperationTimeout) as info:
                await lms.wait_for_operation(op.id)
        assert info.value.operation_id == op.id
        assert info.value.last_status == "pending"

    async def test_concurrency_limit_from_other_tools_backs_off_long(
        self, l360_client, l360_sandbox, l360_time, integration
    ):
        """With none of ours running, a concurrency-limit 429 waits 15–60 s, then resubmits."""
        l360_time.sleeps.clear()
        l360_sandbox.faults.fail_next(
            "PUT", "/api/v2/bulk/", 429, "bulkOperationsConcurrencyLimitReached"
        )
        op = await l360_client.submit_courses(integration.id, [course(1)])
        assert op.id in l360_sandbox.world.operations
        assert any(15.0 <= s <= 60.0 for s in l360_time.sleeps)

    async def test_concurrency_limit_waits_for_our_operation(
        self, l360_client, l360_sandbox, l360_time, integration
    ):
        """When the company limit is hit while ours runs, the submit waits for ours to end."""
        l360_sandbox.world.max_concurrent_bulk = 1
        l360_sandbox.faults.bulk_delays(pending=5.0)
        first = await l360_client.submit_courses(integration.id, [course(1)])
        second = await l360_client.submit_courses(integration.id, [course(2)])
        log = [(r.method, r.path, r.status) for r in l360_sandbox.requests if "/bulk/" in r.path]
        assert ("PUT", f"/api/v2/bulk/integrations/{integration.id}/courses", 429) in log
        assert log[-1][2] == 202
        assert second.id != first.id
        assert max(l360_time.sleeps) < 15.0  # polled ours instead of the long foreign backoff

    async def test_our_slots_cap_submissions(
        self, l360_sandbox, l360_transport, l360_time, l360_credentials
    ):
        """With one slot, a second submit is sent only after the first is seen finished."""
        async with _client(
            l360_credentials, l360_transport, l360_time, max_bulk_in_flight=1
        ) as lms:
            integ = await lms.create_integration(
                settings(l360_sandbox.group_id, l360_sandbox.owner_id)
            )
            first = await lms.submit_courses(integ.id, [course(1)])
            await lms.submit_courses(integ.id, [course(2)])
        bulk = [(r.method, r.path) for r in l360_sandbox.requests if "/bulk/" in r.path]
        puts = [i for i, (m, _) in enumerate(bulk) if m == "PUT"]
        polls = [i for i, (m, p) in enumerate(bulk) if m == "GET" and p.endswith(first.id)]
        assert len(puts) == 2
        assert polls
        assert puts[0] < polls[-1] < puts[1]
        assert l360_sandbox.world.operations[first.id].ended_at <= l360_time.now

    async def test_concurrent_submits_share_the_slots(self, l360_client, l360_sandbox, integration):
        """Four submits at once all succeed, never more than two of ours unfinished."""
        ops = await asyncio.gather(
            *(l360_client.submit_courses(integration.id, [course(i)]) for i in range(4))
        )
        assert len({op.id for op in ops}) == 4
        assert all(s != 429 for s in (r.status for r in l360_sandbox.requests))
        for op in ops:
            await l360_client.wait_for_operation(op.id)

    async def test_list_operations(self, l360_client, integration):
        """Listing returns our operations with their status, filterable by type."""
        op = await l360_client.submit_courses(integration.id, [course(1)])
        await l360_client.wait_for_operation(op.id)
        listed = [o async for o in l360_client.list_operations(type="importExternalCourses")]
        assert [(o.id, o.status) for o in listed] == [(op.id, "completed")]


class TestTypedResults:
    async def test_course_results_keyed_by_external_id(
        self, l360_client, l360_sandbox, integration
    ):
        """Each externalId sent gets the 360Learning course id of the course it became."""
        sent = ["10", "11", "12"]
        op = await l360_client.submit_courses(integration.id, [course(int(i)) for i in sent])
        await l360_client.wait_for_operation(op.id)
        outcome = await l360_client.get_course_results(op.id, sent)
        assert outcome.complete
        assert [item.key for item in outcome] == sent
        for external_id in sent:
            course_id = outcome[external_id].resource_id
            assert l360_sandbox.world.courses[course_id].external_id == external_id
        assert op.id not in l360_client._sent_keys

    async def test_archive_of_unknown_course_is_an_unknown_course(self, l360_client, integration):
        """Archiving an externalId 360Learning never had fails as an unknown course."""
        op = await l360_client.submit_archive(integration.id, ["404"])
        await l360_client.wait_for_operation(op.id)
        outcome = await l360_client.get_course_results(op.id, ["404"])
        error = outcome["404"].error
        assert error is not None
        assert error.kind is ItemErrorKind.UNKNOWN_COURSE

    async def test_statistic_results_keyed_and_classified(
        self, l360_client, l360_sandbox, integration
    ):
        """A known learner's row succeeds; an unknown learner's is classified as such."""
        op = await l360_client.submit_courses(integration.id, [course(7)])
        await l360_client.wait_for_operation(op.id)
        stats = [statistic("7", learner_email(1).upper()), statistic("7", learner_email(24))]
        sent = [statistic_key(s) for s in stats]
        stats_op = await l360_client.submit_statistics(integration.id, stats)
        await l360_client.wait_for_operation(stats_op.id)
        outcome = await l360_client.get_statistic_results(stats_op.id, sent)
        assert outcome.complete
        assert outcome[StatisticKey("7", "mail", learner_email(1))].ok
        unknown = outcome[StatisticKey("7", "mail", learner_email(24))].error
        assert unknown is not None
        assert unknown.kind is ItemErrorKind.UNKNOWN_LEARNER

    @pytest.mark.parametrize(
        ("wording", "code"),
        [
            ("User '{value}' not found.", None),
            ("No user has the mail '{value}'.", None),
            ("Learner missing.", "userNotFound"),
        ],
    )
    async def test_unknown_learner_in_every_wording(
        self, l360_client, l360_sandbox, integration, wording, code
    ):
        """However the platform words it, a known form or a code makes an unknown learner."""
        l360_sandbox.unknown_learner_error(wording, code=code)
        op = await l360_client.submit_courses(integration.id, [course(7)])
        await l360_client.wait_for_operation(op.id)
        stats = [statistic("7", learner_email(24))]
        stats_op = await l360_client.submit_statistics(integration.id, stats)
        await l360_client.wait_for_operation(stats_op.id)
        outcome = await l360_client.get_statistic_results(stats_op.id, [statistic_key(stats[0])])
        error = outcome[statistic_key(stats[0])].error
        assert error is not None
        assert (error.kind, error.code) == (ItemErrorKind.UNKNOWN_LEARNER, code)

    async def test_unpairable_results_from_the_sandbox(
        self, l360_client, l360_sandbox, integration
    ):
        """An operation whose results echo another item is reported, never trusted."""
        l360_sandbox.faults.unpairable_results("echo_other", index=0)
        op = await l360_client.submit_courses(integration.id, [course(1), course(2)])
        await l360_client.wait_for_operation(op.id)
        outcome = await l360_client.get_course_results(op.id, ["1", "2"])
        assert outcome.unpaired == (UnpairedResult(0, "other_item", expected="1", echoed="2"),)
        assert not outcome["1"].ok
        assert outcome["2"].ok


class TestUsers:
    async def test_listing_follows_pages_of_500(self, l360_client, l360_sandbox):
        """Every user is listed once, across pages of 500."""
        for i in range(300):
            l360_sandbox.add_user(f"extra{i}@example.org")
        users = [user async for user in l360_client.iter_users()]
        assert len(users) == len(l360_sandbox.world.users) > 500
        assert len({user.id for user in users}) == len(users)
        assert l360_client.call_counts["GET /api/v2/users"] == 2

    async def test_filters_by_status_and_mail(self, l360_client, l360_sandbox):
        """status and mail narrow the listing; deleted users are listed with their status."""
        l360_sandbox.delete_user(learner_email(1))
        l360_sandbox.add_user("new@example.org", status="invited")
        deleted = [u async for u in l360_client.iter_users(status="deleted")]
        assert [(u.mail, u.deleted) for u in deleted] == [(learner_email(1), True)]
        invited = [u async for u in l360_client.iter_users(mail="new@example.org")]
        assert [(u.mail, u.status, u.username) for u in invited] == [
            ("new@example.org", "invited", "new@example.org")
        ]
        assert [u async for u in l360_client.iter_users(mail=learner_email(24))] == []

    async def test_missing_users_read_scope_raises_scope_error(self, l360_client, l360_sandbox):
        """Without users:read the listing raises Learning360ScopeError naming the scope."""
        l360_sandbox.set_scopes(set(l360_sandbox.world.credential.scopes) - {"users:read"})
        with pytest.raises(Learning360ScopeError) as info:
            async for _ in l360_client.iter_users():
                pass
        assert (info.value.status, info.value.code, info.value.scope) == (
            403,
            "invalid_scope",
            "users:read",
        )


class TestChunkGuards:
    @pytest.mark.parametrize(
        ("method", "size"),
        [("submit_courses", 10_001), ("submit_archive", 1_001), ("submit_statistics", 10_001)],
    )
    async def test_oversized_chunk_refused_before_sending(
        self, l360_client, l360_sandbox, method, size
    ):
        """Chunks above the API's limits raise ValueError and send nothing."""
        item = {
            "submit_courses": course(1),
            "submit_archive": "1",
            "submit_statistics": statistic("1", learner_email(1)),
        }[method]
        with pytest.raises(ValueError, match="at most"):
            await getattr(l360_client, method)("0" * 24, [item] * size)
        assert l360_sandbox.write_count == 0
        assert l360_sandbox.requests == []

    async def test_more_than_100_course_tags_refused(self, l360_client, l360_sandbox):
        """A course takes at most 100 tags; more raise ValueError before sending."""
        with pytest.raises(ValueError, match="100"):
            await l360_client.replace_course_tags("0" * 24, ["a" * 24] * 101)
        assert l360_sandbox.requests == []


class TestTagsCoursesUsers:
    async def test_tag_lifecycle(self, l360_client, l360_sandbox, integration):
        """A created tag is listed and can be put on a course, replacing its tags."""
        op = await l360_client.submit_courses(integration.id, [course(1)])
        await l360_client.wait_for_operation(op.id)
        course_id = (await l360_client.get_external_course(integration.id, "1")).course_id
        tag = await l360_client.create_tag("Python")
        assert tag.name == "Python"
        assert not tag.is_main
        assert tag.id in [t.id async for t in l360_client.iter_tags()]
        assert await l360_client.replace_course_tags(course_id, [tag.id]) == [tag.id]
        assert [t.tag_id for t in await l360_client.get_course_tags(course_id)] == [tag.id]

    async def test_taken_tag_name(self, l360_client):
        """Creating a tag with a taken name raises the tagNameNotAvailable request error."""
        await l360_client.create_tag("Data")
        with pytest.raises(Learning360RequestError) as info:
            await l360_client.create_tag("Data")
        assert info.value.code == "tagNameNotAvailable"

    async def test_archive_and_restore_course(self, l360_client, l360_sandbox, integration):
        """set_course_archived flips the course's status both ways."""
        op = await l360_client.submit_courses(integration.id, [course(1)])
        await l360_client.wait_for_operation(op.id)
        course_id = (await l360_client.get_external_course(integration.id, "1")).course_id
        await l360_client.set_course_archived(course_id, True)
        assert l360_sandbox.world.courses[course_id].status == "archived"
        await l360_client.set_course_archived(course_id, False)
        assert l360_sandbox.world.courses[course_id].status == "published"

    async def test_users(self, l360_client, l360_sandbox):
        """Users are found by id and by mail; an unknown mail gives None."""
        owner = await l360_client.get_user(l360_sandbox.owner_id)
        assert owner.lang == "fr"
        found = await l360_client.find_user_by_mail(learner_email(3))
        assert found is not None
        assert found.mail == learner_email(3)
        assert await l360_client.find_user_by_mail(learner_email(24)) is None

    async def test_call_counts_by_template(self, l360_client, l360_sandbox):
        """Every attempt is counted under its path template, not the concrete URL."""
        await l360_client.get_user(l360_sandbox.owner_id)
        await l360_client.get_user(l360_sandbox.owner_id)
        assert dict(l360_client.call_counts) == {TOKEN: 1, "GET /api/v2/users/{userId}": 2}
