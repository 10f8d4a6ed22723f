"""Helpers for the hostile end-to-end tests: an Env with short deadlines, a slow 360Learning,
a PostgreSQL store, and Udemy records built the way the sandbox tenant builds them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Final

import httpx
import psycopg
from sqlalchemy.engine import URL
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.e2e.conftest import Env, make_env
from tests.store.conftest import pg_base_url
from udemy360._http import DEFAULT_DEADLINE, RetryPolicy
from udemy360.learning360 import Learning360Client, Learning360Credentials
from udemy360.sandbox.faults import Faults
from udemy360.sandbox.seed import learner_email
from udemy360.store import Store
from udemy360.udemy import UdemyClient, UdemyCredentials

COURSES: Final = "courses/list/"
PATHS: Final = "learning-paths/list/"
ACTIVITY: Final = "analytics/user-course-activity/"


class SlowBodies:
    """Wraps an ASGI app: answers to ``path_prefix`` go out at ``rate`` bytes per second.

    The status goes out at once and the body follows a few bytes at a time, as from a server
    that stalls mid-response; ``times`` answers are slowed, then the app answers normally.
    """

    def __init__(self, app: ASGIApp, path_prefix: str, *, rate: float, times: int) -> None:
        self.app = app
        self.path_prefix = path_prefix
        self.rate = rate
        self.times = times
        self.slowed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or self.slowed >= self.times
            or not path.startswith(self.path_prefix)
        ):
            await self.app(scope, receive, send)
            return
        self.slowed += 1
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"content-length"]
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        slow = Faults().trickled(bytes(body), self.rate)
        response = StreamingResponse(slow, status)
        response.raw_headers = [*headers, *response.raw_headers]
        await response(scope, receive, send)


@dataclass
class HostileEnv(Env):
    """An Env whose clients take a deadline, a number of attempts and a Udemy page size, and
    whose 360Learning app can be wrapped (``lms_app``), e.g. in ``SlowBodies``."""

    deadline: float = DEFAULT_DEADLINE
    max_attempts: int = 6
    page_size: int = 100
    lms_app: ASGIApp | None = field(default=None)

    def udemy_client(self) -> UdemyClient:
        creds = UdemyCredentials(
            **self.udemy_sb.credentials_dict(), base_url=self.udemy_sb.base_url(self.udemy_root)
        )
        transport = httpx.ASGITransport(app=self.udemy_sb.app) if self.use_asgi else None
        retry = RetryPolicy(max_attempts=self.max_attempts, base_delay=0.01, sleep=self.time.sleep)
        return UdemyClient(
            creds,
            transport=transport,
            retry=retry,
            deadline=self.deadline,
            page_size=self.page_size,
        )

    def lms_client(self) -> Learning360Client:
        creds = Learning360Credentials(
            client_id=self.lms.client_id,
            client_secret=self.lms.client_secret,
            base_url=self.lms_root,
        )
        app = self.lms_app or self.lms.app
        transport = httpx.ASGITransport(app=app) if self.use_asgi else None
        retry = RetryPolicy(
            max_attempts=self.max_attempts, base_delay=0.5, max_delay=5, sleep=self.time.sleep
        )
        return Learning360Client(
            creds,
            transport=transport,
            retry=retry,
            clock=self.time.clock,
            sleep=self.time.sleep,
            poll_interval=0.05,
            deadline=self.deadline,
        )


async def make_hostile_env(
    *,
    store_url: str | None = None,
    deadline: float = DEFAULT_DEADLINE,
    attempts: int = 6,
    page_size: int = 100,
    courses: int = 0,
    learning_paths: int = 0,
    learners: int = 50,
    activity_rows: int = 0,
    http: bool = False,
    **options: object,
) -> HostileEnv:
    """``make_env`` with the clients' deadline, attempts and Udemy page size, on ``store_url``
    if given (else SQLite).

    By default the Udemy tenant is empty: tests serve raw records through the fault plan.
    """
    env = await make_env(
        courses=courses,
        learning_paths=learning_paths,
        learners=learners,
        activity_rows=activity_rows,
        http=http,
        **options,
    )
    base = {f.name: getattr(env, f.name) for f in fields(Env)}
    hostile = HostileEnv(**base, deadline=deadline, max_attempts=attempts, page_size=page_size)
    if store_url is not None:
        hostile.store.close()
        hostile.store = Store.open(store_url)
        hostile.store.connections.ensure("acme", udemy_account="acme", group_id=env.lms.group_id)
        hostile.store.connections.set_integration("acme", env.options.integration_id)
    return hostile


# -- PostgreSQL ---------------------------------------------------------------------------------


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A brand-new PostgreSQL schema on the test server, dropped on exit; yields a store URL.

    Skips the test when the server is unreachable (see tests/store/conftest.py).
    """
    base = pg_base_url()
    schema = f"udemy360_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(_dsn(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- records ------------------------------------------------------------------------------------

ORIGIN: Final = "https://acme.udemy.com"


def course_record(course_id: int, **fields: object) -> dict[str, object]:
    """A course as ``courses/list/`` sends it (the tenant's shape), with ``fields`` applied."""
    slug = f"course-{course_id}"
    record: dict[str, object] = {
        "_class": "course",
        "id": course_id,
        "title": f"Course {course_id}",
        "headline": "Everything about it",
        "description": f"<p><strong>Course</strong> {course_id}.</p>",
        "url": f"{ORIGIN}/course/{slug}/",
        "estimated_content_length": 90,
        "categories": ["Data Science"],
        "primary_category": {"_class": "course_category", "id": 288, "title": "Development"},
        "primary_subcategory": {"_class": "course_subcategory", "id": 558, "title": "Data Science"},
        "topics": [{"_class": "course_label", "id": 7380, "title": "Python", "url": "/topic/1/"}],
        "instructors": ["Jane Doe"],
        "promo_video_url": [],
        "images": {
            "size_750x422": f"https://img-c.udemycdn.com/course/750x422/{course_id}_a.jpg",
            "size_240x135": f"https://img-c.udemycdn.com/course/240x135/{course_id}_a.jpg",
        },
        "locale": {"_class": "locale", "locale": "en_US"},
        "level": "Beginner",
        "last_update_date": "2025-11-03",
        "mobile_native_deeplink": f"udemyufb://discover?coursePublishedTitle={slug}",
    }
    record.update(fields)
    return record


def activity_record(learner: int | str, course_id: object, **fields: object) -> dict[str, object]:
    """An activity row as ``analytics/user-course-activity/`` sends it, with ``fields`` applied.

    ``learner`` is a sandbox learner index (both sandboxes know ``learner_email(index)``) or an
    email as Udemy would send it.
    """
    mail = learner_email(learner) if isinstance(learner, int) else learner
    record: dict[str, object] = {
        "user_name": "Ada",
        "user_surname": "Lovelace",
        "user_email": mail,
        "user_role": "student",
        "user_external_id": None,
        "lms_user_id": None,
        "user_is_deactivated": False,
        "course_id": course_id,
        "course_title": f"Course {course_id}",
        "course_category": "Development",
        "course_duration": 90.0,
        "completion_ratio": 40.0,
        "num_video_consumed_minutes": 12.5,
        "course_enroll_date": "2026-02-20T09:00:00Z",
        "course_start_date": "2026-02-21T10:00:00.123Z",
        "course_completion_date": None,
        "course_first_completion_date": None,
        "course_last_accessed_date": "2026-03-01T18:30:00Z",
        "last_activity_date": "2026-03-01",
        "is_assigned": False,
        "assigned_by": None,
    }
    record.update(fields)
    return record
